package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestPasswordChangeRevokesOtherSessionsOnEveryNode: alice has two
// sessions; changing her password through node 1 makes node 2 refuse the
// other session's access token within 5 s, while the session that changed
// it goes on working on both nodes.
func TestPasswordChangeRevokesOtherSessionsOnEveryNode(t *testing.T) {
	m := newMediaStack(t)
	node2 := start(t, m.env, nil, "serve", "-addr", "127.0.0.1:0")
	phone := login(t, m.node.URL, "alice", "correct horse battery").on(node2.URL)
	phone.do("GET", "/v1/me", nil, http.StatusOK, nil)

	var ss struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	m.alice.do("GET", "/v1/me/sessions", nil, http.StatusOK, &ss)
	if len(ss.Sessions) != 2 {
		t.Fatalf("sessions before: got %d, want 2", len(ss.Sessions))
	}

	m.alice.do("POST", "/v1/me/password", map[string]string{"current": "wrong password", "new": "a new password"}, http.StatusForbidden, nil)
	phone.do("GET", "/v1/me", nil, http.StatusOK, nil) // a wrong guess changes nothing
	m.alice.do("POST", "/v1/me/password", map[string]string{"current": "correct horse battery", "new": "a new password"}, http.StatusNoContent, nil)
	changed := time.Now()
	for {
		status, body := phone.request("GET", "/v1/me", nil)
		if status == http.StatusUnauthorized {
			break
		}
		if time.Since(changed) > 5*time.Second {
			t.Fatalf("node 2 still accepts the other session's access token 5 s after the password change: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.alice.on(node2.URL).do("GET", "/v1/me", nil, http.StatusOK, nil)
	m.alice.do("GET", "/v1/me/sessions", nil, http.StatusOK, &ss)
	if len(ss.Sessions) != 1 || !ss.Sessions[0].Current {
		t.Errorf("sessions after: got %+v, want only the current one", ss.Sessions)
	}
	if status, _ := (&client{t: t, base: node2.URL}).request("POST", "/v1/auth/login", map[string]string{"username": "alice", "password": "correct horse battery"}); status != http.StatusUnauthorized {
		t.Errorf("login with the old password: got %d, want 401", status)
	}
	login(t, node2.URL, "alice", "a new password")
}

// TestAccountDeletionEmptiesTheBucket: alice has an avatar (cropped square
// by the worker, visible to bob) and a photo in a conversation; her export
// holds her message and not bob's; once she deletes her account and the
// job finishes (an admin watches it), no object of hers is left in the
// bucket while bob's are all there, her message is a tombstone and her
// profile is erased.
func TestAccountDeletionEmptiesTheBucket(t *testing.T) {
	m := newMediaStack(t)
	m.worker()
	mc, err := minio.New(m.s3.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(m.s3.AccessKey, m.s3.SecretKey, ""), Region: m.s3.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	objects := func() []string {
		keys := []string{}
		for o := range mc.ListObjects(context.Background(), "parley", minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				t.Fatalf("list bucket: %v", o.Err)
			}
			keys = append(keys, o.Key)
		}
		slices.Sort(keys)
		return keys
	}
	waitReady := func(c *client, id string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var r struct {
				Attachment map[string]any `json:"attachment"`
			}
			c.do("GET", "/v1/attachments/"+id, nil, http.StatusOK, &r)
			switch r.Attachment["status"] {
			case "ready":
				return r.Attachment
			case "failed":
				t.Fatalf("attachment %s failed: %v", id, r.Attachment)
			}
			if time.Now().After(deadline) {
				t.Fatalf("attachment %s not ready after 60 s: %v", id, r.Attachment)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Three different pictures: the same bytes would share objects.
	readPNG := func(w, h int) []byte {
		b, err := os.ReadFile(writePNG(t, w, h))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	png, alicePNG, avatarPNG := readPNG(300, 200), readPNG(320, 240), readPNG(200, 300)

	// Bob's photo first: what is in the bucket then is all his.
	bobPhoto := m.upload(m.bob, "image", "image/png", "bob.png", png)
	m.send(m.bob, bobPhoto)
	waitReady(m.bob, bobPhoto)
	bobKeys := objects()
	if len(bobKeys) < 2 {
		t.Fatalf("bob's photo left %d objects, want the original and its variants", len(bobKeys))
	}

	alicePhoto := m.upload(m.alice, "image", "image/png", "alice.png", alicePNG)
	m.alice.do("POST", "/v1/conversations/"+m.conv+"/messages", map[string]any{
		"client_id": "a-1", "body": "alice's private words", "attachment_ids": []string{alicePhoto},
	}, http.StatusCreated, nil)
	m.bob.do("POST", "/v1/conversations/"+m.conv+"/messages", map[string]any{"client_id": "b-1", "body": "bob's own words"}, http.StatusCreated, nil)
	avatar := m.upload(m.alice, "avatar", "image/png", "me.png", avatarPNG)
	waitReady(m.alice, alicePhoto)
	waitReady(m.alice, avatar)
	var me struct {
		User struct {
			Avatar struct {
				ID       string            `json:"id"`
				Blurhash string            `json:"blurhash"`
				URLs     map[string]string `json:"urls"`
			} `json:"avatar"`
		} `json:"user"`
	}
	m.alice.do("PATCH", "/v1/me", map[string]any{"avatar_upload_id": avatar, "display_name": "Alice\u202e Liddell"}, http.StatusOK, &me)
	if me.User.Avatar.ID != avatar || me.User.Avatar.Blurhash == "" || me.User.Avatar.URLs["avatar_96"] == "" {
		t.Fatalf("PATCH /v1/me avatar: got %+v", me.User.Avatar)
	}
	// Bob sees the avatar, square at both sizes.
	for v, side := range map[string]int{"avatar_512": 512, "avatar_96": 96} {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(m.download(m.bob, avatar, v)))
		if err != nil || cfg.Width != side || cfg.Height != side {
			t.Errorf("%s as bob downloads it: %dx%d, %v; want %dx%d", v, cfg.Width, cfg.Height, err, side, side)
		}
	}
	var bobSees struct {
		User struct {
			DisplayName string `json:"display_name"`
		} `json:"user"`
	}
	m.bob.do("GET", "/v1/users/"+m.alice.User.ID, nil, http.StatusOK, &bobSees)
	if bobSees.User.DisplayName != "Alice Liddell" {
		t.Errorf("display name as bob sees it: %q, want the bidi override gone", bobSees.User.DisplayName)
	}
	if len(objects()) <= len(bobKeys) {
		t.Fatal("alice's uploads left no object in the bucket")
	}

	// The export: alice's message, not bob's.
	status, raw := m.alice.request("GET", "/v1/me/export", nil)
	if status != http.StatusOK {
		t.Fatalf("export: %d %s", status, raw)
	}
	var export struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
		Messages []struct {
			Body        string `json:"body"`
			Attachments []struct {
				ID  string `json:"id"`
				URL string `json:"url"`
			} `json:"attachments"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &export); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if export.User.ID != m.alice.User.ID || len(export.Conversations) != 1 || len(export.Messages) != 1 ||
		export.Messages[0].Body != "alice's private words" || len(export.Messages[0].Attachments) != 1 ||
		export.Messages[0].Attachments[0].ID != alicePhoto {
		t.Errorf("export: got %s", raw)
	}
	if strings.Contains(string(raw), "bob's own words") || strings.Contains(string(raw), bobPhoto) {
		t.Errorf("alice's export holds bob's data: %s", raw)
	}

	// Deletion.
	as := m.alice.dial()
	m.alice.do("DELETE", "/v1/me", map[string]string{"password": "wrong password"}, http.StatusForbidden, nil)
	m.alice.do("DELETE", "/v1/me", map[string]string{"password": "correct horse battery"}, http.StatusAccepted, nil)
	m.alice.do("GET", "/v1/me", nil, http.StatusUnauthorized, nil)
	if code := as.closeStatus(); code != 4011 {
		t.Errorf("alice's socket closed with %d, want 4011 account_deleted", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var d struct {
			Deletion struct {
				Status      string `json:"status"`
				Messages    int    `json:"messages_tombstoned"`
				Attachments int    `json:"attachments_deleted"`
			} `json:"deletion"`
		}
		m.admin.do("GET", "/v1/admin/users/"+m.alice.User.ID+"/deletion", nil, http.StatusOK, &d)
		if d.Deletion.Status == "done" {
			if d.Deletion.Messages != 1 || d.Deletion.Attachments != 2 {
				t.Errorf("deletion record: got %+v, want 1 message and 2 attachments", d.Deletion)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deletion still %q after 30 s", d.Deletion.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := objects(); !slices.Equal(got, bobKeys) {
		t.Errorf("bucket after alice's deletion:\n got %v\nwant bob's only %v", got, bobKeys)
	}
	m.bob.do("GET", "/v1/users/"+m.alice.User.ID, nil, http.StatusOK, &bobSees)
	if bobSees.User.DisplayName != "Deleted account" {
		t.Errorf("deleted user's name: %q", bobSees.User.DisplayName)
	}
	var hist struct {
		Messages []struct {
			SenderID  string  `json:"sender_id"`
			Body      string  `json:"body"`
			DeletedAt *string `json:"deleted_at"`
		} `json:"messages"`
	}
	m.bob.do("GET", "/v1/conversations/"+m.conv+"/messages", nil, http.StatusOK, &hist)
	for _, msg := range hist.Messages {
		if msg.SenderID == m.alice.User.ID && (msg.Body != "" || msg.DeletedAt == nil) {
			t.Errorf("alice's message survived her deletion: %+v", msg)
		}
		if msg.Body == "alice's private words" {
			t.Error("alice's words still in bob's history")
		}
	}
	if status, _ := m.bob.request("GET", "/v1/attachments/"+bobPhoto+"/original", nil); status != http.StatusFound {
		t.Errorf("bob's photo after alice's deletion: %d, want 302", status)
	}
}
