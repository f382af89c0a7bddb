package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// ingressMatches reports whether an Ingress path routes a request path,
// as Kubernetes defines pathType: Exact is the whole path, Prefix matches
// whole path elements (/assets matches /assets/x, not /assetsx).
func ingressMatches(p networkingv1.HTTPIngressPath, path string) bool {
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return p.Path == path
	}
	prefix := strings.TrimSuffix(p.Path, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/") || prefix == ""
}

// routed returns the Service an Ingress sends path to, "" when none.
func routed(in *networkingv1.Ingress, path string) string {
	for _, rule := range in.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			if ingressMatches(p, path) {
				return p.Backend.Service.Name
			}
		}
	}
	return ""
}

// TestIngressRoutesWebClient: with the web client on (the default), the
// Ingress sends the page and its assets to the chat nodes, which are told
// to serve them (PARLEY_WEB=true), while /metrics stays inside; with it off
// neither is routed nor served.
func TestIngressRoutesWebClient(t *testing.T) {
	for _, tc := range []struct {
		name, values string
		web          bool
	}{
		{"web on", "ingress: {enabled: true}\n", true},
		{"web off", "ingress: {enabled: true}\nweb: {enabled: false}\n", false},
		{"plain manifests", "", true}, // deploy/k8s/values.yaml below
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			if tc.values == "" {
				out = helmTemplate(t, "", "-f", filepath.Join(repoRoot(t), "deploy", "k8s", "values.yaml"))
			} else {
				out = helmTemplate(t, tc.values)
			}
			r := decodeStrict(t, out)
			if len(r.ingresses) != 1 {
				t.Fatalf("ingresses: got %d, want 1", len(r.ingresses))
			}
			in := r.ingresses[0]
			for _, path := range []string{"/v1/ws", "/v1/conversations", "/openapi.json", "/admin/"} {
				if routed(in, path) != "parley-chat" {
					t.Errorf("%s: routed to %q, want parley-chat", path, routed(in, path))
				}
			}
			for _, path := range []string{"/metrics", "/healthz", "/assetsx"} {
				if got := routed(in, path); got != "" {
					t.Errorf("%s: routed to %q, want not routed", path, got)
				}
			}
			for _, path := range []string{"/", "/assets/main-BLYOGOJD.js", "/assets/style-O524JIN2.css"} {
				if got := routed(in, path); (got == "parley-chat") != tc.web {
					t.Errorf("%s: routed to %q, want routed to parley-chat: %v", path, got, tc.web)
				}
			}
			web := ""
			for _, cm := range r.configMaps {
				if strings.HasSuffix(cm.Name, "-config") {
					web = cm.Data["PARLEY_WEB"]
				}
			}
			if (web == "true") != tc.web {
				t.Errorf("PARLEY_WEB = %q with web %v", web, tc.web)
			}
		})
	}
}

// TestDockerfileBuildsWebClient reads deploy/Dockerfile (CI has no Docker
// daemon): a Node stage installs web/ from its lockfile and builds it, the
// Go stage copies web/dist in before go build embeds it, and the build
// context leaves the host's node_modules and built files out.
func TestDockerfileBuildsWebClient(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	type stage struct {
		from, name string
		lines      []string
	}
	var stages []*stage
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if f := strings.Fields(l); strings.EqualFold(f[0], "FROM") {
			st := &stage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", l)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, l)
	}
	index := func(st *stage, re string) int {
		for i, l := range st.lines {
			if regexp.MustCompile(re).MatchString(l) {
				return i
			}
		}
		return -1
	}
	var node, gob *stage
	for _, st := range stages {
		if strings.HasPrefix(st.from, "node:") {
			node = st
		}
		if index(st, `^RUN .*go build .*\./cmd/parley`) >= 0 {
			gob = st
		}
	}
	if node == nil || node.name == "" {
		t.Fatal("no named node: stage builds the web client")
	}
	if m := regexp.MustCompile(`^node:(\d+)`).FindStringSubmatch(node.from); m == nil {
		t.Errorf("node image %q has no major version", node.from)
	} else if v, _ := strconv.Atoi(m[1]); v < 20 {
		t.Errorf("node image %q is older than web/package.json's engines (>=20)", node.from)
	}
	ci, build := index(node, `^RUN npm ci\b`), index(node, `^RUN npm run build\b`)
	if ci < 0 || build < ci || index(node, `^COPY web/package-lock\.json|^COPY .*web/package-lock\.json`) < 0 {
		t.Errorf("node stage: want npm ci from web/package-lock.json, then npm run build; got %q", node.lines)
	}
	if index(node, `^COPY docs/openapi\.json`) < 0 {
		t.Errorf("node stage does not copy docs/openapi.json (the SDK generates its types from it)")
	}
	if gob == nil {
		t.Fatal("no stage runs go build ./cmd/parley")
	}
	cp := index(gob, `^COPY --from=`+regexp.QuoteMeta(node.name)+` \S*web/dist/? web/dist/?$`)
	if cp < 0 || cp > index(gob, `^RUN .*go build`) {
		t.Errorf("go build stage: want COPY --from=%s …/web/dist web/dist before go build; got %q", node.name, gob.lines)
	}

	ig, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v (the host's web/node_modules would overwrite the image's)", err)
	}
	for _, want := range []string{"**/node_modules", "web/dist/*", "!web/dist/README.md"} {
		if !strings.Contains("\n"+string(ig)+"\n", "\n"+want+"\n") {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
