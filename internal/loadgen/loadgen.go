// Package loadgen is the load generator behind `parley bench`: it registers
// users over the REST API, puts them in conversations, opens one real-time
// connection each (through a Transport: Parley's WebSocket protocol today)
// and sends messages at a fixed rate, measuring ack and send→deliver
// latency, and, given the server's process id, its memory per connection
// and CPU use from /proc (proc.go).
package loadgen

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Config is what a load generator run does: the `parley bench` flags.
type Config struct {
	URL                 string
	Clients             int
	GroupSize           int
	Rate                float64 // messages per second, all clients together
	Duration            time.Duration
	Drain               time.Duration
	Idle                bool
	PID                 int
	NoMemory            bool // with PID: CPU only, skip the (slow) memory readings
	RegisterConcurrency int
	ConnectConcurrency  int
	SourceIPs           int
	SetupTimeout        time.Duration
	Settle              time.Duration
	UsersFile           string

	// Transport opens the users' real-time connections. If nil, WebSocket.
	Transport Transport
	// CentrifugoSecret, with the Centrifugo transport, signs the users'
	// connection tokens; users and channels are then made up by the load
	// generator instead of registered over Parley's REST API.
	CentrifugoSecret string
	// Stdout receives the report, Stderr progress and warnings; nil
	// discards them.
	Stdout, Stderr io.Writer
}

// Validate reports the first field of c out of range, named by its
// `parley bench` flag.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return fmt.Errorf("--url: %w", err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--url %q: want http(s)://host:port", c.URL)
	case c.Clients < 2:
		return fmt.Errorf("--clients %d: want at least 2", c.Clients)
	case c.GroupSize < 2 || c.GroupSize > c.Clients || c.GroupSize > 1000:
		return fmt.Errorf("--group-size %d: want 2 to min(--clients, 1000)", c.GroupSize)
	case !c.Idle && (c.Rate <= 0 || math.IsInf(c.Rate, 0) || math.IsNaN(c.Rate)):
		return fmt.Errorf("--rate %v: want a positive number", c.Rate)
	case c.Duration <= 0 || c.Drain < 0 || c.SetupTimeout <= 0 || c.Settle < 0:
		return errors.New("--duration and --setup-timeout must be positive, --drain and --settle not negative")
	case c.RegisterConcurrency < 1 || c.ConnectConcurrency < 1:
		return errors.New("--register-concurrency and --connect-concurrency must be at least 1")
	case c.SourceIPs < 1 || c.SourceIPs > 250:
		return fmt.Errorf("--source-ips %d: want 1 to 250", c.SourceIPs)
	case c.PID < 0:
		return fmt.Errorf("--pid %d: not a process id", c.PID)
	}
	if c.SourceIPs > 1 {
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			return errors.New("--source-ips needs an IPv4 loopback --url such as http://127.0.0.1:8080")
		}
	}
	return nil
}

// groups splits n clients into conversations of size members; a last group
// too small to converse joins the one before it.
func groups(n, size int) [][]int {
	var out [][]int
	for start := 0; start < n; start += size {
		g := make([]int, 0, size)
		for i := start; i < min(start+size, n); i++ {
			g = append(g, i)
		}
		if len(g) < 2 && len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], g...)
			continue
		}
		out = append(out, g)
	}
	return out
}

// latencySummary is the distribution of a set of durations.
type latencySummary struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// summarize sorts d in place and returns its nearest-rank percentiles.
func summarize(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	slices.Sort(d)
	return latencySummary{
		N: len(d), P50: percentile(d, 50), P95: percentile(d, 95), P99: percentile(d, 99), Max: d[len(d)-1],
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func (s latencySummary) String() string {
	if s.N == 0 {
		return "no samples"
	}
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)", r(s.P50), r(s.P95), r(s.P99), r(s.Max), s.N)
}

// Bench message bodies carry the send time so that every recipient can
// measure send→deliver latency: "pbench <run> <unix ns> <n>".
func benchBody(run string, sent time.Time, n int64) string {
	return "pbench " + run + " " + strconv.FormatInt(sent.UnixNano(), 10) + " " + strconv.FormatInt(n, 10)
}

// parseBenchBody returns the send time of a body of this run.
func parseBenchBody(run, body string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(body, "pbench "+run+" ")
	if !ok {
		return time.Time{}, false
	}
	ns, _, _ := strings.Cut(rest, " ")
	v, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, v), true
}

