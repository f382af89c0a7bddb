package chatcore

import (
	"context"
	"log/slog"
	"time"
)

// Conversation limits.
const (
	MaxTitleRunes = 128
)

// ConversationService creates conversations, lists them as the caller
// sees them and changes group membership.
type ConversationService interface {
	// CreateConversation starts a direct conversation (one other member,
	// idempotent per pair: created=false when it exists) or a group.
	// Errors: EInvalid (no other member, bad title, unknown user),
	// ETooLarge (more than MaxGroupMembers).
	CreateConversation(ctx context.Context, callerID string, memberIDs []string, title string) (conv *Conversation, created bool, err error)
	// Conversation returns one conversation. Errors: ENotFound (no such
	// conversation or not a member).
	Conversation(ctx context.Context, callerID, id string) (*Conversation, error)
	// Conversations lists the caller's conversations, newest activity
	// first, before pages; limit 0 means DefaultConversationsPage, more
	// than MaxConversationsPage is cut to it. Errors: EInvalid.
	Conversations(ctx context.Context, callerID string, before time.Time, limit int) ([]*Conversation, error)
	// AddMembers adds users to a group (owners and admins). Errors:
	// ENotFound (no such conversation or not a member), EForbidden
	// (direct conversation, not an owner or admin), EInvalid (unknown
	// user, empty list), ETooLarge.
	AddMembers(ctx context.Context, callerID, convID string, userIDs []string) (*Conversation, error)
	// RemoveMember removes a member from a group (self, or others by an
	// owner or admin; admins only by the owner; never the owner).
	// Errors: ENotFound, EForbidden.
	RemoveMember(ctx context.Context, callerID, convID, userID string) error
	// SetMemberRole makes a group member an admin or a plain member; the
	// owner only. Errors: ENotFound (no such conversation, caller or user
	// not a member), EForbidden (not the owner, direct conversation, the
	// owner's own role), EInvalid (role not admin or member).
	SetMemberRole(ctx context.Context, callerID, convID, userID string, role MemberRole) (*Conversation, error)
	// SetTitle renames a group (owners and admins); a title_changed
	// system message records it. Errors: ENotFound (no such conversation
	// or not a member), EForbidden (direct conversation, plain member),
	// EInvalid (bad title).
	SetTitle(ctx context.Context, callerID, convID, title string) (*Conversation, error)
}

// conversationService implements ConversationService.
type conversationService struct{ *deps }

// CreateConversation starts a conversation between the caller and
// memberIDs (the caller may be listed or not). One other member makes a
// direct conversation, idempotent per pair (created=false when it exists;
// a title is ignored); more make a group of at most MaxGroupMembers,
// caller included. Errors: EInvalid (no other member, bad title, unknown
// user), ETooLarge (too many members).
func (s *conversationService) CreateConversation(ctx context.Context, callerID string, memberIDs []string, title string) (*Conversation, bool, error) {
	others := uniqueOthers(memberIDs, callerID)
	if len(others) == 0 {
		return nil, false, Errorf(EInvalid, "member_ids must name at least one other user")
	}
	if len(others)+1 > MaxGroupMembers {
		return nil, false, Errorf(ETooLarge, "a group has at most %d members", MaxGroupMembers)
	}
	title, err := normalizeTitle(title)
	if err != nil {
		return nil, false, err
	}
	if err := s.checkUsersExist(ctx, others, "create conversation"); err != nil {
		return nil, false, err
	}
	if err := s.checkMayCreate(ctx, callerID, others); err != nil {
		return nil, false, err
	}
	id, err := newID()
	if err != nil {
		return nil, false, internalError("create conversation", err)
	}
	now := s.clock.Now().UTC()
	c := &Conversation{ID: id, CreatedBy: callerID, CreatedAt: now, LastActivityAt: now}

	created := true
	if len(others) == 1 {
		c.Kind = KindDirect
		got, ok, err := s.store.FindOrCreateDirect(ctx, c, callerID, others[0])
		if err != nil {
			return nil, false, internalError("create conversation", err)
		}
		c, created = got, ok
	} else {
		c.Kind = KindGroup
		c.Title = title
		if err := s.store.CreateConversation(ctx, c, append([]string{callerID}, others...)); err != nil {
			switch ErrorCode(err) {
			case ETooLarge, EInvalid, ENotFound:
				return nil, false, Errorf(EInvalid, "%s", ErrorMessage(err))
			}
			return nil, false, internalError("create conversation", err)
		}
		members := append([]string{callerID}, others...)
		s.appendSystem(ctx, c.ID, SystemEvent{Event: SystemConversationCreated, ActorID: callerID, UserIDs: others, Title: title}, members)
	}
	// Read back as the caller sees it: members, last message, unread count.
	conv, err := s.store.ConversationForUser(ctx, c.ID, callerID)
	if err != nil {
		return nil, false, internalError("create conversation", err, slog.String("conversation_id", c.ID))
	}
	return conv, created, nil
}

