package chatcore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// PushService turns chat events into pushes for devices with no live
// socket. Its methods only queue work and return at once: a slow provider
// never slows chat. Implementation: *Pusher.
type PushService interface {
	// MessageSent queues a new message for pushing to recipients (the
	// conversation's members other than the sender).
	MessageSent(msg *Message, recipients []string)
	// ReadAdvanced queues a silent update to the user's devices other than
	// fromDeviceID ("" when unknown) so they clear the conversation's
	// notifications and badge.
	ReadAdvanced(userID, conversationID string, readSeq int64, fromDeviceID string)
	// MessageDeleted queues a silent update (reason "deleted", the
	// message's seq) to the recipients' devices with no live socket, so
	// they withdraw a notification that shows the message.
	MessageDeleted(msg *Message, recipients []string)
}

// Reasons of a PushUpdate (Push.Reason).
const (
	// PushReasonRead: the user read up to Seq on another device.
	PushReasonRead = "read"
	// PushReasonDeleted: the message at Seq was deleted.
	PushReasonDeleted = "deleted"
)

// CollapseKey is the provider's collapse id of p (APNs apns-collapse-id,
// FCM collapse_key): the conversation, so a newer alert or read replaces
// an older one of the same conversation still waiting for the device — but
// a deletion's own key, so it never replaces an alert of another message
// of that conversation.
func (p Push) CollapseKey() string {
	if p.Kind == PushUpdate && p.Reason == PushReasonDeleted {
		return p.ConversationID + ":" + PushReasonDeleted
	}
	return p.ConversationID
}

// PushStore is what the Pusher reads and prunes.
type PushStore interface {
	DeviceStore
	ConversationForUser(ctx context.Context, id, userID string) (*Conversation, error)
	UserByID(ctx context.Context, id string) (*User, error)
}

// PushMetrics receives what the Pusher does. Outcomes: "sent", "dead"
// (token pruned), "retry" (temporary failure, will retry), "failed"
// (given up), "dropped" (queue full).
type PushMetrics interface {
	Pushed(provider, kind, outcome string)
	ProviderLatency(provider string, d time.Duration)
}

