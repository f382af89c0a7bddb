package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
)

// pushMetrics is chatcore.PushMetrics on Prometheus:
// parley_pushes_total{provider,kind,outcome} and
// parley_push_provider_latency_seconds{provider}.
type pushMetrics struct {
	pushes  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newPushMetrics(reg prometheus.Registerer) chatcore.PushMetrics {
	m := &pushMetrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_pushes_total",
			Help: "Device pushes by provider (apns, fcm, gorush), kind (message, update) and outcome (sent, dead, retry, failed, dropped).",
		}, []string{"provider", "kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_push_provider_latency_seconds",
			Help:    "Time one push request to a provider took, whatever its outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider"}),
	}
	if reg != nil {
		reg.MustRegister(m.pushes, m.latency)
	}
	return m
}

func (m *pushMetrics) Pushed(provider, kind, outcome string) {
	m.pushes.WithLabelValues(provider, kind, outcome).Inc()
}

func (m *pushMetrics) ProviderLatency(provider string, d time.Duration) {
	m.latency.WithLabelValues(provider).Observe(d.Seconds())
}

// deviceCollector reports parley_devices{platform} from the database at
// each scrape (one GROUP BY over a small table).
type deviceCollector struct {
	store chatcore.DeviceStore
	desc  *prometheus.Desc
}

func newDeviceCollector(s chatcore.DeviceStore) prometheus.Collector {
	return &deviceCollector{store: s, desc: prometheus.NewDesc("parley_devices",
		"Registered push devices by platform (apns, fcm), all nodes together.", []string{"platform"}, nil)}
}

func (c *deviceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *deviceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.CountDevices(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, p := range []string{chatcore.PlatformAPNs, chatcore.PlatformFCM} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[p]), p)
	}
}
