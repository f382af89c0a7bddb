package check

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// metric is one Prometheus metric Parley registers, found in its Go source.
type metric struct {
	name      string
	histogram bool
	labels    []string
	file      string
}

var (
	reOptsName   = regexp.MustCompile(`Name:\s*"(parley_[a-z0-9_]+)"`)
	reOptsNSName = regexp.MustCompile(`Namespace:\s*"parley",\s*Subsystem:\s*"([a-z0-9_]+)",\s*Name:\s*"([a-z0-9_]+)"`)
	reDesc       = regexp.MustCompile(`NewDesc\(\s*"(parley_[a-z0-9_]+)"`)
	reLabels     = regexp.MustCompile(`\[\]string\{([^}]*)\}`)
	reRoute      = regexp.MustCompile(`\{"((?:GET|POST|PUT|PATCH|DELETE|HEAD) /[^"]*)"`)
)

// exportedMetrics scans Parley's non-test Go source for metric
// registrations: client_golang Opts with a parley_ name (or namespace
// parley + subsystem + name) and NewDesc("parley_…"). Labels are the
// []string{…} that follows a registration before the next one.
func exportedMetrics(tb testing.TB) map[string]metric {
	tb.Helper()
	root := repoRoot(tb)
	out := map[string]metric{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			if path == filepath.Join(root, "deploy") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(src)
		type hit struct {
			start, end int
			name       string
		}
		var hits []hit
		for _, m := range reOptsName.FindAllStringSubmatchIndex(s, -1) {
			hits = append(hits, hit{m[0], m[1], s[m[2]:m[3]]})
		}
		for _, m := range reOptsNSName.FindAllStringSubmatchIndex(s, -1) {
			hits = append(hits, hit{m[0], m[1], "parley_" + s[m[2]:m[3]] + "_" + s[m[4]:m[5]]})
		}
		for _, m := range reDesc.FindAllStringSubmatchIndex(s, -1) {
			hits = append(hits, hit{m[0], m[1], s[m[2]:m[3]]})
		}
		sort.Slice(hits, func(i, j int) bool { return hits[i].start < hits[j].start })
		rel, _ := filepath.Rel(root, path)
		for i, h := range hits {
			end := len(s)
			if i+1 < len(hits) {
				end = hits[i+1].start
			}
			window := s[h.end:end]
			before := s[max(0, h.start-120):h.start]
			m := metric{name: h.name, file: rel, histogram: strings.Contains(before, "HistogramOpts")}
			if l := reLabels.FindStringSubmatch(window); l != nil {
				for _, part := range strings.Split(l[1], ",") {
					if part = strings.Trim(strings.TrimSpace(part), `"`); part != "" {
						m.labels = append(m.labels, part)
					}
				}
			}
			out[h.name] = m
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("scan Go source: %v", err)
	}
	if len(out) < 10 {
		tb.Fatalf("found only %d metrics in the Go source (%v): the scan no longer matches how metrics are registered", len(out), keys(out))
	}
	return out
}

// routes are the chat node's route patterns ("GET /readyz").
func routes(tb testing.TB) []string {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(tb), "chatcore", "httpapi", "routes.go"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, m := range reRoute.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	reMetricRef = regexp.MustCompile(`\bparley_[a-z0-9_]+\b`)
	reSelector  = regexp.MustCompile(`\b(parley_[a-z0-9_]+)\s*\{([^}]*)\}`)
	reMatcher   = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	reGrouping  = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// Labels Prometheus adds to every scraped series, and le of histogram buckets.
var targetLabels = []string{"instance", "job", "namespace", "pod", "service", "container", "endpoint"}

// checkExpr checks that a PromQL expression names at least one metric, only
// metrics Parley exports (histograms as _bucket/_sum/_count), and only
// labels those metrics have; route label values must be real routes. It
// returns the metric names it used.
func checkExpr(known map[string]metric, rts []string, expr string) ([]string, error) {
	resolve := func(ref string) (metric, bool, bool) {
		if m, ok := known[ref]; ok {
			return m, !m.histogram, false
		}
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(ref, suf); ok {
				if m, ok := known[base]; ok && m.histogram {
					return m, true, suf == "_bucket"
				}
			}
		}
		return metric{}, false, false
	}
	var used []string
	labelsInExpr := slices.Clone(targetLabels)
	for _, ref := range reMetricRef.FindAllString(expr, -1) {
		m, ok, bucket := resolve(ref)
		if !ok {
			return nil, fmt.Errorf("%s is not a metric Parley exports (known: %s)", ref, strings.Join(keys(known), ", "))
		}
		used = append(used, m.name)
		labelsInExpr = append(labelsInExpr, m.labels...)
		if bucket {
			labelsInExpr = append(labelsInExpr, "le")
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("names no Parley metric")
	}
	for _, sel := range reSelector.FindAllStringSubmatch(expr, -1) {
		m, _, bucket := resolve(sel[1])
		allowed := append(slices.Clone(targetLabels), m.labels...)
		if bucket {
			allowed = append(allowed, "le")
		}
		for _, mt := range reMatcher.FindAllStringSubmatch(sel[2], -1) {
			if !slices.Contains(allowed, mt[1]) {
				return nil, fmt.Errorf("%s has no label %q (labels: %v)", m.name, mt[1], m.labels)
			}
			if mt[1] == "route" && (mt[2] == "=" || mt[2] == "!=") && !slices.Contains(rts, mt[3]) {
				return nil, fmt.Errorf("route %q is not a route of the chat node", mt[3])
			}
		}
	}
	for _, g := range reGrouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(labelsInExpr, l) {
				return nil, fmt.Errorf("grouping by %q: no metric in the expression has that label", l)
			}
		}
	}
	return used, nil
}

func TestSourceScanFindsKnownMetrics(t *testing.T) {
	known := exportedMetrics(t)
	for name, want := range map[string]struct {
		histogram bool
		labels    []string
	}{
		"parley_http_requests_total":         {false, []string{"route", "code"}},
		"parley_fanout_latency_seconds":      {true, nil},
		"parley_media_processing_seconds":    {true, []string{"kind"}},
		"parley_media_queue_depth":           {false, []string{"queue", "state"}},
		"parley_ws_connections":              {false, nil},
		"parley_push_webhooks_total":         {false, []string{"outcome"}},
		"parley_push_webhook_retries_total":  {false, nil},
		"parley_media_queue_latency_seconds": {false, []string{"queue"}},
	} {
		got, ok := known[name]
		if !ok {
			t.Errorf("%s: not found by the source scan", name)
			continue
		}
		if got.histogram != want.histogram || !slices.Equal(got.labels, want.labels) {
			t.Errorf("%s: got histogram=%v labels=%v, want %v %v", name, got.histogram, got.labels, want.histogram, want.labels)
		}
	}
}

func TestCheckExprRejects(t *testing.T) {
	known := exportedMetrics(t)
	rts := routes(t)
	for _, expr := range []string{
		`sum(rate(parley_messages_total[5m]))`,
		`parley_ws_connections_bucket`,
		`sum(parley_media_queue_depth{status="pending"})`,
		`sum by (kind) (parley_media_queue_depth)`,
		`rate(parley_http_requests_total{route="GET /nope"}[5m])`,
		`up == 0`,
	} {
		if _, err := checkExpr(known, rts, expr); err == nil {
			t.Errorf("%s: accepted, want an error", expr)
		}
	}
}