// benchUser is one registered user with its socket.
type benchUser struct {
	idx   int
	id    string
	token string
	// expires is when token does, as the server said at registration.
	expires time.Time
	conv    string
	peers   int64 // other members of conv
	conn    Conn
	stats   connStats // owned by the reader goroutine until it returns
}

// connStats is what one socket's reader saw.
type connStats struct {
	acks, delivered, echoes, errFrames int64
	ackLat, deliverLat                 []time.Duration
	firstError                         string
	dropped                            error // why the socket closed under us
	droppedConns                       int64 // in a merged report
}

type benchRun struct {
	cfg   Config
	run   string
	base  *url.URL
	users []*benchUser
	sent  atomic.Int64
	// writeErrs counts sends that failed to leave the client.
	writeErrs atomic.Int64
	// limited counts 429 answers during setup.
	limited atomic.Int64
	// Totals the readers keep as they go, so drain can tell when all is in.
	acks, delivered, wantDelivered atomic.Int64
	lastArrival                    atomic.Int64 // unix ns of the latest ack or delivery
	readers                        sync.WaitGroup
	closing                        atomic.Bool
}

// Run registers cfg.Clients users on the server at cfg.URL (or reuses those
// of cfg.UsersFile), puts them in conversations, connects each through
// cfg.Transport and sends cfg.Rate messages/s for cfg.Duration (or, with
// cfg.Idle, only holds the connections), then writes the report to
// cfg.Stdout. It talks only to cfg.URL (and reads /proc for cfg.PID).
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Transport == nil {
		cfg.Transport = WebSocket{}
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	stdout, stderr := cfg.Stdout, cfg.Stderr
	base, _ := url.Parse(strings.TrimRight(cfg.URL, "/"))
	b := &benchRun{cfg: cfg, run: randomHex(4), base: base}
	mode := fmt.Sprintf("%.0f msg/s for %s", cfg.Rate, cfg.Duration)
	if cfg.Idle {
		mode = "idle for " + cfg.Duration.String()
	}
	fmt.Fprintf(stdout, "parley bench %s: %d clients in conversations of %d, %s, against %s\n",
		b.run, cfg.Clients, cfg.GroupSize, mode, cfg.URL)
	if perUser := cfg.Rate / float64(cfg.Clients); !cfg.Idle && perUser > 20 {
		fmt.Fprintf(stderr, "bench: %.0f msg/s per user is over the server's default limit of 20: expect rate_limited errors; add --clients\n", perUser)
	}

	setupCtx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancel()
	t0 := time.Now()
	_, centrifugo := cfg.Transport.(Centrifugo)
	if centrifugo && cfg.CentrifugoSecret == "" {
		return errNoCentrifugoSecret
	}
	reused, err := b.loadUsers()
	if err != nil {
		return err
	}
	if centrifugo {
		b.centrifugoUsers()
	} else if !reused {
		if err := b.register(setupCtx); err != nil {
			return err
		}
		if err := b.saveUsers(); err != nil {
			return err
		}
	}
	t1 := time.Now()
	var nConvs int
	if centrifugo {
		nConvs = b.centrifugoChannels()
	} else if nConvs, err = b.createConversations(setupCtx); err != nil {
		return err
	}
	t2 := time.Now()
	var rssBefore int64
	var memBefore goMem
	if cfg.PID > 0 && !cfg.NoMemory {
		// Registration hashes passwords (memory-hard): let that garbage
		// be collected first so the difference is the sockets'.
		memBefore, rssBefore = b.measureMemory(ctx, time.Now())
	}
	defer b.closeAll()
	t3 := time.Now() // the memory reading may have waited for a GC
	if err := b.connect(setupCtx); err != nil {
		return err
	}
	t4 := time.Now()
	fmt.Fprintf(stdout, "setup: %d users in %s, %d conversations in %s, %d sockets in %s\n",
		len(b.users), t1.Sub(t0).Round(time.Millisecond), nConvs, t2.Sub(t1).Round(time.Millisecond),
		len(b.users), t4.Sub(t3).Round(time.Millisecond))

	var rssAfter int64
	var memAfter goMem
	if cfg.PID > 0 && !cfg.NoMemory {
		memAfter, rssAfter = b.measureMemory(ctx, time.Now())
	}
	cpuBefore, _ := readCPUTicks(cfg.PID)
	selfBefore, _ := readCPUTicks(os.Getpid())
	start := time.Now()
	if cfg.Idle {
		sleepCtx(ctx, cfg.Duration)
	} else {
		b.send(ctx, start.Add(cfg.Duration))
		b.drain(ctx, time.Now().Add(cfg.Drain))
	}
	elapsed := time.Since(start)
	// Throughput counts what arrived over the time it took to arrive: a
	// server that falls behind stretches the window past --duration.
	window := cfg.Duration.Seconds()
	if last := b.lastArrival.Load(); last > 0 {
		window = max(window, time.Unix(0, last).Sub(start).Seconds())
	}
	cpuAfter, _ := readCPUTicks(cfg.PID)
	selfAfter, _ := readCPUTicks(os.Getpid())
	b.closeAll()

	rep := b.report()
	if !cfg.Idle {
		expected := b.wantDelivered.Load()
		perMsg := float64(expected) / math.Max(1, float64(rep.acks)) // recipients per message
		fmt.Fprintf(stdout, "sent        %d (%.1f/s over %s), write errors %d\n",
			b.sent.Load(), float64(b.sent.Load())/cfg.Duration.Seconds(), cfg.Duration, b.writeErrs.Load())
		fmt.Fprintf(stdout, "stored      %d acks (%.1f msg/s over %.1fs)\n", rep.acks, float64(rep.acks)/window, window)
		fmt.Fprintf(stdout, "delivered   %d of %d expected, %.2f%% (%.1f deliveries/s = %.1f msg/s to all %.1f recipients)\n",
			rep.delivered, expected, 100*float64(rep.delivered)/math.Max(1, float64(expected)),
			float64(rep.delivered)/window, float64(rep.delivered)/math.Max(1, perMsg)/window, perMsg)
		fmt.Fprintf(stdout, "ack         %s\n", summarize(rep.ackLat))
		fmt.Fprintf(stdout, "deliver     %s\n", summarize(rep.deliverLat))
	}
	fmt.Fprintf(stdout, "errors      %d error frames, %d dropped connections\n", rep.errFrames, rep.droppedConns)
	if rep.firstError != "" {
		fmt.Fprintf(stdout, "            first: %s\n", rep.firstError)
	}
	if cfg.PID > 0 {
		n := float64(len(b.users))
		if rssBefore > 0 && rssAfter > 0 {
			fmt.Fprintf(stdout, "server rss  %d KiB before sockets, %d KiB with %d sockets: %.1f KiB per connection\n",
				rssBefore, rssAfter, len(b.users), float64(rssAfter-rssBefore)/n)
			if memBefore.ok && memAfter.ok {
				// RSS also moves with garbage not yet collected and with
				// freed pages the runtime has not yet returned to the OS;
				// the live heap after a GC plus stacks does not.
				before, after := memBefore.live()+memBefore.stack, memAfter.live()+memAfter.stack
				fmt.Fprintf(stdout, "server go   live heap after GC + stacks %.0f → %.0f KiB: %.1f KiB per connection; goroutines %.0f → %.0f\n",
					before/1024, after/1024, (after-before)/1024/n, memBefore.goroutines, memAfter.goroutines)
			}
		}
		if cpuAfter > cpuBefore {
			fmt.Fprintf(stdout, "server cpu  %.0f%% of one core over %s\n",
				100*float64(cpuAfter-cpuBefore)/clockTicks/elapsed.Seconds(), elapsed.Round(time.Millisecond))
		}
	}
	if selfAfter > selfBefore {
		fmt.Fprintf(stdout, "bench cpu   %.0f%% of one core (same machine)\n", 100*float64(selfAfter-selfBefore)/clockTicks/elapsed.Seconds())
	}
	if m := machineLoad(); m != "" {
		fmt.Fprintf(stdout, "machine     %s\n", m)
	}
	return nil
}