// Conversation returns a conversation as the caller sees it.
// Errors: ENotFound if it does not exist or the caller is not a member.
func (s *conversationService) Conversation(ctx context.Context, callerID, id string) (*Conversation, error) {
	conv, err := s.store.ConversationForUser(ctx, id, callerID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError("get conversation", err, slog.String("conversation_id", id))
	}
	if err := s.flagBlockedSenders(ctx, callerID, lastMessages(conv)); err != nil {
		return nil, err
	}
	if err := s.hideBlockedReceipts(ctx, callerID, conv); err != nil { // receipt_service.go
		return nil, err
	}
	if err := s.lastMessageDetails(ctx, []*Conversation{conv}, callerID); err != nil {
		return nil, err
	}
	return conv, nil
}

// Conversations lists the caller's conversations, newest activity first;
// before (if non-zero) pages past the last one seen. Limit 0 means
// DefaultConversationsPage; larger than MaxConversationsPage is cut to it.
// Errors: EInvalid.
func (s *conversationService) Conversations(ctx context.Context, callerID string, before time.Time, limit int) ([]*Conversation, error) {
	limit, err := pageLimit(limit, DefaultConversationsPage, MaxConversationsPage)
	if err != nil {
		return nil, err
	}
	convs, err := s.store.ListConversations(ctx, callerID, before, limit)
	if err != nil {
		return nil, internalError("list conversations", err, slog.String("user_id", callerID))
	}
	if convs == nil {
		convs = []*Conversation{}
	}
	if err := s.flagBlockedSenders(ctx, callerID, lastMessages(convs...)); err != nil {
		return nil, err
	}
	if err := s.hideBlockedReceipts(ctx, callerID, convs...); err != nil { // receipt_service.go
		return nil, err
	}
	if err := s.lastMessageDetails(ctx, convs, callerID); err != nil {
		return nil, err
	}
	return convs, nil
}

// AddMembers adds users to a group; owners and admins may add. Users
// already in it are ignored; the others are announced by a member_added
// system message. Errors: ENotFound (no such conversation or caller not a
// member), EForbidden (direct conversation, plain member), EInvalid
// (unknown user, empty list), ETooLarge (past MaxGroupMembers).
func (s *conversationService) AddMembers(ctx context.Context, callerID, convID string, userIDs []string) (*Conversation, error) {
	add := uniqueOthers(userIDs, callerID)
	if len(add) == 0 {
		return nil, Errorf(EInvalid, "user_ids must name at least one other user")
	}
	if len(add) >= MaxGroupMembers {
		return nil, Errorf(ETooLarge, "a group has at most %d members", MaxGroupMembers)
	}
	conv, err := s.Conversation(ctx, callerID, convID)
	if err != nil {
		return nil, err
	}
	if conv.Kind != KindGroup {
		return nil, Errorf(EForbidden, "members of a direct conversation cannot change")
	}
	if !roleOf(conv, callerID).canModerate() {
		return nil, Errorf(EForbidden, "only owners and admins may add members")
	}
	present := make(map[string]bool, len(conv.Members))
	for _, m := range conv.Members {
		present[m.UserID] = true
	}
	var added []string
	for _, id := range add {
		if !present[id] {
			added = append(added, id)
		}
	}
	if err := s.checkUsersExist(ctx, add, "add members"); err != nil {
		return nil, err
	}
	if err := s.checkMayAdd(ctx, callerID, added); err != nil {
		return nil, err
	}
	if err := s.store.AddMembers(ctx, convID, add, s.clock.Now().UTC()); err != nil {
		switch ErrorCode(err) {
		case ETooLarge:
			return nil, Errorf(ETooLarge, "a group has at most %d members", MaxGroupMembers)
		case ENotFound:
			return nil, Errorf(EInvalid, "%s", ErrorMessage(err))
		}
		return nil, internalError("add members", err, slog.String("conversation_id", convID))
	}
	s.invalidateMembers(ctx, convID)
	if len(added) > 0 {
		recipients := make([]string, 0, len(conv.Members)+len(added))
		for _, m := range conv.Members {
			recipients = append(recipients, m.UserID)
		}
		s.appendSystem(ctx, convID, SystemEvent{Event: SystemMemberAdded, ActorID: callerID, UserIDs: added},
			append(recipients, added...))
	}
	return s.Conversation(ctx, callerID, convID)
}

