package httpapi

import (
	"context"
	"maps"
	"slices"

	"github.com/parley-chat/parley/chatcore"
)

// chatcore.SyncService: the feed is the messages of the caller's
// conversations, a message's change id its position among them all.

func (f *fakeChat) Sync(_ context.Context, callerID, cursor string, limit int) (*chatcore.SyncResult, error) {
	if err := f.enter("Sync"); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = chatcore.DefaultSyncPage
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var feed []*chatcore.Message
	var convs []*chatcore.Conversation
	for _, id := range slices.Sorted(maps.Keys(f.convs)) {
		c := f.convs[id]
		if slices.ContainsFunc(c.Members, func(m chatcore.Member) bool { return m.UserID == callerID }) {
			convs = append(convs, c)
			feed = append(feed, f.msgs[id]...)
		}
	}
	if cursor == "" {
		return &chatcore.SyncResult{Changes: []chatcore.SyncChange{}, Conversations: convs,
			Cursor: chatcore.Cursor{X: int64(len(feed)), F: int64(len(feed)), Mode: 'r'}.String()}, nil
	}
	c, err := chatcore.ParseCursor(cursor)
	if err != nil {
		return nil, err
	}
	if c.X > int64(len(feed)) {
		return nil, chatcore.Errorf(chatcore.EGone, "cursor not issued here")
	}
	res := &chatcore.SyncResult{Changes: []chatcore.SyncChange{}}
	x := c.X
	for _, m := range feed[c.X:] {
		if len(res.Changes) == limit {
			res.HasMore = true
			break
		}
		x++
		res.Changes = append(res.Changes, chatcore.SyncChange{ID: x, Type: chatcore.ChangeMessage, ConversationID: m.ConversationID, Message: m})
	}
	res.Cursor = chatcore.Cursor{X: x, F: x, Mode: 'p'}.String()
	return res, nil
}
