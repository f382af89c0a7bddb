package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
)

// fakeChat is one small in-memory stand-in for every service the HTTP layer
// calls (the seven chat services, chatcore.UploadService and
// chatcore.JobService), so that handler tests need no store, Redis or
// object storage. It knows three users (alice, bob, and root the admin;
// access token "tok-<id>"), one direct conversation "c1" between alice and
// bob, and one attachment "a1" of alice. It checks membership like the real
// services, and fail makes any method return a chosen error, which is how
// the tests reach every error mapping.
type fakeChat struct {
	mu    sync.Mutex
	users map[string]*chatcore.User
	convs map[string]*chatcore.Conversation
	msgs  map[string][]*chatcore.Message
	errs  map[string]error // method name → the error it returns
	calls []string         // method names, in call order
}

var fakeNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFakeChat() *fakeChat {
	f := &fakeChat{
		users: map[string]*chatcore.User{},
		convs: map[string]*chatcore.Conversation{},
		msgs:  map[string][]*chatcore.Message{},
		errs:  map[string]error{},
	}
	for _, u := range []struct {
		id   string
		role chatcore.Role
	}{{"alice", chatcore.RoleUser}, {"bob", chatcore.RoleUser}, {"root", chatcore.RoleAdmin}} {
		f.users[u.id] = &chatcore.User{ID: u.id, Username: u.id, DisplayName: u.id, Role: u.role, CreatedAt: fakeNow}
	}
	f.convs["c1"] = &chatcore.Conversation{ID: "c1", Kind: chatcore.KindDirect, CreatedBy: "alice", CreatedAt: fakeNow,
		Members: []chatcore.Member{{UserID: "alice", JoinedAt: fakeNow}, {UserID: "bob", JoinedAt: fakeNow}}}
	return f
}

// fail makes method return err from now on.
func (f *fakeChat) fail(method string, err error) *fakeChat {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[method] = err
	return f
}

// enter records a call and returns the error set for method, if any.
func (f *fakeChat) enter(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
	return f.errs[method]
}

// called reports whether method was called.
func (f *fakeChat) called(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.calls, method)
}

// config is a Server config served by f alone, with rate limits off and
// logs discarded.
func (f *fakeChat) config() Config {
	return Config{
		Auth: f, Users: f, Conversations: f, Messages: f, Receipts: f, Typing: f, Presence: f, Search: f, Sync: f, Edits: f,
		Hub:     chatcore.NewHub(inmem.NewBus(), chatcore.Hooks{}, slog.New(slog.NewTextHandler(io.Discard, nil))),
		Uploads: f, Jobs: f, Devices: f, Forward: f,
		Blocks: f, Reports: f, Moderation: f, Accounts: fakeAccounts{f},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RateLimits: RateLimits{
			AuthPerMinute: -1, MessagesPerSecond: -1, RequestsPerSecond: -1, FramesPerSecond: -1,
		},
	}
}

// member returns the conversation if userID is in it, else code.
func (f *fakeChat) member(convID, userID, code string) (*chatcore.Conversation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.convs[convID]
	if ok && slices.ContainsFunc(c.Members, func(m chatcore.Member) bool { return m.UserID == userID }) {
		return c, nil
	}
	if code == chatcore.EForbidden {
		return nil, chatcore.Errorf(code, "not a member of this conversation")
	}
	return nil, chatcore.Errorf(code, "conversation not found")
}

func (f *fakeChat) user(id string) (*chatcore.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.users[id]; ok {
		return u, nil
	}
	return nil, chatcore.Errorf(chatcore.ENotFound, "user not found")
}

func (f *fakeChat) session(userID string) *chatcore.AuthResult {
	u, _ := f.user(userID)
	return &chatcore.AuthResult{User: u, AccessToken: "tok-" + userID, RefreshToken: "refresh-" + userID, ExpiresIn: 900}
}

// chatcore.AuthService

func (f *fakeChat) Register(_ context.Context, username, _, _ string) (*chatcore.AuthResult, error) {
	if err := f.enter("Register"); err != nil {
		return nil, err
	}
	if _, err := f.user(username); err == nil {
		return nil, chatcore.Errorf(chatcore.EConflict, "username taken")
	}
	f.mu.Lock()
	f.users[username] = &chatcore.User{ID: username, Username: username, DisplayName: username, Role: chatcore.RoleUser, CreatedAt: fakeNow}
	f.mu.Unlock()
	return f.session(username), nil
}

