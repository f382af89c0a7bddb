package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// editHandlerCases cover the routes of edits, deletions, reactions,
// single messages and titles (see fake_edits_test.go for the fake).
var editHandlerCases = []handlerCase{
	{route: "GET /v1/conversations/{id}/messages/{seq}", name: "ok", method: "GET", path: "/v1/conversations/c1/messages/1", token: "tok-bob", status: 200},
	{route: "GET /v1/conversations/{id}/messages/{seq}", name: "not a member", method: "GET", path: "/v1/conversations/c1/messages/1", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/conversations/{id}/messages/{seq}", name: "no such seq", method: "GET", path: "/v1/conversations/c1/messages/50", token: "tok-bob", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/conversations/{id}/messages/{seq}", name: "bad seq", method: "GET", path: "/v1/conversations/c1/messages/x", token: "tok-bob", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/conversations/{id}/messages/{seq}", name: "no token", method: "GET", path: "/v1/conversations/c1/messages/1", status: 401, code: chatcore.EUnauthorized},

	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "ok", method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-alice", body: `{"body":"fixed"}`, status: 200},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "not the sender", method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-bob", body: `{"body":"mine now"}`, status: 403, code: chatcore.EForbidden},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "not a member", method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-root", body: `{"body":"x"}`, status: 404, code: chatcore.ENotFound},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "window passed", setup: failing("Edit", chatcore.Errorf(chatcore.EConflict, "messages can be edited for 48h0m0s after sending")), method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-alice", body: `{"body":"late"}`, status: 409, code: chatcore.EConflict},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "deleted", method: "PATCH", path: "/v1/conversations/c1/messages/9", token: "tok-alice", body: `{"body":"back"}`, status: 409, code: chatcore.EConflict},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "no body field", method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-alice", body: `{}`, status: 400, code: chatcore.EInvalid},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "seq 0", method: "PATCH", path: "/v1/conversations/c1/messages/0", token: "tok-alice", body: `{"body":"x"}`, status: 400, code: chatcore.EInvalid},
	{route: "PATCH /v1/conversations/{id}/messages/{seq}", name: "internal", setup: failing("Edit", errDBDown), method: "PATCH", path: "/v1/conversations/c1/messages/1", token: "tok-alice", body: `{"body":"x"}`, status: 500, code: chatcore.EInternal},

	{route: "DELETE /v1/conversations/{id}/messages/{seq}", name: "ok", method: "DELETE", path: "/v1/conversations/c1/messages/1", token: "tok-alice", status: 200},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}", name: "not the sender", method: "DELETE", path: "/v1/conversations/c1/messages/1", token: "tok-bob", status: 403, code: chatcore.EForbidden},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}", name: "not a member", method: "DELETE", path: "/v1/conversations/c1/messages/1", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}", name: "no such seq", method: "DELETE", path: "/v1/conversations/c1/messages/10", token: "tok-alice", status: 404, code: chatcore.ENotFound},

	{route: "PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "ok", method: "PUT", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D%F0%9F%8F%BD", token: "tok-bob", status: 200},
	{route: "PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "two emoji", method: "PUT", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D%F0%9F%91%8D", token: "tok-bob", status: 400, code: chatcore.EInvalid},
	{route: "PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "not a member", method: "PUT", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "deleted", method: "PUT", path: "/v1/conversations/c1/messages/9/reactions/%F0%9F%91%8D", token: "tok-bob", status: 409, code: chatcore.EConflict},
	{route: "PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "too many", setup: failing("React", chatcore.Errorf(chatcore.ETooLarge, "at most 20 different reactions per person on a message")), method: "PUT", path: "/v1/conversations/c1/messages/1/reactions/x", token: "tok-bob", status: 413, code: chatcore.ETooLarge},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "ok", method: "DELETE", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D", token: "tok-bob", status: 200},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "not a member", method: "DELETE", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "DELETE /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", name: "no token", method: "DELETE", path: "/v1/conversations/c1/messages/1/reactions/x", status: 401, code: chatcore.EUnauthorized},

	{route: "PATCH /v1/conversations/{id}", name: "direct", method: "PATCH", path: "/v1/conversations/c1", token: "tok-alice", body: `{"title":"t"}`, status: 403, code: chatcore.EForbidden},
	{route: "PATCH /v1/conversations/{id}", name: "ok", setup: func(f *fakeChat) { f.convs["c1"].Kind = chatcore.KindGroup }, method: "PATCH", path: "/v1/conversations/c1", token: "tok-alice", body: `{"title":"t"}`, status: 200},
	{route: "PATCH /v1/conversations/{id}", name: "not a member", method: "PATCH", path: "/v1/conversations/c1", token: "tok-root", body: `{"title":"t"}`, status: 404, code: chatcore.ENotFound},
	{route: "PATCH /v1/conversations/{id}", name: "no title", method: "PATCH", path: "/v1/conversations/c1", token: "tok-alice", body: `{}`, status: 400, code: chatcore.EInvalid},
}

func init() { handlerCases = append(handlerCases, editHandlerCases...) }

// TestHandlerReactionEmojiUnescaped checks the emoji of the path reaches
// the service unescaped and comes back in the reactions.
func TestHandlerReactionEmojiUnescaped(t *testing.T) {
	tc := handlerCase{method: "PUT", path: "/v1/conversations/c1/messages/1/reactions/%F0%9F%91%8D%F0%9F%8F%BD", token: "tok-bob", status: 200}
	rec := tc.serve(t, newFakeChat(), nil)
	tc.check(t, rec)
	var got messageReply
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Message.Reactions) != 1 || got.Message.Reactions[0].Emoji != "👍🏽" || !got.Message.Reactions[0].Me {
		t.Errorf("got reactions %+v, want one 👍🏽 with me", got.Message.Reactions)
	}
}
