package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/batch"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("redis: bus closed")

// DefaultPrefix is the key and channel prefix when none is configured.
const DefaultPrefix = "parley:"

// BusOptions configures a Bus. Every zero value means the documented default.
type BusOptions struct {
	// Prefix is prepended to the channel name "events". If empty,
	// DefaultPrefix ("parley:"), so the channel is "parley:events". Pub/sub
	// channels are shared by every Redis database number: separate
	// deployments (or tests) sharing one server need distinct prefixes.
	Prefix string
	// Logger receives subscription losses, reconnects and drops. If nil,
	// slog.Default().
	Logger *slog.Logger
	// BufferSize is how many received events may wait for fn in each
	// subscription. When it is full, newer events are dropped (and counted)
	// rather than stalling the Redis reader. If zero, 8192.
	BufferSize int
	// SubscribeTimeout bounds how long Subscribe (and each resubscribe)
	// waits for Redis to confirm the subscription. If zero, 5s.
	SubscribeTimeout time.Duration
	// HealthCheckInterval is how long a subscription may see no traffic
	// before it pings Redis; a second silent interval counts as a lost
	// connection. If zero, 15s.
	HealthCheckInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between resubscribe
	// attempts, which doubles after each failure. If zero, 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Clock stamps Event.PublishedAt when the publisher left it zero. If
	// nil, the system clock.
	Clock chatcore.Clock
	// PublishFlushers is how many pipelines of publishes may be in flight
	// at once (Publish). If zero, 2.
	PublishFlushers int
	// OnResubscribe, if set, is called (in the subscription's reader
	// goroutine; it must not block) after a subscription came back from a
	// lost connection. Events published during the outage are gone: a hub
	// can use this to make its sockets catch up by seq.
	OnResubscribe func(downtime time.Duration)
}

func (o BusOptions) withDefaults() BusOptions {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 8192
	}
	if o.SubscribeTimeout <= 0 {
		o.SubscribeTimeout = 5 * time.Second
	}
	if o.HealthCheckInterval <= 0 {
		o.HealthCheckInterval = 15 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Clock == nil {
		o.Clock = chatcore.SystemClock{}
	}
	if o.PublishFlushers <= 0 {
		o.PublishFlushers = 2
	}
	return o
}

// BusStats are counters since the Bus was created, for metrics.
type BusStats struct {
	Published  uint64 // events published
	Pipelines  uint64 // round trips that published them (Publish batches)
	Received   uint64 // events handed to fn, summed over subscriptions
	Dropped    uint64 // events dropped because a subscription's buffer was full
	Malformed  uint64 // payloads on the channel that did not decode
	Reconnects uint64 // successful resubscribes after a lost connection
}

// Bus is a chatcore.Bus over one Redis pub/sub channel. It is safe for
// concurrent use. It does not own the client: close that after the Bus.
type Bus struct {
	client  goredis.UniversalClient
	opts    BusOptions
	channel string
	log     *slog.Logger

	mu     sync.Mutex
	closed bool
	subs   map[*subscription]struct{}
	wg     sync.WaitGroup

	// Publishes waiting for a pipeline (sendPublishes).
	pubQ batch.Queue[*publishReq]

	published, pipelines, received, dropped, malformed, reconnects atomic.Uint64
}

// publishReq is one queued Publish and where its result goes.
type publishReq struct {
	payload []byte
	done    chan error // buffered: the flusher never blocks on it
}

// publishBatch is the most publishes one pipeline carries.
const publishBatch = 512

// publishTimeout bounds one pipeline, whatever its callers' contexts.
const publishTimeout = 5 * time.Second

var _ chatcore.Bus = (*Bus)(nil)

// NewBus returns a Bus publishing and subscribing through client.
func NewBus(client goredis.UniversalClient, opts BusOptions) *Bus {
	opts = opts.withDefaults()
	ch := opts.Prefix + "events"
	b := &Bus{
		client:  client,
		opts:    opts,
		channel: ch,
		log:     opts.Logger.With(slog.String("component", "bus"), slog.String("channel", ch)),
		subs:    make(map[*subscription]struct{}),
	}
	b.pubQ.Run, b.pubQ.MaxBatch, b.pubQ.Flushers = b.sendPublishes, publishBatch, opts.PublishFlushers
	return b
}

// Channel returns the Redis pub/sub channel the Bus uses.
func (b *Bus) Channel() string { return b.channel }