func (f *fakeChat) Login(_ context.Context, username, password string) (*chatcore.AuthResult, error) {
	if err := f.enter("Login"); err != nil {
		return nil, err
	}
	if _, err := f.user(username); err != nil || password != "password-"+username {
		return nil, chatcore.Errorf(chatcore.EUnauthorized, "invalid username or password")
	}
	return f.session(username), nil
}

func (f *fakeChat) Refresh(_ context.Context, token string) (*chatcore.AuthResult, error) {
	if err := f.enter("Refresh"); err != nil {
		return nil, err
	}
	id, ok := strings.CutPrefix(token, "refresh-")
	if _, err := f.user(id); !ok || err != nil {
		return nil, chatcore.Errorf(chatcore.EUnauthorized, "invalid refresh token")
	}
	return f.session(id), nil
}

func (f *fakeChat) Logout(context.Context, string) error { return f.enter("Logout") }

func (f *fakeChat) Authenticate(_ context.Context, token string) (*chatcore.User, time.Time, error) {
	if err := f.enter("Authenticate"); err != nil {
		return nil, time.Time{}, err
	}
	id, ok := strings.CutPrefix(token, "tok-")
	u, err := f.user(id)
	if !ok || err != nil {
		return nil, time.Time{}, chatcore.Errorf(chatcore.EUnauthorized, "invalid token")
	}
	return u, time.Now().Add(time.Hour), nil
}

func (f *fakeChat) SessionID(_ context.Context, token string) (string, error) {
	if err := f.enter("SessionID"); err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(token, "tok-")
	if !ok {
		return "", chatcore.Errorf(chatcore.EUnauthorized, "invalid token")
	}
	return "sess-" + id, nil
}

func (f *fakeChat) EnsureAdmin(context.Context, string, string, bool) (*chatcore.User, error) {
	return nil, f.enter("EnsureAdmin")
}

// chatcore.UserService

func (f *fakeChat) User(_ context.Context, _, id string) (*chatcore.User, error) {
	if err := f.enter("User"); err != nil {
		return nil, err
	}
	return f.user(id)
}

func (f *fakeChat) FindUsers(_ context.Context, _, prefix string, limit int) ([]*chatcore.User, error) {
	if err := f.enter("FindUsers"); err != nil {
		return nil, err
	}
	var out []*chatcore.User
	for _, id := range []string{"alice", "bob", "root"} {
		if strings.HasPrefix(id, prefix) && len(out) < limit {
			u, _ := f.user(id)
			out = append(out, u)
		}
	}
	return out, nil
}

// chatcore.PresenceService

func (f *fakeChat) Presence(_ context.Context, _, userID string) (chatcore.PresenceStatus, error) {
	if err := f.enter("Presence"); err != nil {
		return chatcore.PresenceStatus{}, err
	}
	if _, err := f.user(userID); err != nil {
		return chatcore.PresenceStatus{}, err
	}
	return chatcore.PresenceStatus{UserID: userID, Status: chatcore.PresenceOnline}, nil
}

func (f *fakeChat) Connected(context.Context, string, string) error { return f.enter("Connected") }
func (f *fakeChat) Disconnected(context.Context, string, string) error {
	return f.enter("Disconnected")
}
func (f *fakeChat) Heartbeat(context.Context, string, string) error { return f.enter("Heartbeat") }

// chatcore.ConversationService

func (f *fakeChat) CreateConversation(_ context.Context, callerID string, memberIDs []string, title string) (*chatcore.Conversation, bool, error) {
	if err := f.enter("CreateConversation"); err != nil {
		return nil, false, err
	}
	c := &chatcore.Conversation{ID: fmt.Sprintf("c%d", len(f.convs)+1), Kind: chatcore.KindGroup, Title: title, CreatedBy: callerID, CreatedAt: fakeNow}
	for _, id := range append([]string{callerID}, memberIDs...) {
		c.Members = append(c.Members, chatcore.Member{UserID: id, JoinedAt: fakeNow})
	}
	f.mu.Lock()
	f.convs[c.ID] = c
	f.mu.Unlock()
	return c, true, nil
}

func (f *fakeChat) Conversation(_ context.Context, callerID, id string) (*chatcore.Conversation, error) {
	if err := f.enter("Conversation"); err != nil {
		return nil, err
	}
	return f.member(id, callerID, chatcore.ENotFound)
}

