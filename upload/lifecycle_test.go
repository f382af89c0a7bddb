package upload_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/upload"
)

// readyVideo stores an original and two variants and records a ready
// attachment of alice's for them, sent in a message to the group.
func readyVideo(t *testing.T, h *harness, id string) *chatcore.Attachment {
	t.Helper()
	ctx := t.Context()
	prefix := "u/test/" + id + "/"
	now := h.clock.Now().UTC()
	a := &chatcore.Attachment{
		ID: id, UploaderID: alice, Kind: chatcore.AttachVideo, Status: chatcore.StatusReady,
		ContentType: "video/mp4", Size: 5, Filename: "v.mp4", ObjectKey: prefix + "original",
		Variants:  map[string]chatcore.Variant{},
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now,
	}
	for _, v := range []string{"original", "poster", "playback"} {
		key := prefix + v
		if v != "original" {
			key += ".bin"
		}
		if err := h.objects.Put(ctx, key, bytes.NewReader([]byte(v)), int64(len(v)), "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
		a.Variants[v] = chatcore.Variant{Key: key, ContentType: "application/octet-stream", Size: int64(len(v))}
	}
	if err := h.db.CreateAttachment(ctx, a); err != nil {
		t.Fatal(err)
	}
	m := &chatcore.Message{ID: "m-" + id, ConversationID: h.conv, ClientID: "c-" + id, SenderID: alice, Body: "v", CreatedAt: now}
	if _, _, err := h.db.AppendMessage(ctx, m, []string{id}); err != nil {
		t.Fatal(err)
	}
	return a
}

// exists reports whether key is in the object store.
func exists(t *testing.T, h *harness, key string) bool {
	t.Helper()
	rc, err := h.objects.Open(t.Context(), key)
	if err != nil {
		return false
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err == nil
}

// TestForwardAndDeleteObjects: bob forwards alice's video to a conversation
// of his own: a new ready attachment sharing the objects, no job, no
// upload counted against his quota. Deleting alice's leaves the objects
// (bob's copy uses them); deleting bob's too removes every object, and both
// show expired with no download.
func TestForwardAndDeleteObjects(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, nil)
			ctx := t.Context()
			lc := upload.NewLifecycle(h.db, h.objects, h.clock)
			src := readyVideo(t, h, "a-src")
			solo := &chatcore.Conversation{ID: "c-bob-carol", Kind: chatcore.KindGroup, Title: "bc", CreatedBy: bob, CreatedAt: h.clock.Now()}
			if err := h.db.CreateConversation(ctx, solo, []string{bob, carol}); err != nil {
				t.Fatal(err)
			}

			_, err := lc.ForwardAttachment(ctx, carol, src.ID, solo.ID)
			wantCode(t, "carol cannot see it", err, chatcore.ENotFound)
			_, err = lc.ForwardAttachment(ctx, bob, src.ID, "c-nobody")
			wantCode(t, "bob is no member", err, chatcore.ENotFound)

			fwd, err := lc.ForwardAttachment(ctx, bob, src.ID, solo.ID)
			if err != nil {
				t.Fatal(err)
			}
			if fwd.ID == src.ID || fwd.UploaderID != bob || fwd.Status != chatcore.StatusReady || len(fwd.Variants) != 3 {
				t.Errorf("forwarded %+v", fwd)
			}
			if n := h.enq.count(fwd.ID); n != 0 {
				t.Errorf("forward enqueued %d jobs", n)
			}
			if used, err := h.db.UploadedBytesSince(ctx, bob, h.clock.Now().Add(-time.Hour)); err != nil || used != 0 {
				t.Errorf("bob's quota counts %d bytes (%v), want 0", used, err)
			}
			m := &chatcore.Message{ID: "m-fwd", ConversationID: solo.ID, ClientID: "c-fwd", SenderID: bob, Body: "fwd", CreatedAt: h.clock.Now()}
			if _, _, err := h.db.AppendMessage(ctx, m, []string{fwd.ID}); err != nil {
				t.Fatal(err)
			}
			if u, err := h.svc.DownloadURL(ctx, carol, fwd.ID, "playback"); err != nil || u == "" {
				t.Errorf("carol, a member where bob forwarded it, cannot download: %v", err)
			}

			if err := lc.DeleteAttachmentObjects(ctx, src.ID); err != nil {
				t.Fatal(err)
			}
			for _, v := range src.Variants {
				if !exists(t, h, v.Key) {
					t.Errorf("%s deleted while bob's forward still uses it", v.Key)
				}
			}
			got, _ := h.db.AttachmentByID(ctx, src.ID)
			if got.Status != chatcore.StatusExpired {
				t.Errorf("source is %s, want expired", got.Status)
			}
			_, err = h.svc.DownloadURL(ctx, alice, src.ID, "original")
			wantCode(t, "download of an expired attachment", err, chatcore.ENotFound)

			if err := lc.DeleteAttachmentObjects(ctx, fwd.ID); err != nil {
				t.Fatal(err)
			}
			for _, v := range src.Variants {
				if exists(t, h, v.Key) {
					t.Errorf("%s still stored after the last reference went", v.Key)
				}
			}
			if err := lc.DeleteAttachmentObjects(ctx, fwd.ID); err != nil {
				t.Errorf("second delete: %v", err)
			}
			_, err = lc.ForwardAttachment(ctx, bob, fwd.ID, solo.ID)
			wantCode(t, "forward of an expired attachment", err, chatcore.EInvalid)
		})
	}
}

// TestRetention: the janitor with a retention expires old ready
// attachments and deletes their objects; newer ones stay.
func TestRetention(t *testing.T) {
	h := newHarness(t, "local", nil)
	old := readyVideo(t, h, "a-old")
	h.clock.Advance(48 * time.Hour)
	fresh := readyVideo(t, h, "a-fresh")
	j := upload.NewJanitor(h.db, h.objects, nil)
	j.Clock, j.Retention, j.Lifecycle = h.clock, 24*time.Hour, upload.NewLifecycle(h.db, h.objects, h.clock)
	n, err := j.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Sweep: %d, %v; want 1 expired", n, err)
	}
	for _, tc := range []struct {
		a      *chatcore.Attachment
		status chatcore.AttachmentStatus
	}{{old, chatcore.StatusExpired}, {fresh, chatcore.StatusReady}} {
		got, err := h.db.AttachmentByID(t.Context(), tc.a.ID)
		if err != nil || got.Status != tc.status {
			t.Errorf("%s: %v %v, want %s", tc.a.ID, got.Status, err, tc.status)
		}
		for _, v := range tc.a.Variants {
			if exists(t, h, v.Key) != (tc.status == chatcore.StatusReady) {
				t.Errorf("%s: object %s exists=%v", tc.a.ID, v.Key, !(tc.status == chatcore.StatusReady))
			}
		}
	}
}