// PusherConfig configures a Pusher. Every zero value means the documented
// default.
type PusherConfig struct {
	Store PushStore
	// Presence says which devices are live. If nil, none is.
	Presence LivePresence
	// Senders deliver by device platform (PlatformAPNs, PlatformFCM); a
	// device whose platform has no sender is skipped.
	Senders map[string]PushSender
	// Providers names each platform's sender in metrics (e.g. "gorush").
	// If a platform is missing, its own name.
	Providers map[string]string
	// HideContent sends "New message" with no title or preview text, for
	// deployments that want no message text on Apple's or Google's servers.
	HideContent bool
	// Window is the per-user coalescing window: the first push goes at
	// once, later ones within Window of it are merged into one sent when
	// it ends (the newest wins; badge and collapse ids say the rest). If
	// zero, 2s.
	Window time.Duration
	// QueueSize bounds queued events and queued deliveries each. If zero,
	// 4096. When full, new work is dropped and counted.
	QueueSize int
	// Workers is how many deliveries run at once. If zero, 8.
	Workers int
	// MaxAttempts bounds attempts per device push. If zero, 5.
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the wait between attempts (doubled
	// each time, jittered, at least the provider's Retry-After). If zero,
	// 1s and 60s.
	BaseBackoff, MaxBackoff time.Duration
	// UnreadLimit caps the badge count (and its query). If zero, 9999.
	UnreadLimit int
	Metrics     PushMetrics
	Logger      *slog.Logger
}

func (c PusherConfig) withDefaults() PusherConfig {
	if c.Window <= 0 {
		c.Window = 2 * time.Second
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 60 * time.Second
	}
	if c.MaxBackoff < c.BaseBackoff {
		c.MaxBackoff = c.BaseBackoff
	}
	if c.UnreadLimit <= 0 {
		c.UnreadLimit = 9999
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// HiddenBody is the alert text when content is hidden.
const HiddenBody = "New message"

// previewRunes is the longest text preview, in characters.
const previewRunes = 140

// event is one queued chat event.
type event struct {
	msg        *Message
	recipients []string
	// read update
	userID, convID, fromDevice string
	readSeq                    int64
	// deleted: msg is the deleted message, recipients may hold a
	// notification of it
	deleted bool
}

// userPush is what one user is due: one push to each of their non-live
// devices, but not except.
type userPush struct {
	userID string
	push   Push
	except string
}

// delivery is one attempt to push to one device.
type delivery struct {
	user    *userPush // set: resolve the user's devices first
	device  Device
	push    Push
	attempt int
}

// coalesce is one user's (and kind's) window state.
type coalesce struct {
	lastSent time.Time
	pending  *userPush
	timer    *time.Timer
}

// Pusher is the PushService: bounded queues, per-user coalescing, retries
// with backoff, dead-token pruning. Start it with NewPusher, stop it with
// Close.
type Pusher struct {
	cfg PusherConfig
	log *slog.Logger

	events     chan event
	deliveries chan delivery

	mu     sync.Mutex
	closed bool
	window map[string]*coalesce // key: user id, kind, reason (offer)
	// sweepAt is the window count at which offer forgets idle windows.
	sweepAt int

	metaMu sync.Mutex
	convs  map[string]convMeta
	names  map[string]nameMeta

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // planners and workers
	pwg     sync.WaitGroup // planners
	planned chan struct{}  // closed when every planner has returned
}

var _ PushService = (*Pusher)(nil)

// NewPusher starts a Pusher's goroutines.
func NewPusher(cfg PusherConfig) (*Pusher, error) {
	if cfg.Store == nil {
		return nil, errors.New("chatcore: pusher needs a store")
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pusher{
		cfg:        cfg,
		log:        cfg.Logger.With(slog.String("component", "push")),
		events:     make(chan event, cfg.QueueSize),
		deliveries: make(chan delivery, cfg.QueueSize),
		window:     map[string]*coalesce{},
		sweepAt:    windowSweepMin,
		convs:      map[string]convMeta{},
		names:      map[string]nameMeta{},
		ctx:        ctx,
		cancel:     cancel,
		planned:    make(chan struct{}),
	}
	// Planning waits on the database (devices, presence, preferences) for
	// every message: as many planners as delivery workers keep up with a
	// busy node.
	planners := cfg.Workers
	p.wg.Add(planners + cfg.Workers)
	p.pwg.Add(planners)
	for range planners {
		go p.plan()
	}
	go func() { p.pwg.Wait(); close(p.planned) }()
	for range cfg.Workers {
		go p.deliver()
	}
	return p, nil
}

// MessageSent queues msg for its recipients; see PushService.
func (p *Pusher) MessageSent(msg *Message, recipients []string) {
	if len(recipients) == 0 || len(p.cfg.Senders) == 0 {
		return
	}
	p.queueEvent(event{msg: msg, recipients: recipients}, PushMessage)
}

// ReadAdvanced queues a silent update; see PushService.
func (p *Pusher) ReadAdvanced(userID, conversationID string, readSeq int64, fromDeviceID string) {
	if len(p.cfg.Senders) == 0 {
		return
	}
	p.queueEvent(event{userID: userID, convID: conversationID, readSeq: readSeq, fromDevice: fromDeviceID}, PushUpdate)
}

// MessageDeleted queues a silent update for msg's recipients; see
// PushService.
func (p *Pusher) MessageDeleted(msg *Message, recipients []string) {
	if len(recipients) == 0 || len(p.cfg.Senders) == 0 {
		return
	}
	p.queueEvent(event{msg: msg, recipients: recipients, deleted: true}, PushUpdate)
}

func (p *Pusher) queueEvent(e event, kind string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.events <- e:
	default:
		p.metric("all", kind, "dropped")
		p.log.Warn("push event queue full, dropping")
	}
}

// Close stops intake, sends what is coalesced or queued until ctx ends,
// then abandons the rest (retries included).
func (p *Pusher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.events)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("close pusher: %w", ctx.Err())
	}
}

func (p *Pusher) metric(provider, kind, outcome string) {
	if p.cfg.Metrics != nil {
		p.cfg.Metrics.Pushed(provider, kind, outcome)
	}
}

func (p *Pusher) provider(platform string) string {
	if name := p.cfg.Providers[platform]; name != "" {
		return name
	}
	return platform
}

// plan turns events into per-user pushes.
func (p *Pusher) plan() {
	defer p.wg.Done()
	defer p.pwg.Done()
	batch := make([]event, 0, planBatch)
	for e := range p.events {
		// Drain what else is queued, so that a busy node looks devices and
		// presence up once per batch rather than once per message.
		batch = append(batch[:0], e)
	drain:
		for len(batch) < planBatch {
			select {
			case e, ok := <-p.events:
				if !ok {
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		var msgs []event
		for _, e := range batch {
			switch {
			case e.deleted:
				if err := p.planDeleted(ctx, e); err != nil {
					p.log.Error("push planning failed", slog.String("conversation_id", e.msg.ConversationID), slog.Any("error", err))
				}
			case e.msg != nil:
				msgs = append(msgs, e)
			default:
				p.offer(&userPush{userID: e.userID, except: e.fromDevice, push: Push{
					Kind: PushUpdate, ConversationID: e.convID, Seq: e.readSeq, Reason: PushReasonRead,
				}})
			}
		}
		if len(msgs) > 0 {
			if err := p.planMessages(ctx, msgs); err != nil {
				p.log.Error("push planning failed", slog.Int("messages", len(msgs)), slog.Any("error", err))
			}
		}
		cancel()
	}
	// Intake is closed: send what waits in coalescing windows now.
	p.flushAll()
}

// planBatch is the most queued events one planning round covers.
const planBatch = 128

// planMessages finds, in one query and one presence lookup, which
// recipients of the messages have a device that is not live, then plans
// each message for them.
func (p *Pusher) planMessages(ctx context.Context, msgs []event) error {
	var users []string
	for _, e := range msgs {
		users = append(users, e.recipients...)
	}
	devs, err := p.cfg.Store.DevicesOfUsers(ctx, users)
	if err != nil {
		return fmt.Errorf("devices of recipients: %w", err)
	}
	if len(devs) == 0 {
		return nil // the common case for web-only members: one query
	}
	live := map[string]bool{}
	if p.cfg.Presence != nil {
		owners := make([]string, 0, len(devs))
		seen := map[string]bool{}
		for _, d := range devs {
			if !seen[d.UserID] {
				seen[d.UserID] = true
				owners = append(owners, d.UserID)
			}
		}
		if live, err = p.cfg.Presence.LiveDevices(ctx, owners); err != nil {
			return fmt.Errorf("live devices: %w", err)
		}
	}
	// pushable: users with at least one device that is not live.
	pushable := map[string]bool{}
	for _, d := range devs {
		if !live[d.ID] {
			pushable[d.UserID] = true
		}
	}
	var errs []error
	for _, e := range msgs {
		var due []string
		for _, u := range e.recipients {
			if pushable[u] && u != e.msg.SenderID && !slices.Contains(due, u) {
				due = append(due, u)
			}
		}
		if len(due) == 0 {
			continue
		}
		if err := p.planMessage(ctx, e.msg, due); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// planDeleted offers a "deleted" update to the recipients of a deleted
// message that have a device (one query; fanOut skips live devices). No
// notification preference applies: the update shows nothing, it only
// takes back what a push may have shown.
func (p *Pusher) planDeleted(ctx context.Context, e event) error {
	devs, err := p.cfg.Store.DevicesOfUsers(ctx, e.recipients)
	if err != nil {
		return fmt.Errorf("devices of recipients: %w", err)
	}
	due := map[string]bool{}
	for _, d := range devs {
		if d.UserID == e.msg.SenderID || due[d.UserID] {
			continue
		}
		due[d.UserID] = true
		p.offer(&userPush{userID: d.UserID, push: Push{
			Kind: PushUpdate, ConversationID: e.msg.ConversationID, Seq: e.msg.Seq, Reason: PushReasonDeleted,
		}})
	}
	return nil
}

// planMessage pushes msg to dueUsers (recipients with a device that is
// not live) whose level lets it through.
func (p *Pusher) planMessage(ctx context.Context, msg *Message, dueUsers []string) error {
	conv, err := p.conversation(ctx, msg.ConversationID, msg.SenderID)
	if err != nil {
		return err
	}
	prefs, err := p.cfg.Store.NotificationPrefs(ctx, msg.ConversationID, dueUsers)
	if err != nil {
		return fmt.Errorf("notification prefs: %w", err)
	}
	title, body := "", HiddenBody
	if !p.cfg.HideContent {
		if title, err = p.senderName(ctx, msg.SenderID); err != nil {
			return err
		}
		if conv.kind == KindGroup && conv.title != "" {
			title += " · " + conv.title
		}
		body = Preview(msg)
	}
	now := time.Now()
	def := DefaultLevel(conv.kind, conv.members)
	for _, u := range dueUsers {
		level := def
		if pref, ok := prefs[u]; ok {
			if pref.MutedUntil != nil && pref.MutedUntil.After(now) {
				continue
			}
			level = pref.Level
		}
		// "mentions" lets through what names the member (@username, or
		// @all by a group admin: both resolved into Mentions at send).
		if level != NotifyAll && !(level == NotifyMentions && contains(msg.Mentions, u)) {
			continue
		}
		p.offer(&userPush{userID: u, push: Push{
			Kind: PushMessage, ConversationID: msg.ConversationID, Seq: msg.Seq, MessageID: msg.ID,
			Title: title, Body: body,
		}})
	}
	return nil
}

// metaTTL is how long the Pusher reuses a conversation's kind, title and
// size and a sender's display name: a rename or a new member shows in
// pushes within it. It saves two queries per message.
const metaTTL = 30 * time.Second

// metaCacheMax bounds each cache; past it the cache starts empty again.
const metaCacheMax = 10000

type convMeta struct {
	kind    ConversationKind
	title   string
	members int
	at      time.Time
}

type nameMeta struct {
	name string
	at   time.Time
}

// conversation returns the conversation's kind, title and size, cached
// for metaTTL.
func (p *Pusher) conversation(ctx context.Context, convID, senderID string) (convMeta, error) {
	now := time.Now()
	p.metaMu.Lock()
	m, ok := p.convs[convID]
	p.metaMu.Unlock()
	if ok && now.Sub(m.at) < metaTTL {
		return m, nil
	}
	conv, err := p.cfg.Store.ConversationForUser(ctx, convID, senderID)
	if err != nil {
		return convMeta{}, fmt.Errorf("conversation %s: %w", convID, err)
	}
	m = convMeta{kind: conv.Kind, title: conv.Title, members: len(conv.Members), at: now}
	p.metaMu.Lock()
	if len(p.convs) >= metaCacheMax {
		p.convs = map[string]convMeta{}
	}
	p.convs[convID] = m
	p.metaMu.Unlock()
	return m, nil
}

// senderName returns a user's display name, cached for metaTTL.
func (p *Pusher) senderName(ctx context.Context, userID string) (string, error) {
	now := time.Now()
	p.metaMu.Lock()
	n, ok := p.names[userID]
	p.metaMu.Unlock()
	if ok && now.Sub(n.at) < metaTTL {
		return n.name, nil
	}
	u, err := p.cfg.Store.UserByID(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("sender %s: %w", userID, err)
	}
	p.metaMu.Lock()
	if len(p.names) >= metaCacheMax {
		p.names = map[string]nameMeta{}
	}
	p.names[userID] = nameMeta{name: u.DisplayName, at: now}
	p.metaMu.Unlock()
	return u.DisplayName, nil
}

// Preview is the alert body for a message: its text cut to 140
// characters, else a label for its first attachment.
func Preview(m *Message) string {
	if m.Body != "" {
		if utf8.RuneCountInString(m.Body) <= previewRunes {
			return m.Body
		}
		r := []rune(m.Body)
		return string(r[:previewRunes-1]) + "…"
	}
	if len(m.Attachments) == 0 {
		return HiddenBody
	}
	a := m.Attachments[0]
	switch a.Kind {
	case AttachImage:
		return "📷 Photo"
	case AttachVoice:
		if a.DurationMS > 0 {
			s := (a.DurationMS + 500) / 1000
			return fmt.Sprintf("🎤 Voice message (%d:%02d)", s/60, s%60)
		}
		return "🎤 Voice message"
	case AttachVideo:
		return "🎬 Video"
	default:
		return "📎 File"
	}
}

// offer sends up at once when the user's window is open, else keeps it
// as the window's pending push (replacing an older one) to send when the
// window ends.
func (p *Pusher) offer(up *userPush) {
	// Windows are per kind and reason, so a read never hides a deletion;
	// deletions also per conversation, so each conversation's device
	// learns to withdraw its notification.
	key := up.userID + "\x00" + up.push.Kind + "\x00" + up.push.Reason
	if up.push.Reason == PushReasonDeleted {
		key += "\x00" + up.push.ConversationID
	}
	now := time.Now()
	p.mu.Lock()
	if len(p.window) >= p.sweepAt {
		p.sweepWindowsLocked(now)
	}
	c := p.window[key]
	if c == nil {
		c = &coalesce{}
		p.window[key] = c
	}
	if c.pending == nil && now.Sub(c.lastSent) >= p.cfg.Window {
		c.lastSent = now
		p.mu.Unlock()
		p.enqueue(delivery{user: up})
		return
	}
	switch {
	case c.pending == nil:
		c.pending = up
	case c.pending.push.ConversationID == up.push.ConversationID && c.pending.push.Seq > up.push.Seq && up.push.Reason != PushReasonDeleted:
		// Planned out of order by another planner: the newer one stays.
	default:
		if c.pending.except != up.except {
			up.except = "" // reads from two devices: update them all
		}
		c.pending = up
	}
	if c.timer == nil {
		wait := p.cfg.Window - now.Sub(c.lastSent)
		c.timer = time.AfterFunc(wait, func() { p.flush(key) })
	}
	p.mu.Unlock()
}

// windowSweepMin is the fewest windows at which offer sweeps idle ones.
const windowSweepMin = 10000

// sweepWindowsLocked forgets windows that are closed and hold nothing, so
// the map stays bounded by recent activity; the next sweep waits until the
// map has doubled. p.mu is held.
func (p *Pusher) sweepWindowsLocked(now time.Time) {
	for k, c := range p.window {
		if c.pending == nil && c.timer == nil && now.Sub(c.lastSent) >= p.cfg.Window {
			delete(p.window, k)
		}
	}
	p.sweepAt = max(windowSweepMin, 2*len(p.window))
}

// flush sends a window's pending push.
func (p *Pusher) flush(key string) {
	p.mu.Lock()
	c := p.window[key]
	if c == nil || c.pending == nil {
		p.mu.Unlock()
		return
	}
	up := c.pending
	c.pending, c.timer, c.lastSent = nil, nil, time.Now()
	p.mu.Unlock()
	p.enqueue(delivery{user: up})
}

// flushAll sends every pending push (at Close), and forgets idle windows.
func (p *Pusher) flushAll() {
	p.mu.Lock()
	var ups []*userPush
	for k, c := range p.window {
		if c.timer != nil {
			c.timer.Stop()
		}
		if c.pending != nil {
			ups = append(ups, c.pending)
		}
		delete(p.window, k)
	}
	p.mu.Unlock()
	for _, up := range ups {
		p.enqueue(delivery{user: up})
	}
}

func (p *Pusher) enqueue(d delivery) {
	select {
	case p.deliveries <- d:
	default:
		p.metric("all", d.push.Kind, "dropped")
		p.log.Warn("push delivery queue full, dropping")
	}
}

// deliver runs deliveries until the planners have finished (after Close)
// and the queue is empty, or Close gives up.
func (p *Pusher) deliver() {
	defer p.wg.Done()
	for {
		select {
		case d := <-p.deliveries:
			p.handle(d)
		case <-p.ctx.Done():
			return
		case <-p.planned:
			for {
				select {
				case d := <-p.deliveries:
					p.handle(d)
				default:
					return
				}
			}
		}
	}
}

func (p *Pusher) handle(d delivery) {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if d.user != nil {
		p.fanOut(ctx, d.user)
		return
	}
	p.attempt(ctx, d)
}

// fanOut resolves a user's push to each non-live device, with the badge
// read now so it counts everything sent meanwhile.
func (p *Pusher) fanOut(ctx context.Context, up *userPush) {
	devs, err := p.cfg.Store.DevicesOfUsers(ctx, []string{up.userID})
	if err != nil {
		p.log.Error("push: list devices", slog.String("user_id", up.userID), slog.Any("error", err))
		return
	}
	live := map[string]bool{}
	if p.cfg.Presence != nil && len(devs) > 0 {
		if live, err = p.cfg.Presence.LiveDevices(ctx, []string{up.userID}); err != nil {
			p.log.Error("push: live devices", slog.String("user_id", up.userID), slog.Any("error", err))
			return
		}
	}
	var targets []*Device
	for _, d := range devs {
		if !live[d.ID] && d.ID != up.except && p.cfg.Senders[d.Platform] != nil {
			targets = append(targets, d)
		}
	}
	if len(targets) == 0 {
		return
	}
	unread, err := p.cfg.Store.UnreadCount(ctx, up.userID, p.cfg.UnreadLimit)
	if err != nil {
		p.log.Error("push: unread count", slog.String("user_id", up.userID), slog.Any("error", err))
		return
	}
	push := up.push
	push.Badge = unread
	for _, d := range targets {
		p.attempt(ctx, delivery{device: *d, push: push, attempt: 1})
	}
}

// attempt sends one push to one device and acts on the outcome.
func (p *Pusher) attempt(ctx context.Context, d delivery) {
	sender := p.cfg.Senders[d.device.Platform]
	if sender == nil {
		return
	}
	provider := p.provider(d.device.Platform)
	start := time.Now()
	err := sender.Send(ctx, d.device, d.push)
	if p.cfg.Metrics != nil {
		p.cfg.Metrics.ProviderLatency(provider, time.Since(start))
	}
	attrs := []any{slog.String("device_id", d.device.ID), slog.String("user_id", d.device.UserID),
		slog.String("provider", provider), slog.String("kind", d.push.Kind), slog.Int("attempt", d.attempt)}
	var retry *PushRetryError
	switch {
	case err == nil:
		p.metric(provider, d.push.Kind, "sent")
	case errors.Is(err, ErrPushTokenDead):
		p.metric(provider, d.push.Kind, "dead")
		if _, derr := p.cfg.Store.DeleteDeviceToken(ctx, d.device.ID, d.device.Token); derr != nil {
			p.log.Error("push: prune dead token", append(attrs, slog.Any("error", derr))...)
			return
		}
		p.log.Info("push: pruned dead token", append(attrs, slog.Any("error", err))...)
	case errors.As(err, &retry) && d.attempt < p.cfg.MaxAttempts:
		p.metric(provider, d.push.Kind, "retry")
		backoff := min(p.cfg.BaseBackoff<<(d.attempt-1), p.cfg.MaxBackoff)
		wait := backoff/2 + rand.N(backoff/2+1)
		if retry.After > wait {
			wait = min(retry.After, p.cfg.MaxBackoff)
		}
		p.log.Debug("push: will retry", append(attrs, slog.Int64("retry_in_ms", wait.Milliseconds()), slog.Any("error", err))...)
		d.attempt++
		time.AfterFunc(wait, func() {
			if p.ctx.Err() == nil {
				p.enqueue(d)
			}
		})
	default:
		p.metric(provider, d.push.Kind, "failed")
		p.log.Warn("push: failed", append(attrs, slog.Any("error", err))...)
	}
}