// --- REST setup ---

type authReply struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"` // seconds
}

func (b *benchRun) register(ctx context.Context) error {
	clients := make([]*http.Client, b.cfg.SourceIPs)
	for i := range clients {
		clients[i] = httpClientFrom(i, b.cfg.SourceIPs)
	}
	b.users = make([]*benchUser, b.cfg.Clients)
	password := "pbench-" + randomHex(12)
	return forEach(ctx, b.cfg.Clients, b.cfg.RegisterConcurrency, func(ctx context.Context, i int) error {
		req := map[string]string{
			"username":     fmt.Sprintf("pb%s-%05d", b.run, i),
			"password":     password,
			"display_name": fmt.Sprintf("Bench %d", i),
		}
		var rep authReply
		if err := b.postJSON(ctx, clients[i%len(clients)], "/v1/auth/register", "", req, http.StatusCreated, &rep); err != nil {
			return fmt.Errorf("register user %d: %w", i, err)
		}
		if rep.User.ID == "" || rep.AccessToken == "" {
			return fmt.Errorf("register user %d: reply without user id or access token", i)
		}
		ttl := time.Duration(rep.ExpiresIn) * time.Second
		if ttl <= 0 {
			ttl = chatcore.DefaultAccessTTL
		}
		b.users[i] = &benchUser{idx: i, id: rep.User.ID, token: rep.AccessToken, expires: time.Now().Add(ttl)}
		return nil
	})
}

