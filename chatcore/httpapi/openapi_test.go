package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/docs"
)

// TestOpenAPIMatchesRoutes fails when docs/openapi.json and the route table
// drift apart: every route must be documented and every documented
// operation must be served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}

	// The route table needs no working service.
	s, err := New(newFakeChat().config())
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{} // "get /v1/me"
	for _, rt := range s.routes {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok { // no method: every method; documented as GET
			method, path = "GET", rt.pattern
		}
		key := strings.ToLower(method) + " " + path
		served[key] = true
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %q: path %s is missing from docs/openapi.json", rt.pattern, path)
			continue
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("route %q: %s %s is missing from docs/openapi.json", rt.pattern, method, path)
		}
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !slices.Contains(methods, m) {
				continue
			}
			if !served[m+" "+path] {
				t.Errorf("docs/openapi.json documents %s %s, which no route serves", strings.ToUpper(m), path)
			}
		}
	}

	// Every $ref resolves.
	var refs []string
	collectRefs(t, docs.OpenAPI, &refs)
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			t.Errorf("unexpected $ref %q", ref)
			continue
		}
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

func collectRefs(t *testing.T, raw []byte, refs *[]string) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "$ref" {
					*refs = append(*refs, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
}

// TestRoutesServeDocumentedStatus spot-checks that /openapi.json is the
// embedded document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.must(http.StatusOK, "GET", "/openapi.json", "", nil, nil)
	if string(r.body) != string(docs.OpenAPI) {
		t.Error("/openapi.json differs from docs.OpenAPI")
	}
}
