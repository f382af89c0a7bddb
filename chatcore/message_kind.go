package chatcore

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"unicode/utf8"
)

// MessageKind tells clients how to render a message.
type MessageKind string

// Message kinds. Clients send text (the default), media (set by the server
// when attachments are present) or location; system is written only by the
// server.
const (
	MessageText     MessageKind = "text"
	MessageMedia    MessageKind = "media"
	MessageLocation MessageKind = "location"
	MessageSystem   MessageKind = "system"
)

// Location limits.
const (
	MaxLocationNameRunes    = 256
	MaxLocationAddressRunes = 512
)

// Location is the payload of a kind "location" message.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

func (l *Location) validate() error {
	switch {
	case math.IsNaN(l.Latitude) || l.Latitude < -90 || l.Latitude > 90:
		return Errorf(EInvalid, "location.latitude must be between -90 and 90")
	case math.IsNaN(l.Longitude) || l.Longitude < -180 || l.Longitude > 180:
		return Errorf(EInvalid, "location.longitude must be between -180 and 180")
	case !utf8.ValidString(l.Name) || utf8.RuneCountInString(l.Name) > MaxLocationNameRunes:
		return Errorf(EInvalid, "location.name must be valid UTF-8 of at most %d characters", MaxLocationNameRunes)
	case !utf8.ValidString(l.Address) || utf8.RuneCountInString(l.Address) > MaxLocationAddressRunes:
		return Errorf(EInvalid, "location.address must be valid UTF-8 of at most %d characters", MaxLocationAddressRunes)
	}
	return nil
}

// System events: what a kind "system" message records.
const (
	SystemConversationCreated = "conversation_created"
	SystemMemberAdded         = "member_added"
	SystemMemberRemoved       = "member_removed"
	SystemMemberLeft          = "member_left"
	SystemTitleChanged        = "title_changed"
	SystemRoleChanged         = "role_changed"
)

// SystemEvent is the payload of a kind "system" message: how clients
// render membership history ("Anna added Ben").
type SystemEvent struct {
	Event   string     `json:"event"`
	ActorID string     `json:"actor_id"`
	UserIDs []string   `json:"user_ids,omitempty"`
	Title   string     `json:"title,omitempty"`
	Role    MemberRole `json:"role,omitempty"` // role_changed: the new role
}

// MemberRole is a member's role in a group. Direct conversations have
// only members.
type MemberRole string

// Member roles: the creator of a group is its owner; owners and admins
// add and remove members and delete others' messages; the owner sets roles.
const (
	GroupOwner  MemberRole = "owner"
	GroupAdmin  MemberRole = "admin"
	GroupMember MemberRole = "member"
)

// canModerate reports whether the role may add or remove members and
// delete others' messages.
func (r MemberRole) canModerate() bool { return r == GroupOwner || r == GroupAdmin }

// MentionAll is the body token that mentions every member (group admins
// and owners only).
const MentionAll = "all"

// maxMentionTokens bounds the @names one message resolves.
const maxMentionTokens = 50

// mentionTokens returns the distinct lower-cased @names in body, in order,
// at most maxMentionTokens. A name is what a username may hold
// ([a-z0-9_.-]); a trailing '.' or '-' is punctuation, not part of it.
func mentionTokens(body string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(body) && len(out) < maxMentionTokens; i++ {
		if body[i] != '@' {
			continue
		}
		// "a@b" is an address, not a mention.
		if i > 0 && isUsernameByte(lower(body[i-1])) {
			continue
		}
		j := i + 1
		for j < len(body) && j-i-1 < MaxUsernameLen && isUsernameByte(lower(body[j])) {
			j++
		}
		name := strings.ToLower(strings.TrimRight(body[i+1:j], ".-"))
		i = j - 1
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func isUsernameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

// resolveMentions turns the @names in body into member ids (sender
// excluded). @all expands to every other member when the sender may
// moderate, and is ignored otherwise; unknown names and non-members are
// ignored.
func (s *deps) resolveMentions(ctx context.Context, body string, conv *Conversation, senderID string) ([]string, error) {
	names := mentionTokens(body)
	if len(names) == 0 {
		return []string{}, nil
	}
	role := GroupMember
	members := make(map[string]bool, len(conv.Members))
	for _, m := range conv.Members {
		members[m.UserID] = true
		if m.UserID == senderID {
			role = m.Role
		}
	}
	out := []string{}
	added := map[string]bool{senderID: true}
	for _, name := range names {
		if name == MentionAll {
			if conv.Kind == KindGroup && role.canModerate() {
				for _, m := range conv.Members {
					if !added[m.UserID] {
						added[m.UserID] = true
						out = append(out, m.UserID)
					}
				}
			}
			continue
		}
		if len(name) < MinUsernameLen {
			continue
		}
		u, _, err := s.store.UserByUsername(ctx, name)
		if err != nil {
			if ErrorCode(err) == ENotFound {
				continue
			}
			return nil, internalError("resolve mentions", err, slog.String("conversation_id", conv.ID))
		}
		if members[u.ID] && !added[u.ID] {
			added[u.ID] = true
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// appendSystem stores a system message in convID and pushes it to
// recipients. It is best effort after the change it records: a failure is
// logged, never returned, since the change itself already happened.
func (s *deps) appendSystem(ctx context.Context, convID string, ev SystemEvent, recipients []string) *Message {
	id, err := newID()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: system message id", slog.Any("error", err))
		return nil
	}
	ev.UserIDs = nonNil(ev.UserIDs)
	m := &Message{
		ID:             id,
		ConversationID: convID,
		SenderID:       ev.ActorID,
		Kind:           MessageSystem,
		System:         &ev,
		Mentions:       []string{},
		CreatedAt:      s.clock.Now().UTC(),
	}
	ctx = context.WithoutCancel(ctx)
	msg, _, err := s.store.AppendMessage(ctx, m, nil)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: system message not stored",
			slog.String("conversation_id", convID), slog.String("event", ev.Event), slog.Any("error", err))
		return nil
	}
	if msg.Attachments == nil {
		msg.Attachments = []*Attachment{}
	}
	s.publish(ctx, recipients, EncodeFrame(MessageFrame{Type: FrameMessage, Message: msg, Cursor: LiveCursor(msg.ChangeID)}), "system message")
	return msg
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