func (b *benchRun) createConversations(ctx context.Context) (int, error) {
	gs := groups(b.cfg.Clients, b.cfg.GroupSize)
	client := httpClientFrom(0, 1)
	err := forEach(ctx, len(gs), b.cfg.RegisterConcurrency, func(ctx context.Context, gi int) error {
		g := gs[gi]
		owner := b.users[g[0]]
		others := make([]string, 0, len(g)-1)
		for _, i := range g[1:] {
			others = append(others, b.users[i].id)
		}
		// docs/protocol.md: {"conversation": Conversation}; a bare
		// Conversation is accepted too.
		var rep struct {
			ID           string `json:"id"`
			Conversation struct {
				ID string `json:"id"`
			} `json:"conversation"`
		}
		req := map[string]any{"member_ids": others, "title": fmt.Sprintf("bench %s #%d", b.run, gi)}
		if err := b.postJSON(ctx, client, "/v1/conversations", owner.token, req, 0, &rep); err != nil {
			return fmt.Errorf("create conversation %d: %w", gi, err)
		}
		id := cmp.Or(rep.Conversation.ID, rep.ID)
		if id == "" {
			return fmt.Errorf("create conversation %d: reply without id", gi)
		}
		for _, i := range g {
			b.users[i].conv = id
			b.users[i].peers = int64(len(g) - 1)
		}
		return nil
	})
	return len(gs), err
}