// RemoveMember removes userID from a group: members may leave (userID ==
// callerID), owners and admins may remove plain members, and the owner
// may remove admins; nobody removes the owner. A member_left or
// member_removed system message goes to the remaining members and the
// removed one (their last change); when the owner leaves, ownership
// passes to the oldest admin, else the oldest member (role_changed).
// Errors: ENotFound (no such conversation, caller or user not a member),
// EForbidden (direct conversation, or a removal the caller's role does
// not allow).
func (s *conversationService) RemoveMember(ctx context.Context, callerID, convID, userID string) error {
	conv, err := s.Conversation(ctx, callerID, convID)
	if err != nil {
		return err
	}
	if conv.Kind != KindGroup {
		return Errorf(EForbidden, "members of a direct conversation cannot change")
	}
	if userID != callerID {
		mine, theirs := roleOf(conv, callerID), roleOf(conv, userID)
		switch {
		case !mine.canModerate():
			return Errorf(EForbidden, "only owners and admins may remove other members")
		case theirs == GroupOwner:
			return Errorf(EForbidden, "the owner cannot be removed")
		case theirs == GroupAdmin && mine != GroupOwner:
			return Errorf(EForbidden, "only the owner may remove admins")
		}
	}
	if err := s.store.RemoveMember(ctx, convID, userID); err != nil {
		if ErrorCode(err) == ENotFound {
			return Errorf(ENotFound, "not a member of this conversation")
		}
		return internalError("remove member", err, slog.String("conversation_id", convID))
	}
	s.invalidateMembers(ctx, convID)
	s.typing.stop(convID, userID)
	ev := SystemEvent{Event: SystemMemberRemoved, ActorID: callerID, UserIDs: []string{userID}}
	if userID == callerID {
		ev = SystemEvent{Event: SystemMemberLeft, ActorID: callerID}
	}
	var rest []string
	for _, m := range conv.Members {
		if m.UserID != userID {
			rest = append(rest, m.UserID)
		}
	}
	s.appendSystem(ctx, convID, ev, append(rest, userID))
	if roleOf(conv, userID) == GroupOwner && len(rest) > 0 {
		s.announceNewOwner(ctx, convID, userID, rest)
	}
	return nil
}

// announceNewOwner writes the role_changed message for whoever the store
// made owner when the previous owner left.
func (s *conversationService) announceNewOwner(ctx context.Context, convID, leftID string, recipients []string) {
	conv, err := s.store.ConversationForUser(ctx, convID, recipients[0])
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: read new owner", slog.String("conversation_id", convID), slog.Any("error", err))
		return
	}
	for _, m := range conv.Members {
		if m.Role == GroupOwner {
			s.appendSystem(ctx, convID, SystemEvent{Event: SystemRoleChanged, ActorID: leftID, UserIDs: []string{m.UserID}, Role: GroupOwner}, recipients)
			return
		}
	}
}

