package chatcore

import (
	"context"
	"log/slog"
)

// BlockService lets a user block others and choose who may add them to
// groups. What a block changes everywhere else (direct conversations,
// sends, group additions, presence, typing, blocked_sender) is enforced by
// the services concerned, through the helpers below.
type BlockService interface {
	// Block blocks userID: they can no longer open or write to a direct
	// conversation with the caller, add the caller to groups, or see the
	// caller's presence and typing; their messages in shared groups arrive
	// flagged blocked_sender for the caller. Blocking twice is a no-op.
	// Errors: EInvalid (oneself), ENotFound (no such user), ETooLarge
	// (already blocking MaxBlocksPerUser users).
	Block(ctx context.Context, callerID, userID string) error
	// Unblock lifts a block; unblocking someone not blocked is a no-op.
	// Errors: ENotFound (no such user).
	Unblock(ctx context.Context, callerID, userID string) error
	// Blocks lists whom the caller blocks, newest first (all of them: at
	// most MaxBlocksPerUser). Only internal errors.
	Blocks(ctx context.Context, callerID string) ([]Block, error)
	// SafetySettings returns the caller's settings. Only internal errors.
	SafetySettings(ctx context.Context, callerID string) (SafetySettings, error)
	// SetSafetySettings changes the caller's settings; an empty field
	// keeps its value. Errors: EInvalid (unknown group_add policy).
	SetSafetySettings(ctx context.Context, callerID string, s SafetySettings) (SafetySettings, error)
}

// blockService implements BlockService.
type blockService struct {
	*deps
	blocks BlockStore
}

func (s *blockService) Block(ctx context.Context, callerID, userID string) error {
	if userID == callerID {
		return Errorf(EInvalid, "you cannot block yourself")
	}
	if err := s.userExists(ctx, userID); err != nil {
		return err
	}
	created, err := s.blocks.PutBlock(ctx, callerID, userID, s.clock.Now().UTC(), MaxBlocksPerUser)
	if err != nil {
		switch ErrorCode(err) {
		case ETooLarge:
			return Errorf(ETooLarge, "you can block at most %d users", MaxBlocksPerUser)
		case ENotFound:
			return Errorf(ENotFound, "user not found")
		}
		return internalError("block", err, slog.String("user_id", userID))
	}
	if created {
		// Sends between the two change at once: refused in a direct
		// conversation, flagged in groups.
		s.invalidateMembers(ctx)
		// What the blocked user saw until now must not linger: the
		// caller reads as offline to them and stops typing.
		s.publish(ctx, []string{userID}, EncodeFrame(PresenceFrame{Type: FramePresence, UserID: callerID, Status: PresenceOffline}), "block")
		for _, e := range s.typing.stopUser(callerID) {
			s.publishTyping(ctx, e.convID, callerID, TypingStop, e.recipients)
		}
	}
	return nil
}

func (s *blockService) Unblock(ctx context.Context, callerID, userID string) error {
	if err := s.userExists(ctx, userID); err != nil {
		return err
	}
	deleted, err := s.blocks.DeleteBlock(ctx, callerID, userID)
	if err != nil {
		return internalError("unblock", err, slog.String("user_id", userID))
	}
	if deleted {
		s.invalidateMembers(ctx)
		s.resendReceipts(ctx, callerID, userID)
	}
	return nil
}

// resendReceipts tells a and b, once no block stands between them, how far
// the other has received and read in the conversations they share: the
// receipts moved during the block reached neither (live or by sync). A
// failure is logged: the unblock itself is done, and the next receipt of
// each brings the other up to date.
func (s *blockService) resendReceipts(ctx context.Context, a, b string) {
	rel, err := s.blockRelations(ctx, a)
	if err == nil && (rel.Blocks[b] || rel.BlockedBy[b]) {
		return // still blocked the other way
	}
	var rs []Receipt
	if err == nil {
		rs, err = s.blocks.RestampSharedReceipts(ctx, a, b)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: resend receipts after unblock",
			slog.String("user_id", a), slog.String("other_id", b), slog.Any("error", err))
		return
	}
	for _, r := range rs {
		to := a
		if r.UserID == a {
			to = b
		}
		s.publish(ctx, []string{to}, EncodeFrame(ReceiptFrame{Type: FrameReceipt, Receipt: r, Cursor: LiveCursor(r.ChangeID)}), "unblock")
	}
}

func (s *blockService) Blocks(ctx context.Context, callerID string) ([]Block, error) {
	bs, err := s.blocks.Blocks(ctx, callerID, MaxBlocksPerUser)
	if err != nil {
		return nil, internalError("list blocks", err, slog.String("user_id", callerID))
	}
	if bs == nil {
		bs = []Block{}
	}
	return bs, nil
}