// Publish sends ev to every subscriber on every node, stamped with the
// Clock's time when the publisher left PublishedAt zero (Event.Stamped).
//
// Publishes from concurrent callers share round trips, as group commit
// does for messages: a flusher sends whatever is queued (up to 512) in one
// pipeline, and while it is in flight the next pipeline gathers; at low
// load a lone publish waits for nobody. Each call returns once Redis has
// taken its event (or ctx is done: the event may still go out). Events of
// one caller keep their order: a caller waits for each Publish to return.
func (b *Bus) Publish(ctx context.Context, ev chatcore.Event) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	ev = ev.Stamped(b.opts.Clock.Now())
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	r := &publishReq{payload: payload, done: make(chan error, 1)}
	b.pubQ.Add(r)
	select {
	case err := <-r.done:
		if err != nil {
			return fmt.Errorf("publish to %s: %w", b.channel, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish to %s: %w", b.channel, ctx.Err())
	}
}

// sendPublishes publishes batch in one round trip and answers each caller.
func (b *Bus) sendPublishes(batch []*publishReq) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if len(batch) == 1 {
		err := b.client.Publish(ctx, b.channel, batch[0].payload).Err()
		if err == nil {
			b.published.Add(1)
		}
		b.pipelines.Add(1)
		batch[0].done <- err
		return
	}
	pipe := b.client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(batch))
	for i, r := range batch {
		cmds[i] = pipe.Publish(ctx, b.channel, r.payload)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	b.pipelines.Add(1)
	for i, r := range batch {
		err := cmds[i].Err()
		if err == nil {
			b.published.Add(1)
		}
		r.done <- err
	}
}

// Subscribe calls fn for every event published by anyone until ctx is done
// or the Bus is closed. It returns once Redis has confirmed the
// subscription, so an event published after Subscribe returns is delivered.
// fn runs in a goroutine of this subscription, one event at a time; it must
// not block: while it is slow, events queue up to BufferSize and are then
// dropped, never stalling the Redis reader. A panic in fn is logged and the
// event skipped.
func (b *Bus) Subscribe(ctx context.Context, fn func(chatcore.Event)) error {
	if fn == nil {
		return errors.New("redis: subscribe: nil fn")
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &subscription{
		bus:    b,
		fn:     fn,
		cancel: cancel,
		queue:  make(chan []byte, b.opts.BufferSize),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		cancel()
		return ErrClosed
	}
	b.subs[s] = struct{}{}
	b.wg.Add(1)
	b.mu.Unlock()

	if _, err := b.subscribe(ctx, s.setPubSub); err != nil {
		b.remove(s)
		cancel()
		b.wg.Done()
		return fmt.Errorf("subscribe to %s: %w", b.channel, err)
	}

	var inner sync.WaitGroup
	inner.Add(3)
	go func() { defer inner.Done(); s.read(ctx) }()
	go func() { defer inner.Done(); s.dispatch(ctx) }()
	go func() {
		// Closing the pub/sub connection is what interrupts a blocked read.
		defer inner.Done()
		<-ctx.Done()
		s.closePubSub()
	}()
	go func() {
		inner.Wait()
		b.remove(s)
		b.wg.Done()
	}()
	return nil
}

// Close ends every subscription and waits for their goroutines. Publish and
// Subscribe fail with ErrClosed afterwards. It does not close the client.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for s := range b.subs {
		s.cancel()
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// Stats returns the Bus's counters.
func (b *Bus) Stats() BusStats {
	return BusStats{
		Published:  b.published.Load(),
		Pipelines:  b.pipelines.Load(),
		Received:   b.received.Load(),
		Dropped:    b.dropped.Load(),
		Malformed:  b.malformed.Load(),
		Reconnects: b.reconnects.Load(),
	}
}

func (b *Bus) remove(s *subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// subscribe opens a pub/sub connection and waits for Redis to confirm it.
// register is called with the connection before the wait, so that a
// cancellation can close it.
func (b *Bus) subscribe(ctx context.Context, register func(*goredis.PubSub)) (*goredis.PubSub, error) {
	ps := b.client.Subscribe(ctx, b.channel)
	register(ps)
	if err := ctx.Err(); err != nil {
		_ = ps.Close()
		return nil, err
	}
	msg, err := ps.ReceiveTimeout(ctx, b.opts.SubscribeTimeout)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("confirm subscription: %w", err)
	}
	if sub, ok := msg.(*goredis.Subscription); !ok || sub.Kind != "subscribe" {
		_ = ps.Close()
		return nil, fmt.Errorf("confirm subscription: unexpected reply %v", msg)
	}
	return ps, nil
}

// subscription is one Subscribe call: a reader goroutine that moves raw
// payloads from Redis into queue, and a dispatcher that decodes them and
// calls fn.
type subscription struct {
	bus    *Bus
	fn     func(chatcore.Event)
	cancel context.CancelFunc
	queue  chan []byte

	mu sync.Mutex
	ps *goredis.PubSub

	lastDropLog atomic.Int64 // unix nanoseconds of the last drop warning
}

func (s *subscription) setPubSub(ps *goredis.PubSub) {
	s.mu.Lock()
	s.ps = ps
	s.mu.Unlock()
}

func (s *subscription) closePubSub() {
	s.mu.Lock()
	if s.ps != nil {
		_ = s.ps.Close()
	}
	s.mu.Unlock()
}

func (s *subscription) pubSub() *goredis.PubSub {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ps
}

// read receives from Redis until ctx is done, replacing the connection when
// it fails.
func (s *subscription) read(ctx context.Context) {
	b := s.bus
	ps := s.pubSub()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.opts.HealthCheckInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) && !pinged {
				// Quiet channel: make Redis answer, so that a dead
				// connection shows up as a second timeout.
				pinged = true
				if err = ps.Ping(ctx); err == nil {
					continue
				}
			} else if isTimeout(err) {
				err = fmt.Errorf("no reply to ping within %s: %w", b.opts.HealthCheckInterval, err)
			}
			ps = s.resubscribe(ctx, err)
			if ps == nil {
				return
			}
			pinged = false
			continue
		}
		pinged = false
		if m, ok := msg.(*goredis.Message); ok {
			s.enqueue([]byte(m.Payload))
		}
	}
}

