package webhook

import "github.com/prometheus/client_golang/prometheus"

// Collector exports the Notifier's Stats as parley_push_webhooks_total by
// outcome (delivered, failed, dropped) and parley_push_webhook_retries_total.
// Register it on the chat node's registry next to the HTTP metrics.
func (n *Notifier) Collector() prometheus.Collector { return statsCollector{n} }

var (
	pushesDesc = prometheus.NewDesc("parley_push_webhooks_total",
		"Push wake-up notifications by outcome: delivered (2xx), failed (4xx or retries exhausted), dropped (queue full).",
		[]string{"outcome"}, nil)
	pushRetriesDesc = prometheus.NewDesc("parley_push_webhook_retries_total",
		"Push webhook attempts after the first.", nil, nil)
)

type statsCollector struct{ n *Notifier }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pushesDesc
	ch <- pushRetriesDesc
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.n.Stats()
	ch <- prometheus.MustNewConstMetric(pushesDesc, prometheus.CounterValue, float64(s.Delivered), "delivered")
	ch <- prometheus.MustNewConstMetric(pushesDesc, prometheus.CounterValue, float64(s.Failed), "failed")
	ch <- prometheus.MustNewConstMetric(pushesDesc, prometheus.CounterValue, float64(s.Dropped), "dropped")
	ch <- prometheus.MustNewConstMetric(pushRetriesDesc, prometheus.CounterValue, float64(s.Retries))
}
