package httpapi

import (
	"context"

	"github.com/parley-chat/parley/chatcore"
)

// chatcore.MessageEditService, and ConversationService.SetTitle: in c1,
// seq 1 to 9 exist (alice sent them), seq 9 is a tombstone; bob may not
// edit or delete them (c1 is direct, so nobody moderates).

func (f *fakeChat) fakeMessage(callerID, convID string, seq int64) (*chatcore.Message, error) {
	if _, err := f.member(convID, callerID, chatcore.ENotFound); err != nil {
		return nil, err
	}
	if seq < 1 || seq > 9 {
		return nil, chatcore.Errorf(chatcore.ENotFound, "message not found")
	}
	m := &chatcore.Message{ID: "m", ConversationID: convID, Seq: seq, SenderID: "alice", Body: "hello",
		Kind: chatcore.MessageText, Attachments: []*chatcore.Attachment{}, Mentions: []string{}, Reactions: []chatcore.Reaction{}, CreatedAt: fakeNow}
	if seq == 9 {
		m.Body, m.DeletedAt = "", &fakeNow
	}
	return m, nil
}

func (f *fakeChat) Message(_ context.Context, callerID, convID string, seq int64) (*chatcore.Message, error) {
	if err := f.enter("Message"); err != nil {
		return nil, err
	}
	return f.fakeMessage(callerID, convID, seq)
}

func (f *fakeChat) Edit(_ context.Context, callerID, convID string, seq int64, body string) (*chatcore.Message, error) {
	if err := f.enter("Edit"); err != nil {
		return nil, err
	}
	m, err := f.fakeMessage(callerID, convID, seq)
	switch {
	case err != nil:
		return nil, err
	case m.SenderID != callerID:
		return nil, chatcore.Errorf(chatcore.EForbidden, "only the sender may edit a message")
	case m.DeletedAt != nil:
		return nil, chatcore.Errorf(chatcore.EConflict, "message was deleted")
	case body == "":
		return nil, chatcore.Errorf(chatcore.EInvalid, "body must not be empty")
	}
	m.Body, m.EditedAt = body, &fakeNow
	return m, nil
}

func (f *fakeChat) Delete(_ context.Context, callerID, convID string, seq int64) (*chatcore.Message, error) {
	if err := f.enter("Delete"); err != nil {
		return nil, err
	}
	m, err := f.fakeMessage(callerID, convID, seq)
	switch {
	case err != nil:
		return nil, err
	case m.SenderID != callerID:
		return nil, chatcore.Errorf(chatcore.EForbidden, "only the sender or a group owner or admin may delete a message")
	}
	m.Body, m.DeletedAt = "", &fakeNow
	return m, nil
}

func (f *fakeChat) React(_ context.Context, callerID, convID string, seq int64, emoji string, on bool) (*chatcore.Message, error) {
	if err := f.enter("React"); err != nil {
		return nil, err
	}
	if err := chatcore.ValidateEmoji(emoji); err != nil {
		return nil, err
	}
	m, err := f.fakeMessage(callerID, convID, seq)
	switch {
	case err != nil:
		return nil, err
	case m.DeletedAt != nil:
		return nil, chatcore.Errorf(chatcore.EConflict, "message was deleted")
	}
	if on {
		m.Reactions = []chatcore.Reaction{{Emoji: emoji, Count: 1, UserIDs: []string{callerID}, Me: true}}
	}
	return m, nil
}

func (f *fakeChat) SetTitle(_ context.Context, callerID, convID, title string) (*chatcore.Conversation, error) {
	if err := f.enter("SetTitle"); err != nil {
		return nil, err
	}
	c, err := f.member(convID, callerID, chatcore.ENotFound)
	if err != nil {
		return nil, err
	}
	if c.Kind != chatcore.KindGroup {
		return nil, chatcore.Errorf(chatcore.EForbidden, "a direct conversation has no title")
	}
	return c, nil
}
