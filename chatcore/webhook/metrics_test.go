package webhook_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/chatcore/webhook"
)

func TestCollectorExportsStats(t *testing.T) {
	rec := &recorder{statuses: []int{500, 200}}
	srv := newServer(t, rec)
	n := webhook.New(webhook.Config{URL: srv.URL, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Logger: quiet()})
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatalf("notify: %v", err)
	}
	mustClose(t, n)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(n.Collector())
	want := `
# HELP parley_push_webhook_retries_total Push webhook attempts after the first.
# TYPE parley_push_webhook_retries_total counter
parley_push_webhook_retries_total 1
# HELP parley_push_webhooks_total Push wake-up notifications by outcome: delivered (2xx), failed (4xx or retries exhausted), dropped (queue full).
# TYPE parley_push_webhooks_total counter
parley_push_webhooks_total{outcome="delivered"} 1
parley_push_webhooks_total{outcome="dropped"} 0
parley_push_webhooks_total{outcome="failed"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
