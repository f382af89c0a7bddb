package workers

import (
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
)

// Job outcomes as the parley_media_jobs_total metric counts them.
const (
	outcomeReady   = "ready"   // processed and recorded
	outcomeRetry   = "retry"   // failed, asynq will try again
	outcomeFailed  = "failed"  // failed for good; the attachment shows it
	outcomeSkipped = "skipped" // nothing to do: already ready, gone, bad payload
)

// Metrics are the worker's Prometheus metrics: jobs by kind and outcome,
// and processing time by kind.
type Metrics struct {
	jobs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates the worker metrics and registers them on reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "parley", Subsystem: "media", Name: "jobs_total",
			Help: "Media task attempts by attachment kind and outcome (ready, retry, failed, skipped).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "parley", Subsystem: "media", Name: "processing_seconds",
			Help:    "Time from a task's start to its attachment being recorded ready (a video: with its poster, before the playback variant), by kind.",
			Buckets: []float64{0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
	}
	if reg != nil {
		m.jobs = reuse(reg, m.jobs)
		m.duration = reuse(reg, m.duration)
	}
	return m
}

// reuse registers c on reg, or returns the equal collector registered
// before (two Servers in one process share their counters). It panics on
// any other registration error, like MustRegister.
func reuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(C); ok {
			return old
		}
	}
	panic(err)
}

func (m *Metrics) job(kind chatcore.AttachmentKind, outcome string) {
	m.jobs.WithLabelValues(string(kind), outcome).Inc()
}

func (m *Metrics) observe(kind chatcore.AttachmentKind, d time.Duration) {
	m.duration.WithLabelValues(string(kind)).Observe(d.Seconds())
}

// QueueCollector exports the depth of each media queue by task state and
// the queue latency (age of its oldest pending task), read from Redis at
// scrape time: what an autoscaler (HPA, KEDA) scales workers on.
type QueueCollector struct {
	inspector *asynq.Inspector
	queues    []string
	depth     *prometheus.Desc
	latency   *prometheus.Desc
	up        *prometheus.Desc
}

var _ prometheus.Collector = (*QueueCollector)(nil)

// NewQueueCollector returns a collector over the media queues (all of them
// if queues is empty). Close it to release its Redis connection.
func NewQueueCollector(redis asynq.RedisConnOpt, queues ...string) *QueueCollector {
	if len(queues) == 0 {
		queues = AllQueues()
	}
	return &QueueCollector{
		inspector: asynq.NewInspector(redis),
		queues:    queues,
		depth: prometheus.NewDesc("parley_media_queue_depth",
			"Tasks in a media queue by state (pending, active, scheduled, retry, archived).",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("parley_media_queue_latency_seconds",
			"Age of the oldest pending task of a media queue (0 when empty).",
			[]string{"queue"}, nil),
		up: prometheus.NewDesc("parley_media_queue_up",
			"1 if the queue's state could be read from Redis at scrape time.",
			[]string{"queue"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.latency
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	// GetQueueInfo does not wrap ErrQueueNotFound; a queue that never saw a
	// task simply is not in the list yet.
	existing, listErr := c.inspector.Queues()
	exists := map[string]bool{}
	for _, q := range existing {
		exists[q] = true
	}
	for _, q := range c.queues {
		info, err := &asynq.QueueInfo{Queue: q}, listErr
		if err == nil && exists[q] {
			info, err = c.inspector.GetQueueInfo(q)
		}
		if err != nil {
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, q)
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, q)
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived,
		} {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
}

// Close releases the collector's Redis connection.
func (c *QueueCollector) Close() error { return c.inspector.Close() }