func (f *fakeChat) Conversations(_ context.Context, callerID string, _ time.Time, _ int) ([]*chatcore.Conversation, error) {
	if err := f.enter("Conversations"); err != nil {
		return nil, err
	}
	c, err := f.member("c1", callerID, chatcore.ENotFound)
	if err != nil {
		return nil, nil // the handler answers an empty array
	}
	return []*chatcore.Conversation{c}, nil
}

func (f *fakeChat) AddMembers(_ context.Context, callerID, convID string, _ []string) (*chatcore.Conversation, error) {
	if err := f.enter("AddMembers"); err != nil {
		return nil, err
	}
	return f.member(convID, callerID, chatcore.ENotFound)
}

func (f *fakeChat) RemoveMember(_ context.Context, callerID, convID, _ string) error {
	if err := f.enter("RemoveMember"); err != nil {
		return err
	}
	_, err := f.member(convID, callerID, chatcore.ENotFound)
	return err
}

func (f *fakeChat) SetMemberRole(_ context.Context, callerID, convID, _ string, role chatcore.MemberRole) (*chatcore.Conversation, error) {
	if err := f.enter("SetMemberRole"); err != nil {
		return nil, err
	}
	if role != chatcore.GroupAdmin && role != chatcore.GroupMember {
		return nil, chatcore.Errorf(chatcore.EInvalid, "role must be admin or member")
	}
	return f.member(convID, callerID, chatcore.ENotFound)
}

// chatcore.MessageService

func (f *fakeChat) Send(_ context.Context, callerID string, req chatcore.SendRequest) (*chatcore.Message, bool, error) {
	if err := f.enter("Send"); err != nil {
		return nil, false, err
	}
	if _, err := f.member(req.ConversationID, callerID, chatcore.EForbidden); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs[req.ConversationID] {
		if m.SenderID == callerID && m.ClientID == req.ClientID {
			return m, false, nil
		}
	}
	m := &chatcore.Message{ID: fmt.Sprintf("m%d", len(f.msgs[req.ConversationID])+1), ConversationID: req.ConversationID,
		Seq: int64(len(f.msgs[req.ConversationID]) + 1), ClientID: req.ClientID, SenderID: callerID, Body: req.Body,
		Attachments: []*chatcore.Attachment{}, CreatedAt: fakeNow, Kind: chatcore.MessageText, Mentions: []string{}, Location: req.Location}
	if req.Kind == chatcore.MessageLocation {
		m.Kind = chatcore.MessageLocation
	}
	f.msgs[req.ConversationID] = append(f.msgs[req.ConversationID], m)
	return m, true, nil
}

func (f *fakeChat) Messages(_ context.Context, callerID, convID string, _ chatcore.MessageQuery) ([]*chatcore.Message, error) {
	if err := f.enter("Messages"); err != nil {
		return nil, err
	}
	if _, err := f.member(convID, callerID, chatcore.ENotFound); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs[convID]), nil
}

// chatcore.ReceiptService

func (f *fakeChat) MarkDelivered(ctx context.Context, callerID, convID string, seq int64) (chatcore.Receipt, error) {
	return f.receipt("MarkDelivered", callerID, convID, seq, 0)
}

func (f *fakeChat) MarkRead(ctx context.Context, callerID, convID string, seq int64) (chatcore.Receipt, error) {
	return f.receipt("MarkRead", callerID, convID, seq, seq)
}

func (f *fakeChat) receipt(method, callerID, convID string, delivered, read int64) (chatcore.Receipt, error) {
	if err := f.enter(method); err != nil {
		return chatcore.Receipt{}, err
	}
	if delivered < 0 {
		return chatcore.Receipt{}, chatcore.Errorf(chatcore.EInvalid, "seq must not be negative")
	}
	if _, err := f.member(convID, callerID, chatcore.ENotFound); err != nil {
		return chatcore.Receipt{}, err
	}
	return chatcore.Receipt{ConversationID: convID, UserID: callerID, DeliveredSeq: delivered, ReadSeq: read}, nil
}

// chatcore.TypingService

func (f *fakeChat) Typing(_ context.Context, callerID, convID, state string) error {
	if err := f.enter("Typing"); err != nil {
		return err
	}
	if state != chatcore.TypingStart && state != chatcore.TypingStop {
		return chatcore.Errorf(chatcore.EInvalid, `typing state must be "start" or "stop"`)
	}
	_, err := f.member(convID, callerID, chatcore.EForbidden)
	return err
}

