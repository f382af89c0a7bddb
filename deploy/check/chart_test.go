package check

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// kubeVersion is what `helm template` renders for (a go-installed helm
// defaults to v1.20, below the chart's kubeVersion).
const kubeVersion = "1.31.0"

// ScaledObject mirrors KEDA's keda.sh/v1alpha1 ScaledObject (KEDA's Go
// module is too heavy to import for one type); unknown fields still fail.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval       *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod        *int32 `json:"cooldownPeriod,omitempty"`
		InitialCooldownPeriod *int32 `json:"initialCooldownPeriod,omitempty"`
		IdleReplicaCount      *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount       *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount       *int32 `json:"maxReplicaCount,omitempty"`
		Triggers              []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			MetricType        string            `json:"metricType,omitempty"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

// rendered is one `helm template` output, decoded.
type rendered struct {
	deployments  []*appsv1.Deployment
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	jobs         []*batchv1.Job
	pdbs         []*policyv1.PodDisruptionBudget
	ingresses    []*networkingv1.Ingress
	monitors     []*monitoringv1.ServiceMonitor
	rules        []*monitoringv1.PrometheusRule
	scaledObject []*ScaledObject
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeStrict decodes every YAML document into its Kubernetes API type,
// refusing unknown kinds, unknown fields and duplicate keys.
func decodeStrict(tb testing.TB, manifests []byte) *rendered {
	tb.Helper()
	r := &rendered{}
	for i, doc := range docSep.Split(string(manifests), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			tb.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var obj any
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			o := &appsv1.Deployment{}
			r.deployments, obj = append(r.deployments, o), o
		case "v1/Service":
			o := &corev1.Service{}
			r.services, obj = append(r.services, o), o
		case "v1/ConfigMap":
			o := &corev1.ConfigMap{}
			r.configMaps, obj = append(r.configMaps, o), o
		case "batch/v1/Job":
			o := &batchv1.Job{}
			r.jobs, obj = append(r.jobs, o), o
		case "policy/v1/PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			r.pdbs, obj = append(r.pdbs, o), o
		case "networking.k8s.io/v1/Ingress":
			o := &networkingv1.Ingress{}
			r.ingresses, obj = append(r.ingresses, o), o
		case "monitoring.coreos.com/v1/ServiceMonitor":
			o := &monitoringv1.ServiceMonitor{}
			r.monitors, obj = append(r.monitors, o), o
		case "monitoring.coreos.com/v1/PrometheusRule":
			o := &monitoringv1.PrometheusRule{}
			r.rules, obj = append(r.rules, o), o
		case "keda.sh/v1alpha1/ScaledObject":
			o := &ScaledObject{}
			r.scaledObject, obj = append(r.scaledObject, o), o
		default:
			tb.Fatalf("document %d: unexpected kind %s %s (add it to decodeStrict)", i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			tb.Fatalf("document %d (%s): strict decode: %v\n%s", i, tm.Kind, err, doc)
		}
	}
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func chartDir(tb testing.TB) string { return filepath.Join(repoRoot(tb), "deploy", "helm", "parley") }

func helmTemplate(tb testing.TB, valuesYAML string, extra ...string) []byte {
	tb.Helper()
	args := []string{"template", "parley", chartDir(tb), "--namespace", "parley", "--kube-version", kubeVersion}
	if valuesYAML != "" {
		f := filepath.Join(tb.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(valuesYAML), 0o644); err != nil {
			tb.Fatal(err)
		}
		args = append(args, "-f", f)
	}
	return run(tb, repoRoot(tb), tool(tb, "helm"), append(args, extra...)...)
}

func TestChartLint(t *testing.T) {
	helm := tool(t, "helm")
	run(t, repoRoot(t), helm, "lint", "--strict", "--kube-version", kubeVersion, chartDir(t))
	run(t, repoRoot(t), helm, "lint", "--strict", "--kube-version", kubeVersion, chartDir(t), "-f", filepath.Join(repoRoot(t), "deploy", "k8s", "values.yaml"))
}

const allOn = `
imagePullSecrets: [regcred]
worker: {concurrency: 4, queues: "voice=6,image=4,file=2,video=1", podAnnotations: {team: media}, nodeSelector: {pool: media}}
chat: {podAnnotations: {team: chat}, tolerations: [{key: dedicated, operator: Equal, value: chat, effect: NoSchedule}]}
keda: {enabled: true}
ingress: {enabled: true, host: chat.example.org, tlsSecretName: chat-tls}
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
prometheusRule: {enabled: true}
grafanaDashboard: {enabled: true}
`

const allOff = `
migrations: {enabled: false}
chat: {podDisruptionBudget: {enabled: false}, topologySpread: [], preStopSleepSeconds: 0}
worker: {podDisruptionBudget: {enabled: false}, topologySpread: []}
secrets: {pushWebhookUrlKey: "", adminPasswordKey: ""}
`

func TestChartRendersValidObjects(t *testing.T) {
	for _, tc := range []struct {
		name, values string
	}{
		{"defaults", ""},
		{"everything on", allOn},
		{"everything off", allOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := decodeStrict(t, helmTemplate(t, tc.values))
			checkRendered(t, r, tc.values == allOff)
		})
	}
}

// checkRendered checks what makes the objects work together, beyond their
// schema: selectors that select, ports that exist, secrets by reference,
// probes and resources on every container, budgets for every Deployment.
func checkRendered(t *testing.T, r *rendered, off bool) {
	t.Helper()
	if len(r.deployments) != 2 {
		t.Fatalf("deployments: got %d, want chat and worker", len(r.deployments))
	}
	var cfgKeys []string
	for _, cm := range r.configMaps {
		if strings.HasSuffix(cm.Name, "-config") {
			cfgKeys = keys(cm.Data)
		}
	}
	for _, d := range r.deployments {
		tpl := d.Spec.Template
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(tpl.Labels)) {
			t.Errorf("%s: selector %v does not match the pod labels %v", d.Name, d.Spec.Selector, tpl.Labels)
		}
		if !off && len(tpl.Spec.TopologySpreadConstraints) == 0 {
			t.Errorf("%s: no topology spread constraints", d.Name)
		}
		for _, c := range tpl.Spec.TopologySpreadConstraints {
			s, _ := metav1.LabelSelectorAsSelector(c.LabelSelector)
			if !s.Matches(labels.Set(tpl.Labels)) {
				t.Errorf("%s: topology spread on %s does not select its own pods", d.Name, c.TopologyKey)
			}
		}
		for _, c := range tpl.Spec.Containers {
			checkContainer(t, d.Name, c, tpl.Spec.Volumes, cfgKeys)
		}
		if !off && !slices.ContainsFunc(r.pdbs, func(p *policyv1.PodDisruptionBudget) bool {
			s, _ := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			return s.Matches(labels.Set(tpl.Labels))
		}) {
			t.Errorf("%s: no PodDisruptionBudget selects its pods", d.Name)
		}
		grace := int64(30)
		if tpl.Spec.TerminationGracePeriodSeconds != nil {
			grace = *tpl.Spec.TerminationGracePeriodSeconds
		}
		for _, e := range tpl.Spec.Containers[0].Env {
			if e.Name == "PARLEY_SHUTDOWN_TIMEOUT" {
				if !durationBelow(e.Value, grace) {
					t.Errorf("%s: shutdown timeout %s is not below the grace period %ds", d.Name, e.Value, grace)
				}
			}
		}
	}
	for _, s := range r.services {
		var pods *corev1.PodTemplateSpec
		for _, d := range r.deployments {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				pods = &d.Spec.Template
			}
		}
		if pods == nil {
			t.Errorf("service %s selects no Deployment's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !hasPort(pods.Spec.Containers, p.TargetPort.String()) {
				t.Errorf("service %s: target port %s is not a container port", s.Name, p.TargetPort.String())
			}
		}
	}
	for _, p := range r.pdbs {
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			t.Errorf("pdb %s: want exactly one of minAvailable and maxUnavailable", p.Name)
		}
	}
	if off {
		if len(r.jobs) != 0 {
			t.Errorf("migrations disabled: got %d jobs", len(r.jobs))
		}
		checkAutoMigrate(t, r, "true")
	} else {
		if len(r.jobs) != 1 {
			t.Fatalf("jobs: got %d, want the migration hook", len(r.jobs))
		}
		j := r.jobs[0]
		if got := j.Annotations["helm.sh/hook"]; got != "pre-install,pre-upgrade" {
			t.Errorf("migration job hook: got %q, want pre-install,pre-upgrade", got)
		}
		c := j.Spec.Template.Spec.Containers[0]
		if !slices.Equal(c.Args, []string{"migrate"}) || len(c.EnvFrom) != 0 {
			t.Errorf("migration job: args %v envFrom %v, want [migrate] and no ConfigMap (hooks run before it exists)", c.Args, c.EnvFrom)
		}
		checkContainer(t, j.Name, c, nil, nil)
		checkAutoMigrate(t, r, "false")
	}
	for _, so := range r.scaledObject {
		var worker *appsv1.Deployment
		for _, d := range r.deployments {
			if d.Name == so.Spec.ScaleTargetRef.Name {
				worker = d
			}
		}
		if worker == nil || !strings.HasSuffix(worker.Name, "-worker") {
			t.Errorf("scaledobject %s: target %q is not the worker Deployment", so.Name, so.Spec.ScaleTargetRef.Name)
		} else if worker.Spec.Replicas != nil {
			t.Errorf("worker Deployment sets replicas while KEDA scales it: every upgrade would reset the count")
		}
		for _, tr := range so.Spec.Triggers {
			if _, err := checkExpr(exportedMetrics(t), routes(t), tr.Metadata["query"]); err != nil {
				t.Errorf("scaledobject query: %v", err)
			}
			if _, err := strconv.Atoi(tr.Metadata["threshold"]); err != nil {
				t.Errorf("scaledobject threshold %q: %v", tr.Metadata["threshold"], err)
			}
		}
	}
	for _, in := range r.ingresses {
		for _, a := range []string{"nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout"} {
			if n, err := strconv.Atoi(in.Annotations[a]); err != nil || n < 60 {
				t.Errorf("ingress %s: %s = %q, want ≥ 60 s (WebSocket ping interval 25 s)", in.Name, a, in.Annotations[a])
			}
		}
		for _, rule := range in.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				if ingressMatches(p, "/metrics") {
					t.Errorf("ingress %s: path %s exposes /metrics", in.Name, p.Path)
				}
				if !slices.ContainsFunc(r.services, func(s *corev1.Service) bool { return s.Name == p.Backend.Service.Name }) {
					t.Errorf("ingress %s: backend %s is not a Service of the chart", in.Name, p.Backend.Service.Name)
				}
			}
		}
	}
	for _, sm := range r.monitors {
		for _, ep := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(r.services, func(s *corev1.Service) bool {
				return labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(s.Labels)) &&
					slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port })
			}) {
				t.Errorf("servicemonitor: endpoint port %q is on no selected Service", ep.Port)
			}
		}
	}
	for _, pr := range r.rules {
		var want rulesFile
		if err := yaml.Unmarshal(monitoringFile(t, "parley-alerts.yaml"), &want); err != nil {
			t.Fatal(err)
		}
		if len(pr.Spec.Groups) != len(want.Groups) {
			t.Errorf("prometheusrule: %d groups, want %d as in deploy/monitoring/parley-alerts.yaml", len(pr.Spec.Groups), len(want.Groups))
		}
		for i := range min(len(want.Groups), len(pr.Spec.Groups)) {
			if g := pr.Spec.Groups[i]; g.Name != want.Groups[i].Name || len(g.Rules) != len(want.Groups[i].Rules) {
				t.Errorf("prometheusrule group %d: %s with %d rules, want %s with %d", i, g.Name, len(g.Rules), want.Groups[i].Name, len(want.Groups[i].Rules))
			}
		}
	}
	for _, cm := range r.configMaps {
		if d, ok := cm.Data["parley.json"]; ok && !bytes.Equal([]byte(d), bytes.TrimRight(monitoringFile(t, "parley-dashboard.json"), "\n")) {
			t.Errorf("dashboard ConfigMap differs from deploy/monitoring/parley-dashboard.json: run deploy/generate.sh")
		}
	}
}

// checkContainer: probes, resources, a restricted security context and
// secrets only by reference.
func checkContainer(t *testing.T, owner string, c corev1.Container, vols []corev1.Volume, cfgKeys []string) {
	t.Helper()
	isJob := strings.HasSuffix(owner, "-migrate")
	if !isJob {
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: no HTTP %s probe", owner, name)
				continue
			}
			if !hasPort([]corev1.Container{c}, p.HTTPGet.Port.String()) {
				t.Errorf("%s: %s probe port %s is not a container port", owner, name, p.HTTPGet.Port.String())
			}
		}
		if c.ReadinessProbe != nil && strings.HasSuffix(owner, "-chat") && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe on %s, want /readyz", owner, c.ReadinessProbe.HTTPGet.Path)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: want cpu and memory requests and a memory limit, got %v", owner, c.Resources)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: want runAsNonRoot and a read-only root filesystem", owner)
	} else if !isJob && !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" }) {
		t.Errorf("%s: read-only root but no writable /tmp", owner)
	}
	for _, m := range c.VolumeMounts {
		if !slices.ContainsFunc(vols, func(v corev1.Volume) bool { return v.Name == m.Name }) {
			t.Errorf("%s: mount %s names no volume", owner, m.Name)
		}
	}
	for _, e := range c.Env {
		secret := strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "PASSWORD") || strings.Contains(e.Name, "ACCESS_KEY") ||
			strings.HasSuffix(e.Name, "DATABASE_URL") || strings.HasSuffix(e.Name, "REDIS_URL") || strings.HasSuffix(e.Name, "WEBHOOK_URL")
		if secret && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s: %s must come from a Secret by reference", owner, e.Name)
		}
	}
	for _, k := range cfgKeys {
		if strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") || strings.HasSuffix(k, "_URL") && k != "PARLEY_PUBLIC_URL" {
			t.Errorf("config %s belongs in the Secret", k)
		}
	}
}

func checkAutoMigrate(t *testing.T, r *rendered, want string) {
	t.Helper()
	for _, d := range r.deployments {
		got := ""
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "PARLEY_AUTO_MIGRATE" {
				got = e.Value
			}
		}
		if got != want {
			t.Errorf("%s: PARLEY_AUTO_MIGRATE=%q, want %q", d.Name, got, want)
		}
	}
}

func hasPort(cs []corev1.Container, port string) bool {
	for _, c := range cs {
		for _, p := range c.Ports {
			if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
				return true
			}
		}
	}
	return false
}

func durationBelow(v string, seconds int64) bool {
	var d float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(v, "s"), "%g", &d); err != nil {
		return false
	}
	return d < float64(seconds)
}

func TestChartRefusesNonParleyConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "values.yaml")
	os.WriteFile(f, []byte("config: {DATABASE_URL: x}\n"), 0o644)
	cmd := exec.Command(tool(t, "helm"), "template", "parley", chartDir(t), "--kube-version", kubeVersion, "-f", f)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "keys must be PARLEY_* settings") {
		t.Errorf("config with a non-PARLEY_ key: got err=%v\n%s\nwant a failure naming the rule", err, out)
	}
}

// TestGeneratedFilesAreCurrent: deploy/k8s/parley.yaml is exactly the
// chart rendered with deploy/k8s/values.yaml, and the chart's files/ are
// deploy/monitoring's. Run deploy/generate.sh when this fails.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	committed, err := os.ReadFile(filepath.Join(root, "deploy", "k8s", "parley.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := bytes.Cut(committed, []byte("\n---\n"))
	if !ok {
		t.Fatal("deploy/k8s/parley.yaml: no rendered documents")
	}
	want := helmTemplate(t, "", "-f", filepath.Join(root, "deploy", "k8s", "values.yaml"))
	if !bytes.Equal(append([]byte("---\n"), body...), want) {
		t.Errorf("deploy/k8s/parley.yaml is not what the chart renders: run bash deploy/generate.sh")
	}
	r := decodeStrict(t, committed)
	checkRendered(t, r, false)
	for _, f := range []string{"parley-alerts.yaml", "parley-dashboard.json"} {
		got, err := os.ReadFile(filepath.Join(chartDir(t), "files", f))
		if err != nil || !bytes.Equal(got, monitoringFile(t, f)) {
			t.Errorf("deploy/helm/parley/files/%s differs from deploy/monitoring/%s: run bash deploy/generate.sh", f, f)
		}
	}
}