// postJSON POSTs body and decodes a 2xx reply (exactly want, if non-zero)
// into out. It waits out 429s as Retry-After says.
func (b *benchRun) postJSON(ctx context.Context, c *http.Client, path, token string, body any, want int, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base.String()+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			if n := b.limited.Add(1); n == 1 || n%100 == 0 {
				fmt.Fprintf(b.cfg.Stderr, "bench: %s rate limited (%d times so far), waiting %s; see --source-ips\n", path, n, wait)
			}
			if !sleepCtx(ctx, wait) {
				return ctx.Err()
			}
			continue
		case resp.StatusCode/100 != 2 || (want != 0 && resp.StatusCode != want):
			return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(data))
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("POST %s: decode reply: %w", path, err)
		}
		return nil
	}
}

// savedUser is one line of the --users file.
type savedUser struct {
	ID      string    `json:"id"`
	Token   string    `json:"access_token"`
	Expires time.Time `json:"expires_at,omitzero"`
}

// loadUsers fills b.users from --users when that file is fresh and holds
// enough users; it reports whether it did.
func (b *benchRun) loadUsers() (bool, error) {
	if b.cfg.UsersFile == "" {
		return false, nil
	}
	fi, err := os.Stat(b.cfg.UsersFile)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	data, err := os.ReadFile(b.cfg.UsersFile)
	if err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	var saved []savedUser
	if err := json.Unmarshal(data, &saved); err != nil {
		return false, fmt.Errorf("users file %s: %w", b.cfg.UsersFile, err)
	}
	if len(saved) < b.cfg.Clients {
		fmt.Fprintf(b.cfg.Stderr, "bench: %s holds %d users, want %d: registering new users\n", b.cfg.UsersFile, len(saved), b.cfg.Clients)
		return false, nil
	}
	// The tokens must outlive this run: setup and memory readings can take
	// a few minutes on top of --duration and --drain. A file from before
	// expiries were saved counts from its modification time.
	var expires time.Time
	for _, u := range saved[:b.cfg.Clients] {
		e := u.Expires
		if e.IsZero() {
			e = fi.ModTime().Add(chatcore.DefaultAccessTTL)
		}
		if expires.IsZero() || e.Before(expires) {
			expires = e
		}
	}
	if time.Until(expires) < b.cfg.Duration+b.cfg.Drain+5*time.Minute {
		fmt.Fprintf(b.cfg.Stderr, "bench: the tokens in %s expire at %s, during this run: registering new users\n",
			b.cfg.UsersFile, expires.Format(time.TimeOnly))
		return false, nil
	}
	b.users = make([]*benchUser, b.cfg.Clients)
	for i := range b.users {
		b.users[i] = &benchUser{idx: i, id: saved[i].ID, token: saved[i].Token, expires: saved[i].Expires}
	}
	fmt.Fprintf(b.cfg.Stderr, "bench: reusing %d users from %s\n", b.cfg.Clients, b.cfg.UsersFile)
	return true, nil
}

// saveUsers writes the registered users to --users, if set.
func (b *benchRun) saveUsers() error {
	if b.cfg.UsersFile == "" {
		return nil
	}
	saved := make([]savedUser, len(b.users))
	for i, u := range b.users {
		saved[i] = savedUser{ID: u.id, Token: u.token, Expires: u.expires}
	}
	data, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	if err := os.WriteFile(b.cfg.UsersFile, data, 0o600); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}

// httpClientFrom returns a client whose connections leave from loopback
// address 127.0.0.(2+i) when there are several source addresses.
func httpClientFrom(i, n int) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if n > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64},
	}
}

// forEach runs fn(0..n-1) with at most limit in flight; the first error
// cancels the rest and is returned.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// --- WebSocket load ---

// connect opens every user's connection and starts its reader.
func (b *benchRun) connect(ctx context.Context) error {
	return forEach(ctx, len(b.users), b.cfg.ConnectConcurrency, func(ctx context.Context, i int) error {
		u := b.users[i]
		conn, err := b.cfg.Transport.Dial(ctx, b.base, u.token)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		u.conn = conn
		// Read from now on: that also answers the server's pings.
		b.readers.Go(func() { b.read(u) })
		return nil
	})
}