// chatcore.UploadService

var fakeAttachment = &chatcore.Attachment{ID: "a1", UploaderID: "alice", Kind: chatcore.AttachmentKind("image"),
	Status: chatcore.AttachmentStatus("ready"), ContentType: "image/png", Size: 10, Filename: "a.png"}

func (f *fakeChat) CreateUpload(_ context.Context, userID string, req chatcore.UploadRequest) (*chatcore.UploadTicket, error) {
	if err := f.enter("CreateUpload"); err != nil {
		return nil, err
	}
	return &chatcore.UploadTicket{Upload: fakeAttachment, Method: "PUT", URL: "https://objects.example/a1", ExpiresAt: fakeNow}, nil
}

func (f *fakeChat) CompleteUpload(_ context.Context, userID, uploadID string) (*chatcore.Attachment, error) {
	return f.attachment("CompleteUpload", userID, uploadID)
}

func (f *fakeChat) UploadStatus(_ context.Context, userID, uploadID string) (*chatcore.UploadStatus, error) {
	a, err := f.attachment("UploadStatus", userID, uploadID)
	if err != nil {
		return nil, err
	}
	return &chatcore.UploadStatus{Upload: a, UploadID: a.ID, Multipart: true, PartSize: 5 << 20, PartCount: 2,
		Parts: []chatcore.UploadPart{{Number: 1, Size: 5 << 20}}, Missing: []int{2}}, nil
}

func (f *fakeChat) PartURLs(_ context.Context, userID, uploadID string, numbers []int) (*chatcore.UploadTicket, error) {
	a, err := f.attachment("PartURLs", userID, uploadID)
	if err != nil {
		return nil, err
	}
	if len(numbers) == 0 {
		return nil, chatcore.Errorf(chatcore.EInvalid, "numbers must list 1 to 2 part numbers")
	}
	t := &chatcore.UploadTicket{Upload: a, UploadID: a.ID, PartSize: 5 << 20, ExpiresAt: fakeNow}
	for _, n := range numbers {
		t.Parts = append(t.Parts, chatcore.UploadPart{Number: n, URL: "https://objects.example/a1?partNumber=1", ExpiresAt: fakeNow})
	}
	return t, nil
}

func (f *fakeChat) Attachment(_ context.Context, userID, id string) (*chatcore.Attachment, error) {
	return f.attachment("Attachment", userID, id)
}

func (f *fakeChat) DownloadURL(_ context.Context, userID, id, variant string) (string, error) {
	a, err := f.attachment("DownloadURL", userID, id)
	if err != nil {
		return "", err
	}
	return "https://objects.example/" + a.ID + "/" + variant, nil
}

func (f *fakeChat) ForwardAttachment(_ context.Context, userID, id, conversationID string) (*chatcore.Attachment, error) {
	a, err := f.attachment("ForwardAttachment", userID, id)
	if err != nil {
		return nil, err
	}
	if conversationID == "" {
		return nil, chatcore.Errorf(chatcore.EInvalid, "conversation_id is required")
	}
	if _, err := f.member(conversationID, userID, chatcore.ENotFound); err != nil {
		return nil, err
	}
	fwd := *a
	fwd.ID, fwd.ConversationID = "a2", conversationID
	return &fwd, nil
}

// attachment returns a1 to its uploader; anyone else gets ENotFound.
func (f *fakeChat) attachment(method, userID, id string) (*chatcore.Attachment, error) {
	if err := f.enter(method); err != nil {
		return nil, err
	}
	if id != fakeAttachment.ID || userID != fakeAttachment.UploaderID {
		return nil, chatcore.Errorf(chatcore.ENotFound, "attachment not found")
	}
	return fakeAttachment, nil
}

// chatcore.JobService

func (f *fakeChat) ListJobs(_ context.Context, queue, state string, limit int) ([]chatcore.Job, error) {
	if err := f.enter("ListJobs"); err != nil {
		return nil, err
	}
	return []chatcore.Job{{Queue: "image", TaskID: "t1", AttachmentID: "a1", Kind: "image", State: state}}, nil
}

func (f *fakeChat) RequeueJob(context.Context, string, string) error { return f.enter("RequeueJob") }

func (f *fakeChat) RequeueAll(context.Context, string, string) (int, error) {
	return 3, f.enter("RequeueAll")
}
