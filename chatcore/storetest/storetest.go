package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// Run runs the contract suite. open must return a fresh, migrated, empty
// store for each call and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) chatcore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s chatcore.Store)
	}{
		{"Users", testUsers},
		{"SearchUsers", testSearchUsers},
		{"SetUserCredentials", testSetUserCredentials},
		{"RefreshTokenRotation", testRefreshTokenRotation},
		{"RefreshTokenConcurrentUse", testRefreshTokenConcurrentUse},
		{"RevokeUserSessions", testRevokeUserSessions},
		{"DirectConversation", testDirectConversation},
		{"DirectConversationConcurrent", testDirectConversationConcurrent},
		{"GroupMembership", testGroupMembership},
		{"GroupMemberCap", testGroupMemberCap},
		{"AppendMessageSeq", testAppendMessageSeq},
		{"AppendMessageConcurrent", testAppendMessageConcurrent},
		{"AppendMessageDedup", testAppendMessageDedup},
		{"AppendMessageDedupConcurrent", testAppendMessageDedupConcurrent},
		{"AppendMessageAttachments", testAppendMessageAttachments},
		{"AppendMessageNotMember", testAppendMessageNotMember},
		{"AppendMessageBlocked", testAppendMessageBlocked},
		{"ListMessages", testListMessages},
		{"ListConversations", testListConversations},
		{"AdvanceReceipt", testAdvanceReceipt},
		{"AttachmentCRUD", testAttachmentCRUD},
		{"AttachmentAccess", testAttachmentAccess},
		{"ListAttachments", testListAttachments},
		{"UploadedBytesSince", testUploadedBytesSince},
		{"Devices", testDevices},
		{"NotificationPrefs", testNotificationPrefs},
		{"UnreadCount", testUnreadCount},
		{"UnreadSkipsSystemAndOwn", testUnreadSkipsSystemAndOwn},
		{"MessageKinds", testMessageKinds},
		{"MemberRoles", testMemberRoles},
		{"EditAndTombstone", testEditAndTombstone},
		{"TombstoneBySender", testTombstoneBySender},
		{"SyncCompaction", testSyncCompaction},
		{"SyncMembership", testSyncMembership},
		{"SyncRemoved", testSyncRemoved},
		{"SyncPaging", testSyncPaging},
		{"SyncReactionsAndTitle", testSyncReactionsAndTitle},
		{"SyncHorizon", testSyncHorizon},
		{"Reactions", testReactions},
		{"ReactionsConcurrent", testReactionsConcurrent},
		{"ReplyTo", testReplyTo},
		{"TombstoneSeqGapless", testTombstoneSeqGapless},
		{"AttachmentDeletionQueue", testAttachmentDeletionQueue},
		{"ConversationTitle", testConversationTitle},
		{"Accounts", testAccounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's clock: nanoseconds on purpose, since stores keep
// microseconds and must hand back what they normalised.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// micro is t as stores keep it.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func ctx(t testing.TB) context.Context { return t.Context() }

// wantCode fails t unless err carries code ("" = no error).
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := chatcore.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

// MustUser creates a user named name.
func MustUser(tb testing.TB, s chatcore.Store, name string) *chatcore.User {
	tb.Helper()
	u := &chatcore.User{ID: uuid.NewString(), Username: name, DisplayName: "User " + name, Role: chatcore.RoleUser, CreatedAt: t0}
	if err := s.CreateUser(ctx(tb), u, "hash-"+name); err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// MustUsers creates n users named prefix0, prefix1, ...
func MustUsers(tb testing.TB, s chatcore.Store, prefix string, n int) []*chatcore.User {
	tb.Helper()
	us := make([]*chatcore.User, n)
	for i := range us {
		us[i] = MustUser(tb, s, fmt.Sprintf("%s%d", prefix, i))
	}
	return us
}

// MustGroup creates a group of the given users, created by the first.
func MustGroup(tb testing.TB, s chatcore.Store, title string, members ...*chatcore.User) *chatcore.Conversation {
	tb.Helper()
	c := &chatcore.Conversation{ID: uuid.NewString(), Kind: chatcore.KindGroup, Title: title, CreatedBy: members[0].ID, CreatedAt: t0}
	if err := s.CreateConversation(ctx(tb), c, ids(members)); err != nil {
		tb.Fatalf("create group %s: %v", title, err)
	}
	return c
}

// MustDirect finds or creates the direct conversation of a and b.
func MustDirect(tb testing.TB, s chatcore.Store, a, b *chatcore.User) *chatcore.Conversation {
	tb.Helper()
	c, _, err := s.FindOrCreateDirect(ctx(tb), &chatcore.Conversation{ID: uuid.NewString(), CreatedBy: a.ID, CreatedAt: t0}, a.ID, b.ID)
	if err != nil {
		tb.Fatalf("find or create direct: %v", err)
	}
	return c
}

// newMessage returns an unsent message.
func newMessage(convID, senderID, clientID, body string, created time.Time) *chatcore.Message {
	return &chatcore.Message{ID: uuid.NewString(), ConversationID: convID, SenderID: senderID, ClientID: clientID, Body: body, CreatedAt: created}
}

// MustSend appends a message with a fresh client id and returns it.
func MustSend(tb testing.TB, s chatcore.Store, convID, senderID, body string, created time.Time, attachmentIDs ...string) *chatcore.Message {
	tb.Helper()
	m, ok, err := s.AppendMessage(ctx(tb), newMessage(convID, senderID, uuid.NewString(), body, created), attachmentIDs)
	if err != nil || !ok {
		tb.Fatalf("append message %q: created %v, err %v", body, ok, err)
	}
	return m
}

// MustAttachment creates an attachment of the uploader in status.
func MustAttachment(tb testing.TB, s chatcore.Store, uploader *chatcore.User, status chatcore.AttachmentStatus, size int64, created time.Time) *chatcore.Attachment {
	tb.Helper()
	id := uuid.NewString()
	a := &chatcore.Attachment{
		ID: id, UploaderID: uploader.ID, Kind: chatcore.AttachImage, Status: status,
		ContentType: "image/jpeg", Size: size, Filename: "photo.jpg", ObjectKey: "u/" + id,
		CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(15 * time.Minute),
	}
	if err := s.CreateAttachment(ctx(tb), a); err != nil {
		tb.Fatalf("create attachment: %v", err)
	}
	return a
}

func ids(us []*chatcore.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}