func (b *benchRun) read(u *benchUser) {
	st := &u.stats
	for {
		f, err := u.conn.Receive(context.Background())
		if err != nil {
			if !b.closing.Load() {
				st.dropped = err
			}
			return
		}
		now := time.Now()
		switch f.Kind {
		case IncomingAck:
			if t, ok := parseBenchBody(b.run, f.Body); ok {
				st.acks++
				st.ackLat = append(st.ackLat, now.Sub(t))
				b.acks.Add(1)
				b.wantDelivered.Add(u.peers)
				b.arrived(now)
			}
		case IncomingMessage:
			t, ok := parseBenchBody(b.run, f.Body)
			switch {
			case !ok:
			case f.SenderID == u.id:
				st.echoes++
			default:
				st.delivered++
				st.deliverLat = append(st.deliverLat, now.Sub(t))
				b.delivered.Add(1)
				b.arrived(now)
			}
		case IncomingError:
			st.errFrames++
			if st.firstError == "" {
				st.firstError = fmt.Sprintf("%.200s", f.Raw)
			}
		}
	}
}

// arrived records the time of the latest ack or delivery.
func (b *benchRun) arrived(t time.Time) {
	ns := t.UnixNano()
	for {
		last := b.lastArrival.Load()
		if ns <= last || b.lastArrival.CompareAndSwap(last, ns) {
			return
		}
	}
}