// resubscribe replaces a failed connection, retrying with backoff until it
// succeeds or ctx is done (then it returns nil).
func (s *subscription) resubscribe(ctx context.Context, cause error) *goredis.PubSub {
	b := s.bus
	s.closePubSub()
	b.log.WarnContext(ctx, "bus subscription lost", slog.Any("error", cause))
	lost := time.Now()
	backoff := b.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		ps, err := b.subscribe(ctx, s.setPubSub)
		if err == nil {
			b.reconnects.Add(1)
			downtime := time.Since(lost)
			b.log.InfoContext(ctx, "bus resubscribed",
				slog.Int("attempts", attempt),
				slog.Int64("downtime_ms", downtime.Milliseconds()))
			if b.opts.OnResubscribe != nil {
				b.opts.OnResubscribe(downtime)
			}
			return ps
		}
		if ctx.Err() != nil {
			return nil
		}
		b.log.WarnContext(ctx, "bus resubscribe failed",
			slog.Int("attempt", attempt),
			slog.Int64("retry_in_ms", min(2*backoff, b.opts.MaxBackoff).Milliseconds()),
			slog.Any("error", err))
		backoff = min(2*backoff, b.opts.MaxBackoff)
	}
}

// enqueue hands a payload to the dispatcher without ever blocking the reader.
func (s *subscription) enqueue(payload []byte) {
	select {
	case s.queue <- payload:
		return
	default:
	}
	b := s.bus
	n := b.dropped.Add(1)
	now := time.Now().UnixNano()
	last := s.lastDropLog.Load()
	if now-last >= int64(time.Second) && s.lastDropLog.CompareAndSwap(last, now) {
		b.log.Warn("bus subscriber too slow, dropping events",
			slog.Int("buffer_size", cap(s.queue)),
			slog.Uint64("dropped_total", n))
	}
}

// dispatch decodes queued payloads and calls fn, one at a time.
func (s *subscription) dispatch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case payload := <-s.queue:
			var ev chatcore.Event
			if err := json.Unmarshal(payload, &ev); err != nil {
				s.bus.malformed.Add(1)
				s.bus.log.WarnContext(ctx, "bus dropped malformed event",
					slog.Int("size", len(payload)), slog.Any("error", err))
				continue
			}
			s.call(ctx, ev)
		}
	}
}

func (s *subscription) call(ctx context.Context, ev chatcore.Event) {
	defer func() {
		if r := recover(); r != nil {
			s.bus.log.ErrorContext(ctx, "bus subscriber panicked",
				slog.Any("panic", r), slog.Int("recipients", len(ev.Recipients)))
		}
	}()
	s.bus.received.Add(1)
	s.fn(ev)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
