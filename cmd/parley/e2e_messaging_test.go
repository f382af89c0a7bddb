package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/parley-chat/parley/internal/testenv"
)

// systemEvent matches a message frame carrying a system message of event.
func systemEvent(event string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		m, _ := f["message"].(map[string]any)
		sys, _ := m["system"].(map[string]any)
		return sys != nil && sys["event"] == event
	}
}

// reactionsOf returns the reactions of a reaction frame or message as
// emoji → [count, me].
func reactionsOf(v any) map[string][2]any {
	out := map[string][2]any{}
	list, _ := v.([]any)
	for _, r := range list {
		r := r.(map[string]any)
		out[fmt.Sprint(r["emoji"])] = [2]any{r["count"], r["me"]}
	}
	return out
}

// TestMessagingTwoNodes runs two `parley serve` nodes on one Postgres and
// one Redis: alice on node A and bob on node B see each other's edit,
// delete, reaction, reply and system message live, on every socket; a
// non-member's edit, delete and react are refused with 404, a member's
// edit of someone else's message with 403. (The sync engineer extends
// this file with an offline device.)
func TestMessagingTwoNodes(t *testing.T) {
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("e2e-secret-", 4),
		"PARLEY_LOG_LEVEL=warn",
	}
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")

	alice := register(t, nodeA.URL, "alice")
	bob := register(t, nodeB.URL, "bob")
	carol := register(t, nodeA.URL, "carol") // a third member makes a group
	mallory := register(t, nodeB.URL, "mallory")
	// carol's tablet syncs once now, as a fresh device, and stays offline
	// through everything below.
	var tablet struct {
		Cursor string `json:"cursor"`
	}
	carol.do("GET", "/v1/sync", nil, http.StatusOK, &tablet)

	var created struct {
		Conversation struct {
			ID      string `json:"id"`
			LastSeq int64  `json:"last_seq"`
		} `json:"conversation"`
	}
	alice.do("POST", "/v1/conversations", map[string]any{"member_ids": []string{bob.User.ID, carol.User.ID}, "title": "team"}, http.StatusCreated, &created)
	conv := created.Conversation.ID
	base := "/v1/conversations/" + conv
	// The group starts with its conversation_created system message.
	var hist struct {
		Messages []map[string]any `json:"messages"`
	}
	bob.do("GET", base+"/messages?after=0", nil, http.StatusOK, &hist)
	if len(hist.Messages) != 1 || !systemEvent("conversation_created")(map[string]any{"message": hist.Messages[0]}) {
		t.Fatalf("new group history: got %v, want one conversation_created", hist.Messages)
	}

	as, bs := alice.dial(), bob.dial()
	as2 := alice.on(nodeB.URL).dial()

	// A system message, live on both nodes: alice renames the group.
	alice.do("PATCH", base, map[string]any{"title": "the team"}, http.StatusOK, nil)
	for _, s := range []*socket{as, bs} {
		f := s.expect("message", systemEvent("title_changed"))
		if sys := f["message"].(map[string]any)["system"].(map[string]any); sys["title"] != "the team" || sys["actor_id"] != alice.User.ID {
			t.Errorf("title_changed: got %v", sys)
		}
	}

	// A message and a reply that quotes it.
	as.send(map[string]any{"type": "send", "client_id": "m1", "conversation_id": conv, "body": "hello @bob"})
	m1 := as.expect("ack", hasFields(map[string]any{"client_id": "m1"}))["message"].(map[string]any)
	seq := int64(m1["seq"].(float64))
	bs.send(map[string]any{"type": "send", "client_id": "r1", "conversation_id": conv, "body": "hi!", "reply_to_seq": seq})
	reply := as.expect("message", messageField("client_id", "r1"))["message"].(map[string]any)
	if rt, _ := reply["reply_to"].(map[string]any); rt == nil || rt["body"] != "hello @bob" || rt["sender_id"] != alice.User.ID || rt["deleted"] != false {
		t.Fatalf("live reply on node A: reply_to %v, want alice's hello", reply["reply_to"])
	}

	// An edit over the socket on node A: acked with its ref, seen on both nodes.
	as.send(map[string]any{"type": "edit", "ref": "e1", "conversation_id": conv, "seq": seq, "body": "hello everyone"})
	ack := as.expect("ack", hasFields(map[string]any{"ref": "e1"}))["message"].(map[string]any)
	if ack["body"] != "hello everyone" || ack["edited_at"] == nil {
		t.Fatalf("edit ack: got %v", ack)
	}
	// alice's other device (on node B) and bob see it; the editing socket
	// may get the frame before its ack, so it is not checked for it.
	for _, s := range []*socket{as2, bs} {
		f := s.expect("message_edited", messageField("seq", seq))["message"].(map[string]any)
		if f["body"] != "hello everyone" || f["edited_at"] == nil || fmt.Sprint(f["mentions"]) != "[]" {
			t.Errorf("message_edited: got %v, want the new body, edited_at and no mentions left", f)
		}
	}

	// A reaction over REST on node B: both see it, each with their own "me".
	bob.do("PUT", base+fmt.Sprintf("/messages/%d/reactions/%s", seq, url.PathEscape("👍🏽")), nil, http.StatusOK, nil)
	for _, c := range []struct {
		s  *socket
		me bool
	}{{as, false}, {bs, true}} {
		f := c.s.expect("reaction", hasFields(map[string]any{"seq": seq, "on": true}))
		if f["user_id"] != bob.User.ID || f["emoji"] != "👍🏽" {
			t.Errorf("reaction frame: got %v", f)
		}
		if got := reactionsOf(f["reactions"])["👍🏽"]; fmt.Sprint(got) != fmt.Sprintf("[1 %v]", c.me) {
			t.Errorf("reactions seen by %v: got %v, want count 1, me %v", c.me, f["reactions"], c.me)
		}
	}
	// The reactions come back with history too.
	var one struct {
		Message map[string]any `json:"message"`
	}
	bob.on(nodeA.URL).do("GET", base+fmt.Sprintf("/messages/%d", seq), nil, http.StatusOK, &one)
	if got := reactionsOf(one.Message["reactions"])["👍🏽"]; fmt.Sprint(got) != "[1 true]" {
		t.Errorf("GET message as bob: reactions %v", one.Message["reactions"])
	}

	// Refusals: strangers get 404, members 403 for what is not theirs.
	msgPath := base + fmt.Sprintf("/messages/%d", seq)
	for _, r := range []struct {
		who          *client
		method, path string
		body         any
		want         int
	}{
		{mallory, "PATCH", msgPath, map[string]any{"body": "mine"}, http.StatusNotFound},
		{mallory, "DELETE", msgPath, nil, http.StatusNotFound},
		{mallory, "PUT", msgPath + "/reactions/x", nil, http.StatusNotFound},
		{mallory, "GET", msgPath, nil, http.StatusNotFound},
		{bob, "PATCH", msgPath, map[string]any{"body": "mine"}, http.StatusForbidden},
		{bob, "DELETE", msgPath, nil, http.StatusForbidden},
		{bob, "PATCH", base, map[string]any{"title": "bob's"}, http.StatusForbidden},
	} {
		if status, raw := r.who.request(r.method, r.path, r.body); status != r.want {
			t.Errorf("%s %s %s: got %d %s, want %d", r.who.User.Username, r.method, r.path, status, raw, r.want)
		}
	}
	ms := mallory.dial()
	ms.send(map[string]any{"type": "react", "ref": "x1", "conversation_id": conv, "seq": seq, "emoji": "👍", "on": true})
	if f := ms.expect("error", hasFields(map[string]any{"ref": "x1"})); f["code"] != "not_found" {
		t.Errorf("mallory's react frame: got %v, want not_found", f)
	}

	// A delete on node A: a tombstone on both nodes, and the quote says so.
	alice.do("DELETE", msgPath, nil, http.StatusOK, nil)
	for _, s := range []*socket{as, bs} {
		f := s.expect("message_deleted", messageField("seq", seq))["message"].(map[string]any)
		if f["body"] != "" || f["deleted_at"] == nil || fmt.Sprint(f["reactions"]) != "[]" {
			t.Errorf("message_deleted: got %v, want an empty tombstone", f)
		}
	}
	bob.do("GET", base+fmt.Sprintf("/messages?after=%d", seq-1), nil, http.StatusOK, &hist)
	if len(hist.Messages) != 2 || hist.Messages[0]["deleted_at"] == nil {
		t.Fatalf("history after the delete: got %v, want the tombstone and the reply", hist.Messages)
	}
	if rt, _ := hist.Messages[1]["reply_to"].(map[string]any); rt == nil || rt["deleted"] != true || rt["body"] != "" {
		t.Errorf("reply to a deleted message: reply_to %v, want deleted with no body", hist.Messages[1]["reply_to"])
	}
	if status, _ := bob.request("PUT", msgPath+"/reactions/x", nil); status != http.StatusConflict {
		t.Errorf("reacting to a tombstone: got %d, want 409", status)
	}

	checkOfflineSync(t, carol.on(nodeB.URL), tablet.Cursor, conv)
}

