package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type rulesFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func monitoringFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), "deploy", "monitoring", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// promtoolCheck runs `promtool check rules` on a rules file.
func promtoolCheck(tb testing.TB, path string) {
	tb.Helper()
	run(tb, filepath.Dir(path), tool(tb, "promtool"), "check", "rules", path)
}

func TestAlertRules(t *testing.T) {
	path := filepath.Join(repoRoot(t), "deploy", "monitoring", "parley-alerts.yaml")
	promtoolCheck(t, path)

	var rf rulesFile
	if err := yaml.UnmarshalStrict(monitoringFile(t, "parley-alerts.yaml"), &rf); err != nil {
		t.Fatalf("parley-alerts.yaml: %v", err)
	}
	known, rts := exportedMetrics(t), routes(t)
	covered := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			used, err := checkExpr(known, rts, r.Expr)
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
			}
			for _, m := range used {
				covered[m] = true
			}
			if r.Alert == "" || !strings.HasPrefix(r.Alert, "Parley") {
				t.Errorf("rule %q: want an alert named Parley…", r.Alert)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: want a summary and a description", r.Alert)
			}
		}
	}
	// What the issue asks to alert on: queue latency, archived jobs rising,
	// 5xx rate, readiness failing, slow consumers.
	for _, m := range []string{"parley_media_queue_latency_seconds", "parley_media_queue_depth", "parley_http_requests_total", "parley_ws_slow_consumers_total"} {
		if !covered[m] {
			t.Errorf("no alert uses %s", m)
		}
	}
	alerts := ""
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts += r.Expr + "\n"
		}
	}
	for _, want := range []string{`state="archived"`, `code=~"5..`, `route="GET /readyz"`} {
		if !strings.Contains(alerts, want) {
			t.Errorf("no alert expression contains %s", want)
		}
	}
}

func TestDashboard(t *testing.T) {
	var d dashboard
	if err := json.Unmarshal(monitoringFile(t, "parley-dashboard.json"), &d); err != nil {
		t.Fatalf("parley-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard: title %q uid %q, want both", d.Title, d.UID)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}) bool {
		return v.Name == "datasource" && v.Type == "datasource"
	}) {
		t.Error("dashboard: want a datasource variable so it imports into any Grafana")
	}
	known, rts := exportedMetrics(t), routes(t)
	covered := map[string]bool{}
	var exprs []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q: no queries", p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: datasource must be ${datasource}", p.Title)
			}
			for _, tg := range p.Targets {
				used, err := checkExpr(known, rts, tg.Expr)
				if err != nil {
					t.Errorf("panel %q query %s: %v", p.Title, tg.RefID, err)
				}
				for _, m := range used {
					covered[m] = true
				}
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	walk(d.Panels)
	// What the issue asks to show: messages/s, fan-out latency, sockets, HTTP
	// by route and code, queue depth and latency per kind, job outcomes and
	// durations, pushes.
	for _, m := range []string{
		"parley_messages_stored_total", "parley_fanout_latency_seconds", "parley_ws_connections",
		"parley_http_requests_total", "parley_media_queue_depth", "parley_media_queue_latency_seconds",
		"parley_media_jobs_total", "parley_media_processing_seconds", "parley_push_webhooks_total",
	} {
		if !covered[m] {
			t.Errorf("no dashboard panel shows %s", m)
		}
	}

	// promtool checks the syntax of the panels' PromQL too, as recording
	// rules with Grafana's interval variables replaced.
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		e = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h").Replace(e)
		if strings.Contains(e, "$") {
			t.Errorf("query %q: unknown Grafana variable", e)
		}
		q, _ := json.Marshal(e)
		fmt.Fprintf(&rules, "      - record: parley:dashboard:query_%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, path)
}
