package httpapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

func init() {
	long := url.QueryEscape(strings.Repeat("a", chatcore.MaxSearchQueryBytes+1))
	handlerCases = append(handlerCases,
		handlerCase{route: "GET /v1/search", name: "ok", method: "GET", path: "/v1/search?q=hello+world&limit=5&before=2026-01-02T03:04:05Z", token: "tok-alice", status: 200},
		handlerCase{route: "GET /v1/search", name: "one conversation", method: "GET", path: "/v1/search?q=hello&conversation_id=c1", token: "tok-bob", status: 200},
		handlerCase{route: "GET /v1/search", name: "not a member", method: "GET", path: "/v1/search?q=hello&conversation_id=c1", token: "tok-root", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "GET /v1/search", name: "no q", method: "GET", path: "/v1/search", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/search", name: "q too long", method: "GET", path: "/v1/search?q=" + long, token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/search", name: "limit past max", method: "GET", path: "/v1/search?q=hi&limit=101", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/search", name: "limit zero", method: "GET", path: "/v1/search?q=hi&limit=0", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/search", name: "bad before", method: "GET", path: "/v1/search?q=hi&before=yesterday", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/search", name: "no token", method: "GET", path: "/v1/search?q=hi", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "GET /v1/search", name: "internal", setup: failing("Search", errDBDown), method: "GET", path: "/v1/search?q=hi", token: "tok-alice", status: 500, code: chatcore.EInternal},
	)
}

// TestHandlerSearchReply checks the reply's shape: results of {message,
// snippet} with the matched words between the highlight markers.
func TestHandlerSearchReply(t *testing.T) {
	f := newFakeChat()
	send := handlerCase{method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: `{"client_id":"k1","body":"Hello there, world"}`, status: 201}
	send.check(t, send.serve(t, f, nil))
	tc := handlerCase{method: "GET", path: "/v1/search?q=WORLD+hello", token: "tok-bob", status: 200}
	rec := tc.serve(t, f, nil)
	tc.check(t, rec)
	var reply struct {
		Results []struct {
			Message struct {
				ConversationID string `json:"conversation_id"`
				Seq            int64  `json:"seq"`
				Body           string `json:"body"`
			} `json:"message"`
			Snippet string `json:"snippet"`
		} `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	if len(reply.Results) != 1 || reply.Results[0].Message.ConversationID != "c1" || reply.Results[0].Message.Seq != 1 {
		t.Fatalf("got %s, want the one message of c1", rec.Body)
	}
	if want := "\u0002Hello\u0003 there, \u0002world\u0003"; reply.Results[0].Snippet != want {
		t.Errorf("snippet = %q, want %q", reply.Results[0].Snippet, want)
	}
	if !strings.Contains(rec.Body.String(), `\u0002Hello\u0003`) {
		t.Errorf("markers are not escaped as \\u0002 and \\u0003 on the wire: %s", rec.Body)
	}
	none := handlerCase{method: "GET", path: "/v1/search?q=hello", token: "tok-root", status: 200}
	rec = none.serve(t, f, nil)
	none.check(t, rec)
	if strings.TrimSpace(rec.Body.String()) != `{"results":[]}` {
		t.Errorf("a non-member's search: got %s, want no results", rec.Body)
	}
}