// checkOfflineSync: carol's tablet, offline during all of
// TestMessagingTwoNodes, gets exactly what changed from one GET /v1/sync on
// the other node: the group (renamed), its two system messages, the
// reply, and alice's message once, as the tombstone it ended as (its
// edit and bob's reaction compacted away).
func checkOfflineSync(t *testing.T, carol *client, cursor, conv string) {
	t.Helper()
	var feed struct {
		Changes []struct {
			Type           string         `json:"type"`
			ConversationID string         `json:"conversation_id"`
			Message        map[string]any `json:"message"`
			Conversation   map[string]any `json:"conversation"`
		} `json:"changes"`
		Cursor  string `json:"cursor"`
		HasMore bool   `json:"has_more"`
	}
	carol.do("GET", "/v1/sync?since="+url.QueryEscape(cursor), nil, http.StatusOK, &feed)
	var got []string
	for _, c := range feed.Changes {
		if c.ConversationID != conv {
			t.Errorf("change of another conversation: %+v", c)
			continue
		}
		switch c.Type {
		case "conversation":
			got = append(got, fmt.Sprintf("conversation %v", c.Conversation["title"]))
		case "message":
			m := c.Message
			d := fmt.Sprintf("message %v", m["seq"])
			if sys, _ := m["system"].(map[string]any); sys != nil {
				d += fmt.Sprintf(" system %v", sys["event"])
			} else if m["deleted_at"] != nil {
				d += fmt.Sprintf(" deleted body=%q reactions=%v", m["body"], m["reactions"])
			} else {
				d += fmt.Sprintf(" %v", m["body"])
				if rt, _ := m["reply_to"].(map[string]any); rt != nil {
					d += fmt.Sprintf(" reply_to deleted=%v", rt["deleted"])
				}
			}
			got = append(got, d)
		default:
			got = append(got, c.Type)
		}
	}
	want := []string{
		"conversation the team",
		"message 1 system conversation_created",
		"message 2 system title_changed",
		`message 3 deleted body="" reactions=[]`,
		"message 4 hi! reply_to deleted=true",
	}
	sorted := slices.Sorted(slices.Values(got))
	if fmt.Sprint(sorted) != fmt.Sprint(want) || feed.HasMore || feed.Cursor == "" {
		t.Fatalf("offline tablet's sync: got %q (has_more %v), want exactly %q", got, feed.HasMore, want)
	}
	// Oldest first: the reply was sent before alice's message was deleted.
	if i, j := slices.Index(got, want[4]), slices.Index(got, want[3]); i > j {
		t.Errorf("sync order %q: the delete (the tombstone's last change) must come after the reply", got)
	}
	// Nothing since the reply's cursor but what is within the commit lag.
	var again struct {
		Changes []map[string]any `json:"changes"`
	}
	carol.do("GET", "/v1/sync?since="+url.QueryEscape(feed.Cursor), nil, http.StatusOK, &again)
	if len(again.Changes) > len(feed.Changes) {
		t.Errorf("sync again: %d changes, more than there are", len(again.Changes))
	}
	if status, _ := carol.request("GET", "/v1/sync?since=bogus", nil); status != http.StatusGone {
		t.Errorf("a bogus cursor: got %d, want 410", status)
	}
}