func (s *blockService) SafetySettings(ctx context.Context, callerID string) (SafetySettings, error) {
	ps, err := s.blocks.GroupAddPolicies(ctx, []string{callerID})
	if err != nil {
		return SafetySettings{}, internalError("safety settings", err, slog.String("user_id", callerID))
	}
	return SafetySettings{GroupAdd: ps[callerID]}, nil
}

func (s *blockService) SetSafetySettings(ctx context.Context, callerID string, in SafetySettings) (SafetySettings, error) {
	if in.GroupAdd != "" {
		if !in.GroupAdd.valid() {
			return SafetySettings{}, Errorf(EInvalid, "group_add must be everyone, contacts or nobody")
		}
		if err := s.blocks.SetGroupAddPolicy(ctx, callerID, in.GroupAdd); err != nil {
			return SafetySettings{}, internalError("set safety settings", err, slog.String("user_id", callerID))
		}
	}
	return s.SafetySettings(ctx, callerID)
}

// userExists returns ENotFound for an unknown user.
func (s *deps) userExists(ctx context.Context, id string) error {
	if _, err := s.store.UserByID(ctx, id); err != nil {
		if ErrorCode(err) == ENotFound {
			return Errorf(ENotFound, "user not found")
		}
		return internalError("get user", err, slog.String("user_id", id))
	}
	return nil
}

// blockRelations returns the blocks around userID; with a store that
// keeps none, empty relations.
func (s *deps) blockRelations(ctx context.Context, userID string) (BlockRelations, error) {
	if s.blocks == nil {
		return BlockRelations{}, nil
	}
	r, err := s.blocks.BlockRelations(ctx, userID)
	if err != nil {
		return BlockRelations{}, internalError("block relations", err, slog.String("user_id", userID))
	}
	return r, nil
}

// checkMayAdd refuses to put users into a group that callerID creates or
// adds them to when one of them blocks the caller or their group-add
// policy does not allow the caller. Errors: EForbidden naming the user.
func (s *deps) checkMayAdd(ctx context.Context, callerID string, userIDs []string) error {
	if s.blocks == nil || len(userIDs) == 0 {
		return nil
	}
	rel, err := s.blockRelations(ctx, callerID)
	if err != nil {
		return err
	}
	for _, id := range userIDs {
		if rel.BlockedBy[id] {
			return Errorf(EForbidden, "user %q does not accept being added to groups by you", id)
		}
	}
	policies, err := s.blocks.GroupAddPolicies(ctx, userIDs)
	if err != nil {
		return internalError("group add policies", err)
	}
	var contactsOnly []string
	for _, id := range userIDs {
		switch policies[id] {
		case GroupAddNobody:
			return Errorf(EForbidden, "user %q does not accept being added to groups", id)
		case GroupAddContacts:
			contactsOnly = append(contactsOnly, id)
		}
	}
	if len(contactsOnly) == 0 {
		return nil
	}
	peers, err := s.blocks.DirectPeers(ctx, callerID, contactsOnly)
	if err != nil {
		return internalError("direct peers", err)
	}
	ok := make(map[string]bool, len(peers))
	for _, p := range peers {
		ok[p] = true
	}
	for _, id := range contactsOnly {
		if !ok[id] {
			return Errorf(EForbidden, "user %q accepts being added to groups only by their contacts", id)
		}
	}
	return nil
}

// errBlocked is what a blocked user gets when writing to the one who
// blocked them in a direct conversation.
func errBlocked() error {
	return Errorf(EForbidden, "this user does not accept messages from you")
}

// dropBlocked returns recipients minus the ids in any of the sets.
func dropBlocked(recipients []string, sets ...map[string]bool) []string {
	out := recipients[:0:0]
	for _, id := range recipients {
		drop := false
		for _, s := range sets {
			if s[id] {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, id)
		}
	}
	return out
}

// blockersAmong returns those of members who block userID. When any does
// and the conversation is direct, it returns errBlocked instead: a blocked
// user cannot write (or type) to the one who blocked them. In groups the
// caller decides what the blockers get (flagged messages, no typing).
func (s *deps) blockersAmong(ctx context.Context, convID, userID string, members []string) (map[string]bool, error) {
	rel, err := s.blockRelations(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.blockersIn(ctx, convID, userID, members, rel)
}

// blockersIn is blockersAmong with the relations already read.
func (s *deps) blockersIn(ctx context.Context, convID, userID string, members []string, rel BlockRelations) (map[string]bool, error) {
	if len(rel.BlockedBy) == 0 {
		return nil, nil
	}
	var blockers map[string]bool
	for _, id := range members {
		if rel.BlockedBy[id] {
			if blockers == nil {
				blockers = make(map[string]bool)
			}
			blockers[id] = true
		}
	}
	if blockers == nil {
		return nil, nil
	}
	conv, err := s.store.ConversationForUser(ctx, convID, userID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(EForbidden, "not a member of this conversation")
		}
		return nil, internalError("blockers", err, slog.String("conversation_id", convID))
	}
	if conv.Kind == KindDirect {
		return nil, errBlocked()
	}
	return blockers, nil
}

