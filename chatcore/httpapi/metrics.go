package httpapi

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/chatcore"
)

// Metrics are the chat node's Prometheus collectors. They are registered
// once per registry: NewMetrics on a registry that already has them returns
// collectors bound to the registered ones, so MetricsHooks(reg) and
// New(Config{Registry: reg}) share them.
type Metrics struct {
	wsConnections  prometheus.Gauge
	messagesStored prometheus.Counter
	fanoutLatency  prometheus.Histogram
	storeLatency   prometheus.Histogram
	slowConsumers  prometheus.Counter
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
}

// NewMetrics registers Parley's chat metrics with reg (or reuses those
// already registered there).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{}
	var err error
	if m.wsConnections, err = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_ws_connections",
		Help: "WebSocket connections open on this node.",
	})); err != nil {
		return nil, err
	}
	if m.messagesStored, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_messages_stored_total",
		Help: "Messages stored by this node (retries deduplicated by client_id are not counted).",
	})); err != nil {
		return nil, err
	}
	if m.storeLatency, err = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_message_store_seconds",
		Help:    "Time a send spends storing its message: waiting for its group-commit batch, and the batch's transaction up to the commit.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})); err != nil {
		return nil, err
	}
	if m.fanoutLatency, err = register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_fanout_latency_seconds",
		Help:    "Time from publishing an event on the bus to queueing it for a local socket.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})); err != nil {
		return nil, err
	}
	if m.slowConsumers, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_ws_slow_consumers_total",
		Help: "Sockets closed because they did not keep up with their frames.",
	})); err != nil {
		return nil, err
	}
	if m.httpRequests, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})); err != nil {
		return nil, err
	}
	if m.httpDuration, err = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_http_request_duration_seconds",
		Help:    "HTTP request duration by route pattern (WebSocket sessions excluded).",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector of the same description
// that reg already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, err
	}
	return c, nil
}

// Hooks returns the callbacks chatcore.ServiceConfig.Hooks takes.
func (m *Metrics) Hooks() chatcore.Hooks {
	return chatcore.Hooks{
		MessageStored: m.messagesStored.Inc,
		StoreLatency:  func(d time.Duration) { m.storeLatency.Observe(d.Seconds()) },
		FanoutLatency: func(d time.Duration) { m.fanoutLatency.Observe(d.Seconds()) },
		SlowConsumer:  m.slowConsumers.Inc,
	}
}

// MetricsHooks registers the chat metrics with reg and returns the hooks to
// put in chatcore.ServiceConfig. Pass the same reg as Config.Registry. It
// panics only if reg holds a different collector under one of Parley's
// metric names.
func MetricsHooks(reg *prometheus.Registry) chatcore.Hooks {
	m, err := NewMetrics(reg)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	return m.Hooks()
}

func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	})
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := []byte(s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(bearerToken(r)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeCodeError(w, chatcore.EUnauthorized, "metrics need the metrics bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote. It unwraps to the
// real writer so WebSocket upgrades (Hijack) and flushes still work.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts and times every request by its route pattern, and turns
// a handler panic into a logged 500.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = withRequestID(r)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "handler panic",
					slog.String("request_id", requestID(r.Context())),
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("panic", p))
				if rec.status == 0 {
					writeCodeError(rec, chatcore.EInternal, "internal error")
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			noteRoute(r.Context(), route)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			if status != http.StatusSwitchingProtocols {
				s.metrics.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
