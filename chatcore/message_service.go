package chatcore

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SendRequest is a message as a client sends it.
type SendRequest struct {
	ConversationID string   `json:"conversation_id"`
	ClientID       string   `json:"client_id"`
	Body           string   `json:"body"`
	ReplyToSeq     int64    `json:"reply_to_seq,omitempty"`
	AttachmentIDs  []string `json:"attachment_ids,omitempty"`
	// Kind is "text" (default), "media" (implied by attachments) or
	// "location" (Location required). "system" is the server's alone.
	Kind     MessageKind `json:"kind,omitempty"`
	Location *Location   `json:"location,omitempty"`
}

// validate checks what can be checked without the store.
func (r *SendRequest) validate() error {
	switch {
	case r.ConversationID == "":
		return Errorf(EInvalid, "conversation_id is required")
	case r.ClientID == "" || len(r.ClientID) > MaxClientIDBytes:
		return Errorf(EInvalid, "client_id must be 1 to %d bytes", MaxClientIDBytes)
	case !utf8.ValidString(r.ClientID):
		return Errorf(EInvalid, "client_id must be valid UTF-8")
	case len(r.Body) > MaxBodyBytes:
		return Errorf(ETooLarge, "body must be at most %d bytes", MaxBodyBytes)
	case !utf8.ValidString(r.Body):
		return Errorf(EInvalid, "body must be valid UTF-8")
	case r.Body == "" && len(r.AttachmentIDs) == 0 && r.Kind != MessageLocation:
		return Errorf(EInvalid, "body must not be empty")
	case len(r.AttachmentIDs) > MaxAttachments:
		return Errorf(ETooLarge, "at most %d attachments per message", MaxAttachments)
	case r.ReplyToSeq < 0:
		return Errorf(EInvalid, "reply_to_seq must not be negative")
	}
	switch r.Kind {
	case "", MessageText, MessageMedia:
		if r.Location != nil {
			return Errorf(EInvalid, "location is only for kind location")
		}
		if r.Kind == MessageMedia && len(r.AttachmentIDs) == 0 {
			return Errorf(EInvalid, "kind media needs attachment_ids")
		}
	case MessageLocation:
		if r.Location == nil {
			return Errorf(EInvalid, "kind location needs location")
		}
		if len(r.AttachmentIDs) > 0 {
			return Errorf(EInvalid, "a location message has no attachments")
		}
		if err := r.Location.validate(); err != nil {
			return err
		}
	case MessageSystem:
		return Errorf(EInvalid, "system messages are written by the server")
	default:
		return Errorf(EInvalid, "kind must be text, media or location")
	}
	seen := make(map[string]struct{}, len(r.AttachmentIDs))
	for _, id := range r.AttachmentIDs {
		if id == "" {
			return Errorf(EInvalid, "attachment id must not be empty")
		}
		if _, dup := seen[id]; dup {
			return Errorf(EInvalid, "attachment %q listed twice", id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// kind is the stored kind: media whenever attachments are present.
func (r *SendRequest) kind() MessageKind {
	switch {
	case r.Kind == MessageLocation:
		return MessageLocation
	case len(r.AttachmentIDs) > 0:
		return MessageMedia
	}
	return MessageText
}

// MessageService stores and pages messages and wakes offline members.
type MessageService interface {
	// Send stores a message and pushes it to every member; a retry with
	// the same client_id returns the stored one with created=false.
	// Errors: EInvalid, ETooLarge, EForbidden (not a member), EConflict.
	Send(ctx context.Context, callerID string, req SendRequest) (msg *Message, created bool, err error)
	// Messages returns a page of a conversation's history; limit 0 means
	// DefaultMessagesPage, more than MaxMessagesPage is cut to it.
	// Errors: EInvalid, ENotFound (no such conversation or not a member).
	Messages(ctx context.Context, callerID, convID string, q MessageQuery) ([]*Message, error)
}

// messageService implements MessageService. Offline notifications run
// behind Send so a presence lookup and the Notifier never add to a
// sender's latency.
type messageService struct {
	*deps
	notifyMu     sync.RWMutex
	notifyClosed bool
	notifyQ      chan notifyJob
	notifyDone   chan struct{}
}

func newMessageService(d *deps) *messageService {
	s := &messageService{deps: d, notifyQ: make(chan notifyJob, notifyQueueSize), notifyDone: make(chan struct{})}
	go s.notifyLoop()
	return s
}

// close stops the notification loop after it drained its queue.
func (s *messageService) close() {
	s.notifyMu.Lock()
	s.notifyClosed = true
	close(s.notifyQ)
	s.notifyMu.Unlock()
	<-s.notifyDone
}

// Send stores a message and pushes it to every member (the sender too, for
// their other devices), then wakes members with no live socket through the
// Notifier (never the sender). The same sender, conversation and client_id
// always yield the same message: a retry returns it with created=false and
// pushes it again, since the first attempt may have died before its push.
//
// It costs one store round trip (the append; the members come from the
// node's cache, sendMembers, but for the first send of a sender to a
// conversation within the cache's TTL) and one bus publish; the presence
// lookup and notifications run in the background. The append refuses a
// sender who is not a member, whatever the cache says.
//
// Errors: EInvalid (client_id 1–64 bytes; body valid UTF-8 and non-empty
// unless it has attachments; reply_to_seq ≤ last seq; unusable
// attachments), ETooLarge (body > MaxBodyBytes, > MaxAttachments),
// EForbidden (not a member).
func (s *messageService) Send(ctx context.Context, callerID string, req SendRequest) (*Message, bool, error) {
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	var (
		members  []string
		blockers map[string]bool // members who block the sender
	)
	mentions := []string{}
	if req.ReplyToSeq > 0 || strings.IndexByte(req.Body, '@') >= 0 {
		// One query gives membership, the last seq to check a reply
		// against and the members (with roles) mentions resolve to.
		conv, err := s.store.ConversationForUser(ctx, req.ConversationID, callerID)
		if err != nil {
			if ErrorCode(err) == ENotFound {
				return nil, false, Errorf(EForbidden, "not a member of this conversation")
			}
			return nil, false, internalError("send message", err, slog.String("conversation_id", req.ConversationID))
		}
		if req.ReplyToSeq > conv.LastSeq {
			return nil, false, Errorf(EInvalid, "reply_to_seq %d is past the last message", req.ReplyToSeq)
		}
		members = make([]string, len(conv.Members))
		for i, m := range conv.Members {
			members[i] = m.UserID
		}
		if mentions, err = s.resolveMentions(ctx, req.Body, conv, callerID); err != nil {
			return nil, false, err
		}
		if blockers, err = s.blockersAmong(ctx, req.ConversationID, callerID, members); err != nil {
			return nil, false, err
		}
	} else {
		var err error
		if members, blockers, err = s.sendMembers(ctx, req.ConversationID, callerID); err != nil {
			return nil, false, err
		}
	}

	id, err := newID()
	if err != nil {
		return nil, false, internalError("send message", err)
	}
	m := &Message{
		ID:             id,
		ConversationID: req.ConversationID,
		ClientID:       req.ClientID,
		SenderID:       callerID,
		Body:           req.Body,
		ReplyToSeq:     req.ReplyToSeq,
		CreatedAt:      s.clock.Now().UTC(),
		Kind:           req.kind(),
		Mentions:       mentions,
		Location:       req.Location,
	}
	began := time.Now()
	msg, created, err := s.store.AppendMessage(ctx, m, req.AttachmentIDs)
	if s.hooks.StoreLatency != nil {
		s.hooks.StoreLatency(time.Since(began))
	}
	if err != nil {
		switch ErrorCode(err) {
		case EInvalid, ETooLarge, EConflict, EForbidden:
			// EForbidden: removed, or blocked in a direct conversation,
			// since the (maybe cached) check above; the store says which.
			return nil, false, err
		case ENotFound: // removed since the (maybe cached) membership check
			return nil, false, Errorf(EForbidden, "not a member of this conversation")
		}
		return nil, false, internalError("send message", err, slog.String("conversation_id", req.ConversationID))
	}
	if msg.Attachments == nil {
		msg.Attachments = []*Attachment{} // the protocol promises an array
	}
	if msg.ReplyToSeq > 0 || !created {
		// reply_to for a reply; a retry's original may have reactions
		// (Me false: the frame goes to every member).
		if err := s.details(ctx, []*Message{msg}, "", "send message"); err != nil {
			return nil, false, err
		}
	}
	if created && s.hooks.MessageStored != nil {
		s.hooks.MessageStored()
	}
	s.publishMessage(ctx, msg, members, blockers, "send message")
	// Who blocks the sender gets the message flagged, never a push for it.
	wake := dropBlocked(without(members, callerID), blockers)
	if created && s.push != nil {
		s.push.MessageSent(msg, wake)
	}
	if created {
		s.queueNotify(notifyJob{
			base:       Notification{ConversationID: msg.ConversationID, Seq: msg.Seq, SenderID: callerID},
			recipients: wake,
		})
	}
	return msg, created, nil
}

// Messages returns a page of a conversation's history (see MessageQuery).
// Limit 0 means DefaultMessagesPage; larger than MaxMessagesPage is cut to it.
// Errors: EInvalid, ENotFound (no such conversation or not a member).
func (s *messageService) Messages(ctx context.Context, callerID, convID string, q MessageQuery) ([]*Message, error) {
	var err error
	if q.Limit, err = pageLimit(q.Limit, DefaultMessagesPage, MaxMessagesPage); err != nil {
		return nil, err
	}
	switch {
	case q.Before < 0 || q.After < 0:
		return nil, Errorf(EInvalid, "before and after must not be negative")
	case q.Before > 0 && q.Forward:
		return nil, Errorf(EInvalid, "before and after cannot be combined")
	}
	ok, err := s.store.IsMember(ctx, convID, callerID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError("list messages", err, slog.String("conversation_id", convID))
	}
	if !ok {
		return nil, Errorf(ENotFound, "conversation not found")
	}
	msgs, err := s.store.ListMessages(ctx, convID, q)
	if err != nil {
		return nil, internalError("list messages", err, slog.String("conversation_id", convID))
	}
	if msgs == nil {
		msgs = []*Message{}
	}
	if err := s.details(ctx, msgs, callerID, "list messages"); err != nil {
		return nil, err
	}
	if err := s.flagBlockedSenders(ctx, callerID, msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}

// memberIDsFor returns the members of convID in one query, or EForbidden
// when it does not exist or callerID is not among them.
func (s *deps) memberIDsFor(ctx context.Context, convID, callerID, op string) ([]string, error) {
	members, err := s.store.MemberIDs(ctx, convID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(EForbidden, "not a member of this conversation")
		}
		return nil, internalError(op, err, slog.String("conversation_id", convID))
	}
	if !contains(members, callerID) {
		return nil, Errorf(EForbidden, "not a member of this conversation")
	}
	return members, nil
}

// notifyJob is one stored message whose recipients may need a wake-up.
type notifyJob struct {
	base       Notification // UserID unset
	recipients []string
}

// queueNotify hands a job to the background loop, or does it now when the
// queue is full or closed: notifications are slowed down, never dropped.
func (s *messageService) queueNotify(j notifyJob) {
	if s.notifier == nil || len(j.recipients) == 0 {
		return
	}
	s.notifyMu.RLock()
	if !s.notifyClosed {
		select {
		case s.notifyQ <- j:
			s.notifyMu.RUnlock()
			return
		default:
		}
	}
	s.notifyMu.RUnlock()
	s.notify(j)
}

// notifyBatch is the most queued jobs one presence lookup covers.
const notifyBatch = 256

// notifyLoop handles queued jobs, draining whatever else is queued into
// one batch so that a busy node asks presence once per batch rather than
// once per message.
func (s *messageService) notifyLoop() {
	defer close(s.notifyDone)
	batch := make([]notifyJob, 0, notifyBatch)
	for j := range s.notifyQ {
		batch = append(batch[:0], j)
	drain:
		for len(batch) < notifyBatch {
			select {
			case j, ok := <-s.notifyQ:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		s.notify(batch...)
	}
}

// notify asks presence, in one batched call, which recipients of the jobs
// have no live socket and calls the Notifier for each of them.
func (s *messageService) notify(jobs ...notifyJob) {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	users := jobs[0].recipients
	if len(jobs) > 1 {
		seen := make(map[string]struct{})
		users = nil
		for _, j := range jobs {
			for _, uid := range j.recipients {
				if _, ok := seen[uid]; !ok {
					seen[uid] = struct{}{}
					users = append(users, uid)
				}
			}
		}
	}
	online, err := s.presence.Online(ctx, users)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: presence lookup for notifications failed",
			slog.Int("messages", len(jobs)), slog.Int("users", len(users)), slog.Any("error", err))
		return
	}
	// Deleted accounts stay members (their old messages keep a sender) but
	// are never woken: the deployment's push webhook must not hear of them.
	var offline []string
	for _, uid := range users {
		if !online[uid] {
			offline = append(offline, uid)
		}
	}
	deleted, err := s.store.DeletedUserIDs(ctx, offline)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: deleted-account lookup for notifications failed",
			slog.Int("messages", len(jobs)), slog.Int("users", len(offline)), slog.Any("error", err))
		return
	}
	for _, j := range jobs {
		for _, uid := range j.recipients {
			if online[uid] || deleted[uid] {
				continue
			}
			n := j.base
			n.UserID = uid
			if err := s.notifier.Notify(ctx, n); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "chatcore: notify failed",
					slog.String("user_id", uid), slog.String("conversation_id", n.ConversationID),
					slog.Int64("seq", n.Seq), slog.Any("error", err))
			}
		}
	}
}