// publishMessage pushes a message frame to members; those in blockers get
// it flagged blocked_sender.
func (s *deps) publishMessage(ctx context.Context, msg *Message, members []string, blockers map[string]bool, op string) {
	if len(blockers) == 0 {
		s.publish(ctx, members, EncodeFrame(MessageFrame{Type: FrameMessage, Message: msg, Cursor: LiveCursor(msg.ChangeID)}), op)
		return
	}
	var plain, flagged []string
	for _, id := range members {
		if blockers[id] {
			flagged = append(flagged, id)
		} else {
			plain = append(plain, id)
		}
	}
	s.publish(ctx, plain, EncodeFrame(MessageFrame{Type: FrameMessage, Message: msg, Cursor: LiveCursor(msg.ChangeID)}), op)
	f := *msg
	f.BlockedSender = true
	s.publish(ctx, flagged, EncodeFrame(MessageFrame{Type: FrameMessage, Message: &f, Cursor: LiveCursor(msg.ChangeID)}), op)
}

// flagBlockedSenders marks the messages whose sender viewerID blocks.
func (s *deps) flagBlockedSenders(ctx context.Context, viewerID string, msgs []*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rel, err := s.blockRelations(ctx, viewerID)
	if err != nil || len(rel.Blocks) == 0 {
		return err
	}
	for _, m := range msgs {
		if m != nil && rel.Blocks[m.SenderID] {
			m.BlockedSender = true
		}
	}
	return nil
}

// typingRecipients returns who sees callerID type in convID: the other
// members minus those who block the caller and those the caller blocks.
// In a direct conversation with someone who blocks the caller: errBlocked.
func (s *deps) typingRecipients(ctx context.Context, convID, callerID string, members []string) ([]string, error) {
	others := without(members, callerID)
	rel, err := s.blockRelations(ctx, callerID)
	if err != nil {
		return nil, err
	}
	blockers, err := s.blockersIn(ctx, convID, callerID, others, rel)
	if err != nil {
		return nil, err
	}
	return dropBlocked(others, blockers, rel.Blocks), nil
}

// checkMayCreate applies blocks and group-add policies to a new
// conversation: a direct one with someone who blocks the caller is
// refused; a group checks every member as an addition.
func (s *deps) checkMayCreate(ctx context.Context, callerID string, others []string) error {
	if len(others) != 1 {
		return s.checkMayAdd(ctx, callerID, others)
	}
	rel, err := s.blockRelations(ctx, callerID)
	if err != nil {
		return err
	}
	if rel.BlockedBy[others[0]] {
		return errBlocked()
	}
	return nil
}

// lastMessages returns the last messages of convs (for flagging).
func lastMessages(convs ...*Conversation) []*Message {
	var out []*Message
	for _, c := range convs {
		if c.LastMessage != nil {
			out = append(out, c.LastMessage)
		}
	}
	return out
}

// hitMessages returns the messages of search hits (for flagging).
func hitMessages(hits []*SearchHit) []*Message {
	out := make([]*Message, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.Message)
	}
	return out
}

// sendMembers is memberIDsFor for Send: the members and, in the same
// query, those who block the sender; errBlocked in a direct conversation
// with one of them. What it found is cached (memberCache) so that the
// next send to the conversation needs no query; failures are not.
func (s *deps) sendMembers(ctx context.Context, convID, callerID string) ([]string, map[string]bool, error) {
	members, blockers, gen, ok := s.members.get(convID, callerID)
	if ok {
		return members, blockers, nil
	}
	members, blockers, err := s.readSendMembers(ctx, convID, callerID)
	if err != nil {
		return nil, nil, err
	}
	s.members.put(gen, convID, callerID, members, blockers)
	return members, blockers, nil
}

// readSendMembers is sendMembers from the store.
func (s *deps) readSendMembers(ctx context.Context, convID, callerID string) ([]string, map[string]bool, error) {
	if s.blocks == nil {
		members, err := s.memberIDsFor(ctx, convID, callerID, "send message")
		return members, nil, err
	}
	members, blockers, err := s.blocks.MembersBlocking(ctx, convID, callerID)
	if err != nil {
		return nil, nil, internalError("send message", err, slog.String("conversation_id", convID))
	}
	if !contains(members, callerID) {
		return nil, nil, Errorf(EForbidden, "not a member of this conversation")
	}
	if len(blockers) == 0 {
		return members, nil, nil
	}
	rel := BlockRelations{BlockedBy: blockers}
	blockers, err = s.blockersIn(ctx, convID, callerID, members, rel)
	return members, blockers, err
}
