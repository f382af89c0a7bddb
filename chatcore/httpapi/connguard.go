package httpapi

import (
	"container/list"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxUnfinishedConns is ConnLimits.MaxUnfinished when zero.
const DefaultMaxUnfinishedConns = 1024

// ConnLimits bound the connections one node holds, before any request is
// read: slow-header and slow-body floods and one address opening
// thousands of sockets.
type ConnLimits struct {
	// MaxUnfinished bounds connections that are unfinished: accepted but
	// with no complete request headers yet (new or idle keep-alive), or
	// inside a request whose body is not read to its end. Past it, the
	// OLDEST unfinished connection is closed to make room, so a flood of
	// connections that never finish cannot lock out clients that do.
	// Zero = DefaultMaxUnfinishedConns; negative = no bound.
	MaxUnfinished int
	// MaxPerIP bounds open connections (WebSockets included) per remote
	// address; past it new connections are closed at once. Zero = no cap:
	// behind a proxy every client shares the proxy's address, so set it
	// only where Parley faces clients directly.
	MaxPerIP int
}

// ConnGuard enforces ConnLimits on a listener and the http.Server that
// serves it: Listener wraps the listener, Configure installs the
// connection hooks on the server, Handler marks when a request is
// finished. Safe for concurrent use.
type ConnGuard struct {
	lim ConnLimits

	mu         sync.Mutex
	unfinished *list.List // of *guardConn, oldest first
	perIP      map[string]int
	evicted    int64 // closed to make room (tests, metrics)
	refused    int64 // closed for the per-IP cap
}

// NewConnGuard returns a guard for lim.
func NewConnGuard(lim ConnLimits) *ConnGuard {
	if lim.MaxUnfinished == 0 {
		lim.MaxUnfinished = DefaultMaxUnfinishedConns
	}
	return &ConnGuard{lim: lim, unfinished: list.New(), perIP: make(map[string]int)}
}

// guardConn is an accepted connection the guard tracks.
type guardConn struct {
	net.Conn
	g     *ConnGuard
	ip    string
	elem  *list.Element // in g.unfinished; nil when finished
	once  sync.Once
	ipped bool
}

// Close closes the connection and forgets it; safe to call twice.
func (c *guardConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		g := c.g
		g.mu.Lock()
		g.finishLocked(c)
		if c.ipped {
			if g.perIP[c.ip]--; g.perIP[c.ip] <= 0 {
				delete(g.perIP, c.ip)
			}
		}
		g.mu.Unlock()
	})
	return err
}

// Listener returns ln with the limits applied at Accept.
func (g *ConnGuard) Listener(ln net.Listener) net.Listener { return &guardListener{Listener: ln, g: g} }

type guardListener struct {
	net.Listener
	g *ConnGuard
}

func (l *guardListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if gc := l.g.admit(c); gc != nil {
			return gc, nil
		}
	}
}

// admit tracks a new connection, or closes it when its address is at the
// per-IP cap. Making room among unfinished connections closes the oldest.
func (g *ConnGuard) admit(c net.Conn) *guardConn {
	ip := ""
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	gc := &guardConn{Conn: c, g: g, ip: ip}
	var victim *guardConn
	g.mu.Lock()
	if g.lim.MaxPerIP > 0 && ip != "" {
		if g.perIP[ip] >= g.lim.MaxPerIP {
			g.refused++
			g.mu.Unlock()
			c.Close()
			return nil
		}
		g.perIP[ip]++
		gc.ipped = true
	}
	if g.lim.MaxUnfinished > 0 && g.unfinished.Len() >= g.lim.MaxUnfinished {
		victim = g.unfinished.Front().Value.(*guardConn)
		g.finishLocked(victim)
		g.evicted++
	}
	g.unfinishLocked(gc)
	g.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return gc
}

func (g *ConnGuard) unfinishLocked(c *guardConn) {
	if c.elem == nil {
		c.elem = g.unfinished.PushBack(c)
	}
}

func (g *ConnGuard) finishLocked(c *guardConn) {
	if c.elem != nil {
		g.unfinished.Remove(c.elem)
		c.elem = nil
	}
}

func (g *ConnGuard) finish(c *guardConn) {
	g.mu.Lock()
	g.finishLocked(c)
	g.mu.Unlock()
}

type guardCtxKey struct{}

// Configure installs the guard's hooks on srv (ConnContext and ConnState,
// chained after any already set). Call it before srv serves.
func (g *ConnGuard) Configure(srv *http.Server) {
	prevCtx, prevState := srv.ConnContext, srv.ConnState
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevCtx != nil {
			ctx = prevCtx(ctx, c)
		}
		if gc, ok := c.(*guardConn); ok {
			ctx = context.WithValue(ctx, guardCtxKey{}, gc)
		}
		return ctx
	}
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if prevState != nil {
			prevState(c, st)
		}
		gc, ok := c.(*guardConn)
		if !ok {
			return
		}
		switch st {
		case http.StateIdle:
			// Waiting for the next request's headers: unfinished again,
			// and the newest.
			g.mu.Lock()
			g.unfinishLocked(gc)
			g.mu.Unlock()
		case http.StateHijacked:
			g.finish(gc) // a WebSocket: bounded by its own limits
		}
	}
}

// Handler marks a connection finished once its request's headers are in
// and its body, if any, is read to the end.
func (g *ConnGuard) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gc, _ := r.Context().Value(guardCtxKey{}).(*guardConn)
		if gc != nil {
			if r.Body == nil || r.Body == http.NoBody {
				g.finish(gc)
			} else {
				r.Body = &guardBody{ReadCloser: r.Body, done: func() { g.finish(gc) }}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// guardBody calls done when the body is read to its end.
type guardBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *guardBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(b.done)
	}
	return n, err
}

// ConnStats are the guard's counters.
type ConnStats struct {
	Unfinished int   // connections unfinished now
	Evicted    int64 // oldest unfinished connections closed to make room
	Refused    int64 // connections closed for the per-IP cap
}

// Stats returns the guard's counters.
func (g *ConnGuard) Stats() ConnStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ConnStats{Unfinished: g.unfinished.Len(), Evicted: g.evicted, Refused: g.refused}
}

// Collectors are the guard's metrics: parley_conns_unfinished (gauge),
// parley_conns_evicted_total and parley_conns_refused_total (counters).
// Register them on the node's registry.
func (g *ConnGuard) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_conns_unfinished",
			Help: "Connections without a complete request (headers or body) now."},
			func() float64 { return float64(g.Stats().Unfinished) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_conns_evicted_total",
			Help: "Oldest unfinished connections closed to admit new ones (PARLEY_MAX_UNFINISHED_CONNS)."},
			func() float64 { return float64(g.Stats().Evicted) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_conns_refused_total",
			Help: "Connections closed at once for the per-IP cap (PARLEY_MAX_CONNS_PER_IP)."},
			func() float64 { return float64(g.Stats().Refused) }),
	}
}