// TestDeletedAttachmentObjectsGo: when the last message carrying an
// attachment is deleted, every object of it leaves the bucket once the
// grace period has passed, and not before; while another message still
// carries it, nothing is deleted.
func TestDeletedAttachmentObjectsGo(t *testing.T) {
	m := newMediaStack(t, "PARLEY_ATTACHMENT_DELETE_GRACE=2s", "PARLEY_ATTACHMENT_SWEEP_INTERVAL=200ms")
	mc, err := minio.New(m.s3.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(m.s3.AccessKey, m.s3.SecretKey, ""), Region: m.s3.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	objects := func() []string {
		var keys []string
		for o := range mc.ListObjects(context.Background(), "parley", minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				t.Fatalf("list bucket: %v", o.Err)
			}
			keys = append(keys, o.Key)
		}
		return keys
	}

	png, err := os.ReadFile(writePNG(t, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	id := m.upload(m.alice, "image", "image/png", "dot.png", png)
	if len(objects()) == 0 {
		t.Fatal("the upload left no object in the bucket")
	}
	base := "/v1/conversations/" + m.conv + "/messages"
	var first, second struct {
		Message struct {
			Seq int64 `json:"seq"`
		} `json:"message"`
	}
	m.alice.do("POST", base, map[string]any{"client_id": "a1", "body": "one", "attachment_ids": []string{id}}, http.StatusCreated, &first)
	m.alice.do("POST", base, map[string]any{"client_id": "a2", "body": "two", "attachment_ids": []string{id}}, http.StatusCreated, &second)

	// The first message goes; the second still carries the attachment.
	m.alice.do("DELETE", fmt.Sprintf("%s/%d", base, first.Message.Seq), nil, http.StatusOK, nil)
	time.Sleep(3 * time.Second) // past the grace, several sweeps
	if len(objects()) == 0 {
		t.Fatal("objects deleted while another message still carries the attachment")
	}

	// The last one goes: not at once, but within the grace and a sweep.
	m.alice.do("DELETE", fmt.Sprintf("%s/%d", base, second.Message.Seq), nil, http.StatusOK, nil)
	if len(objects()) == 0 {
		t.Fatal("objects deleted before the grace period")
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(objects()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("objects still in the bucket 15 s after the delete: %v", objects())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var att struct {
		Attachment map[string]any `json:"attachment"`
	}
	if status, raw := m.alice.request("GET", "/v1/attachments/"+id, nil); status == http.StatusOK {
		if err := json.Unmarshal(raw, &att); err == nil && att.Attachment["status"] != "expired" {
			t.Errorf("attachment after its objects went: status %v, want expired", att.Attachment["status"])
		}
	}
}