// send runs one paced sender per user until the deadline: each sends every
// clients/rate seconds, staggered so the total rate is even.
func (b *benchRun) send(ctx context.Context, deadline time.Time) {
	period := time.Duration(float64(time.Second) * float64(len(b.users)) / b.cfg.Rate)
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for i, u := range b.users {
		offset := time.Duration(int64(period) * int64(i) / int64(len(b.users)))
		wg.Go(func() {
			if !sleepCtx(ctx, time.Until(start.Add(offset))) {
				return
			}
			tick := time.NewTicker(period)
			defer tick.Stop()
			for n := int64(1); ; n++ {
				now := time.Now()
				m := Outgoing{ClientID: fmt.Sprintf("%s-%d-%d", b.run, u.idx, n), SenderID: u.id,
					ConversationID: u.conv, Body: benchBody(b.run, now, n)}
				wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := u.conn.Send(wctx, m)
				wcancel()
				b.sent.Add(1)
				if err != nil {
					b.writeErrs.Add(1)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		})
	}
	wg.Wait()
}

// drain waits until every message that left is acked and delivered, or
// until deadline.
func (b *benchRun) drain(ctx context.Context, deadline time.Time) {
	for time.Now().Before(deadline) {
		if b.acks.Load() >= b.sent.Load()-b.writeErrs.Load() && b.delivered.Load() >= b.wantDelivered.Load() {
			return
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return
		}
	}
}

// closeAll closes every socket and waits for the readers. Idempotent.
func (b *benchRun) closeAll() {
	if b.closing.Swap(true) {
		return
	}
	var wg sync.WaitGroup
	for _, u := range b.users {
		if u != nil && u.conn != nil {
			wg.Go(func() { u.conn.Close() })
		}
	}
	wg.Wait()
	b.readers.Wait()
}

// report merges what the readers saw; call after closeAll.
func (b *benchRun) report() connStats {
	var r connStats
	var dropped int64
	for _, u := range b.users {
		s := u.stats
		r.acks += s.acks
		r.delivered += s.delivered
		r.echoes += s.echoes
		r.errFrames += s.errFrames
		r.ackLat = append(r.ackLat, s.ackLat...)
		r.deliverLat = append(r.deliverLat, s.deliverLat...)
		if r.firstError == "" {
			r.firstError = s.firstError
		}
		if s.dropped != nil {
			dropped++
			if r.firstError == "" {
				r.firstError = "connection dropped: " + s.dropped.Error()
			}
		}
	}
	r.droppedConns = dropped
	return r
}

// goMem is what the server's Prometheus /metrics says about its Go runtime.
type goMem struct {
	nextGC     float64   // go_memstats_next_gc_bytes: the heap goal the last GC set
	gogc       float64   // go_gc_gogc_percent
	stack      float64   // go_memstats_stack_inuse_bytes
	goroutines float64   // go_goroutines
	lastGC     time.Time // go_memstats_last_gc_time_seconds
	ok         bool      // all of the above were there
}

// live estimates the heap that survived the last GC. The runtime sets the
// goal to live + (live + stacks + globals) × GOGC/100; globals are the
// same before and after, so they cancel out of differences.
func (m goMem) live() float64 {
	g := m.gogc / 100
	return (m.nextGC - g*m.stack) / (1 + g)
}

// measureMemory waits (up to 2½ min: Go collects at least every 2 min)
// for the server to finish a GC after since and reads its Go memory; then
// it waits for VmRSS to stop moving (the runtime returns freed pages to the
// OS gradually) and reads that. Without Go metrics it sleeps --settle
// instead of waiting for a GC.
func (b *benchRun) measureMemory(ctx context.Context, since time.Time) (goMem, int64) {
	var m goMem
	for deadline := time.Now().Add(150 * time.Second); ; {
		var err error
		m, err = b.goMemory(ctx)
		if err != nil || !m.ok {
			m = goMem{}
			sleepCtx(ctx, b.cfg.Settle)
			break
		}
		if m.lastGC.After(since) || time.Now().After(deadline) {
			break
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return goMem{}, 0
		}
	}
	return m, b.stableRSS(ctx)
}

// stableRSS reads VmRSS once a second until three readings in a row are
// within 0.5% of each other, or a minute has passed.
func (b *benchRun) stableRSS(ctx context.Context) int64 {
	last, _ := readRSSKiB(b.cfg.PID)
	steady := 0
	for deadline := time.Now().Add(time.Minute); steady < 2 && time.Now().Before(deadline); {
		if !sleepCtx(ctx, time.Second) {
			break
		}
		rss, err := readRSSKiB(b.cfg.PID)
		if err != nil {
			return 0
		}
		if math.Abs(float64(rss-last)) <= 0.005*float64(last) {
			steady++
		} else {
			steady = 0
		}
		last = rss
	}
	return last
}

// goMemory reads GET /metrics of the server under test; servers without
// the Go collector report !ok.
func (b *benchRun) goMemory(ctx context.Context) (goMem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base.String()+"/metrics", nil)
	if err != nil {
		return goMem{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return goMem{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return goMem{}, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	return parseGoMem(io.LimitReader(resp.Body, 8<<20))
}

// parseGoMem picks the Go runtime gauges out of Prometheus text format.
func parseGoMem(r io.Reader) (goMem, error) {
	var m goMem
	var lastGC float64
	fields := map[string]*float64{
		"go_memstats_next_gc_bytes":        &m.nextGC,
		"go_gc_gogc_percent":               &m.gogc,
		"go_memstats_stack_inuse_bytes":    &m.stack,
		"go_goroutines":                    &m.goroutines,
		"go_memstats_last_gc_time_seconds": &lastGC,
	}
	seen := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return goMem{}, fmt.Errorf("metric %s: %w", name, err)
		}
		*dst = v
		seen++
	}
	if err := sc.Err(); err != nil {
		return goMem{}, err
	}
	m.lastGC = time.Unix(0, int64(lastGC*1e9))
	m.ok = seen == len(fields) && m.gogc > 0
	return m, nil
}

// --- helpers ---

// sleepCtx sleeps for d or until ctx is done; it reports whether it slept
// the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
