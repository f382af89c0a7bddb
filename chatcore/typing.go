package chatcore

import (
	"context"
	"sync"
	"time"
)

// Typing states.
const (
	TypingStart = "start"
	TypingStop  = "stop"
)

// typingPublishTimeout bounds the publish of a "stop" made by a timer.
const typingPublishTimeout = 5 * time.Second

// TypingService relays typing indicators; they are never stored.
type TypingService interface {
	// Typing pushes "start" or "stop" to the other members; a "start" not
	// renewed within the typing TTL turns into a pushed "stop".
	// Errors: EInvalid (state not "start" or "stop"), EForbidden (not a
	// member).
	Typing(ctx context.Context, callerID, convID, state string) error
}

// typingService implements TypingService. Its timers live in deps.typing,
// which conversations (a member removed) and presence (last socket closed)
// stop too.
type typingService struct{ *deps }

// Typing pushes a typing state to the other members of a conversation; it
// is never stored. A "start" not renewed within the typing TTL turns into a
// pushed "stop". Errors: EInvalid (state not "start" or "stop"),
// EForbidden (not a member).
func (s *typingService) Typing(ctx context.Context, callerID, convID, state string) error {
	if state != TypingStart && state != TypingStop {
		return Errorf(EInvalid, `typing state must be "start" or "stop"`)
	}
	members, err := s.memberIDsFor(ctx, convID, callerID, "typing")
	if err != nil {
		return err
	}
	others, err := s.typingRecipients(ctx, convID, callerID, members)
	if err != nil {
		return err
	}
	if state == TypingStart {
		s.typing.start(convID, callerID, others)
	} else {
		s.typing.stop(convID, callerID)
	}
	s.publishTyping(ctx, convID, callerID, state, others)
	return nil
}

func (s *deps) publishTyping(ctx context.Context, convID, userID, state string, recipients []string) {
	frame := EncodeFrame(TypingFrame{Type: FrameTyping, ConversationID: convID, UserID: userID, State: state})
	s.publish(ctx, recipients, frame, "typing")
}

// typingExpired runs on a timer when a "start" was not renewed in time.
func (s *deps) typingExpired(convID, userID string, recipients []string) {
	ctx, cancel := context.WithTimeout(context.Background(), typingPublishTimeout)
	defer cancel()
	s.publishTyping(ctx, convID, userID, TypingStop, recipients)
}

// stopUserTyping pushes "stop" for every conversation where userID is
// typing on this node (their last socket closed).
func (s *deps) stopUserTyping(ctx context.Context, userID string) {
	for _, e := range s.typing.stopUser(userID) {
		s.publishTyping(ctx, e.convID, userID, TypingStop, e.recipients)
	}
}

type typingKey struct{ convID, userID string }

type typingEntry struct {
	convID     string
	recipients []string
	timer      *time.Timer
	gen        uint64
}

// typingTracker holds one timer per (conversation, user) typing on this
// node. The generation number makes a timer that fired just as its entry
// was renewed or stopped a no-op.
type typingTracker struct {
	ttl      time.Duration
	onExpire func(convID, userID string, recipients []string)

	mu      sync.Mutex
	entries map[typingKey]*typingEntry
	gen     uint64
	closed  bool
}

func newTypingTracker(ttl time.Duration, onExpire func(convID, userID string, recipients []string)) *typingTracker {
	return &typingTracker{ttl: ttl, onExpire: onExpire, entries: make(map[typingKey]*typingEntry)}
}

// start begins or renews a typing period.
func (t *typingTracker) start(convID, userID string, recipients []string) {
	k := typingKey{convID, userID}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if e, ok := t.entries[k]; ok {
		e.timer.Stop()
	}
	t.gen++
	gen := t.gen
	e := &typingEntry{convID: convID, recipients: recipients, gen: gen}
	e.timer = time.AfterFunc(t.ttl, func() { t.expire(k, gen) })
	t.entries[k] = e
}

func (t *typingTracker) expire(k typingKey, gen uint64) {
	t.mu.Lock()
	e, ok := t.entries[k]
	if !ok || e.gen != gen || t.closed {
		t.mu.Unlock()
		return
	}
	delete(t.entries, k)
	t.mu.Unlock()
	t.onExpire(k.convID, k.userID, e.recipients)
}

// stop ends a typing period and reports whether one was running.
func (t *typingTracker) stop(convID, userID string) bool {
	k := typingKey{convID, userID}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[k]
	if ok {
		e.timer.Stop()
		delete(t.entries, k)
	}
	return ok
}

// stopUser ends every typing period of userID and returns them.
func (t *typingTracker) stopUser(userID string) []*typingEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*typingEntry
	for k, e := range t.entries {
		if k.userID == userID {
			e.timer.Stop()
			delete(t.entries, k)
			out = append(out, e)
		}
	}
	return out
}

// active returns how many typing periods are running.
func (t *typingTracker) active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// close stops every timer; later starts are ignored.
func (t *typingTracker) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for k, e := range t.entries {
		e.timer.Stop()
		delete(t.entries, k)
	}
}
