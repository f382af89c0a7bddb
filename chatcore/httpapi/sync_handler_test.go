package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

func init() {
	zero := chatcore.Cursor{Mode: 'r'}.String()
	future := chatcore.Cursor{X: 99, F: 99, Mode: 'r'}.String()
	handlerCases = append(handlerCases,
		handlerCase{route: "GET /v1/sync", name: "fresh device", method: "GET", path: "/v1/sync", token: "tok-alice", status: 200},
		handlerCase{route: "GET /v1/sync", name: "since a cursor", method: "GET", path: "/v1/sync?since=" + zero + "&limit=10", token: "tok-bob", status: 200},
		handlerCase{route: "GET /v1/sync", name: "malformed cursor", method: "GET", path: "/v1/sync?since=not-a-cursor", token: "tok-alice", status: 410, code: chatcore.EGone},
		handlerCase{route: "GET /v1/sync", name: "empty since", method: "GET", path: "/v1/sync?since=", token: "tok-alice", status: 410, code: chatcore.EGone},
		handlerCase{route: "GET /v1/sync", name: "cursor from elsewhere", method: "GET", path: "/v1/sync?since=" + future, token: "tok-alice", status: 410, code: chatcore.EGone},
		handlerCase{route: "GET /v1/sync", name: "limit past max", method: "GET", path: "/v1/sync?limit=501", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/sync", name: "limit zero", method: "GET", path: "/v1/sync?limit=0", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/sync", name: "no token", method: "GET", path: "/v1/sync", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "GET /v1/sync", name: "internal", setup: failing("Sync", errDBDown), method: "GET", path: "/v1/sync", token: "tok-alice", status: 500, code: chatcore.EInternal},
	)
}

// TestHandlerSyncReply checks the reply's shape: a fresh device gets its
// conversations and a cursor; since that cursor it gets the message sent
// after, with has_more and a new cursor; a non-member gets nothing of it.
func TestHandlerSyncReply(t *testing.T) {
	f := newFakeChat()
	type reply struct {
		Changes []struct {
			Type           string `json:"type"`
			ConversationID string `json:"conversation_id"`
			Message        *struct {
				Seq  int64  `json:"seq"`
				Body string `json:"body"`
			} `json:"message"`
		} `json:"changes"`
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
		Cursor  string `json:"cursor"`
		HasMore bool   `json:"has_more"`
	}
	get := func(token, path string) reply {
		t.Helper()
		tc := handlerCase{method: "GET", path: path, token: token, status: 200}
		rec := tc.serve(t, f, nil)
		tc.check(t, rec)
		var r reply
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("decode %s: %v", rec.Body, err)
		}
		return r
	}
	fresh := get("tok-bob", "/v1/sync")
	if len(fresh.Conversations) != 1 || fresh.Conversations[0].ID != "c1" || fresh.Cursor == "" || len(fresh.Changes) != 0 {
		t.Fatalf("fresh device: got %+v, want c1 and a cursor", fresh)
	}
	for _, body := range []string{`{"client_id":"k1","body":"one"}`, `{"client_id":"k2","body":"two"}`} {
		send := handlerCase{method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: body, status: 201}
		send.check(t, send.serve(t, f, nil))
	}
	page := get("tok-bob", "/v1/sync?limit=1&since="+fresh.Cursor)
	if len(page.Changes) != 1 || page.Changes[0].Type != "message" || page.Changes[0].Message.Body != "one" || !page.HasMore {
		t.Fatalf("first page: got %+v, want message one and has_more", page)
	}
	page = get("tok-bob", "/v1/sync?since="+page.Cursor)
	if len(page.Changes) != 1 || page.Changes[0].Message.Body != "two" || page.HasMore {
		t.Fatalf("second page: got %+v, want message two and no more", page)
	}
	if other := get("tok-root", "/v1/sync?since="+chatcore.Cursor{Mode: 'r'}.String()); len(other.Changes) != 0 {
		t.Errorf("a non-member: got %+v, want no changes", other)
	}
}