// SetMemberRole makes userID an admin or a plain member of a group; only
// the owner may, and not for themself. A role_changed system message
// records it. Errors: ENotFound, EForbidden, EInvalid.
func (s *conversationService) SetMemberRole(ctx context.Context, callerID, convID, userID string, role MemberRole) (*Conversation, error) {
	if role != GroupAdmin && role != GroupMember {
		return nil, Errorf(EInvalid, "role must be admin or member")
	}
	conv, err := s.Conversation(ctx, callerID, convID)
	if err != nil {
		return nil, err
	}
	switch {
	case conv.Kind != KindGroup:
		return nil, Errorf(EForbidden, "a direct conversation has no roles")
	case roleOf(conv, callerID) != GroupOwner:
		return nil, Errorf(EForbidden, "only the owner may change roles")
	case userID == callerID:
		return nil, Errorf(EForbidden, "the owner's role cannot change")
	}
	current := roleOf(conv, userID)
	if current == "" {
		return nil, Errorf(ENotFound, "not a member of this conversation")
	}
	if current != role {
		if err := s.store.SetMemberRole(ctx, convID, userID, role); err != nil {
			if ErrorCode(err) == ENotFound {
				return nil, Errorf(ENotFound, "not a member of this conversation")
			}
			return nil, internalError("set member role", err, slog.String("conversation_id", convID))
		}
		members := make([]string, len(conv.Members))
		for i, m := range conv.Members {
			members[i] = m.UserID
		}
		s.appendSystem(ctx, convID, SystemEvent{Event: SystemRoleChanged, ActorID: callerID, UserIDs: []string{userID}, Role: role}, members)
	}
	return s.Conversation(ctx, callerID, convID)
}

// roleOf returns userID's role in conv, "" when not a member.
func roleOf(conv *Conversation, userID string) MemberRole {
	for _, m := range conv.Members {
		if m.UserID == userID {
			if m.Role == "" {
				return GroupMember
			}
			return m.Role
		}
	}
	return ""
}

// checkUsersExist returns EInvalid naming the first unknown user.
func (s *conversationService) checkUsersExist(ctx context.Context, ids []string, op string) error {
	for _, id := range ids {
		if _, err := s.store.UserByID(ctx, id); err != nil {
			if ErrorCode(err) == ENotFound {
				return Errorf(EInvalid, "unknown user %q", id)
			}
			return internalError(op, err)
		}
	}
	return nil
}

// uniqueOthers returns ids without duplicates, empty strings and self, in order.
func uniqueOthers(ids []string, self string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "" || id == self {
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// normalizeTitle cleans a title as every name is (cleanName).
func normalizeTitle(t string) (string, error) {
	return cleanName(t, "title", MaxTitleRunes)
}

// lastMessageDetails fills the reactions and reply_to of the last
// messages of convs as callerID sees them.
func (s *conversationService) lastMessageDetails(ctx context.Context, convs []*Conversation, callerID string) error {
	var msgs []*Message
	for _, c := range convs {
		if c.LastMessage != nil {
			msgs = append(msgs, c.LastMessage)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return s.details(ctx, msgs, callerID, "conversation last messages")
}

// SetTitle renames a group; owners and admins may. An unchanged title
// changes nothing and writes no system message. Errors: ENotFound,
// EForbidden, EInvalid.
func (s *conversationService) SetTitle(ctx context.Context, callerID, convID, title string) (*Conversation, error) {
	title, err := normalizeTitle(title)
	if err != nil {
		return nil, err
	}
	conv, err := s.Conversation(ctx, callerID, convID)
	if err != nil {
		return nil, err
	}
	switch {
	case conv.Kind != KindGroup:
		return nil, Errorf(EForbidden, "a direct conversation has no title")
	case !roleOf(conv, callerID).canModerate():
		return nil, Errorf(EForbidden, "only owners and admins may change the title")
	}
	if conv.Title == title {
		return conv, nil
	}
	if err := s.store.SetConversationTitle(ctx, convID, title); err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError("set title", err, slog.String("conversation_id", convID))
	}
	s.appendSystem(ctx, convID, SystemEvent{Event: SystemTitleChanged, ActorID: callerID, Title: title}, memberIDs(conv))
	return s.Conversation(ctx, callerID, convID)
}
