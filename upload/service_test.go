package upload_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/storetest"
)

// pngBytes returns n bytes that sniff as PNG.
func pngBytes(t *testing.T, n int) []byte { return storetest.RandomBytes(t, n) }

// oggBytes returns n bytes that sniff as Ogg.
func oggBytes(t *testing.T, n int) []byte {
	b := storetest.RandomBytes(t, n)
	copy(b, "OggS\x00\x02")
	return b
}

// create asks for an upload and fails t unless it is granted.
func (h *harness) create(t *testing.T, user string, req chatcore.UploadRequest) *chatcore.UploadTicket {
	t.Helper()
	ticket, err := h.svc.CreateUpload(t.Context(), user, req)
	if err != nil {
		t.Fatalf("CreateUpload(%+v): %v", req, err)
	}
	return ticket
}

// send uploads data to the ticket's presigned request.
func (h *harness) send(t *testing.T, ticket *chatcore.UploadTicket, data []byte) {
	t.Helper()
	p := &upload.Presigned{Method: ticket.Method, URL: ticket.URL, Fields: ticket.Fields, Headers: ticket.Headers}
	resp, err := storetest.Send(t.Context(), h.http, p, data, nil)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if resp.Status/100 != 2 {
		t.Fatalf("send: got status %d, want 2xx (%s)", resp.Status, resp.Body)
	}
}

// uploaded creates an upload for data and sends it.
func (h *harness) uploaded(t *testing.T, user string, kind chatcore.AttachmentKind, contentType string, data []byte) *chatcore.UploadTicket {
	t.Helper()
	ticket := h.create(t, user, chatcore.UploadRequest{Kind: kind, ContentType: contentType, Size: int64(len(data)), Filename: "f.bin", ConversationID: h.conv})
	h.send(t, ticket, data)
	return ticket
}

func (h *harness) mustBeGone(t *testing.T, a *chatcore.Attachment) {
	t.Helper()
	for _, k := range []string{a.ObjectKey, a.UploadKey} {
		if _, err := h.objects.Stat(t.Context(), k); k != "" && !errors.Is(err, upload.ErrNotExist) {
			t.Errorf("object %s after rejection: got %v, want ErrNotExist", k, err)
		}
	}
	if _, err := h.db.AttachmentByID(t.Context(), a.ID); chatcore.ErrorCode(err) != chatcore.ENotFound {
		t.Errorf("attachment row after rejection: got %v, want not found", err)
	}
}

func TestCreateUploadValidation(t *testing.T) {
	h := newHarness(t, "local", nil)
	tests := []struct {
		name string
		user string
		req  chatcore.UploadRequest
		code string
	}{
		{"unknown kind", alice, chatcore.UploadRequest{Kind: "sticker", ContentType: "image/png", Size: 10}, chatcore.EInvalid},
		{"missing content type", alice, chatcore.UploadRequest{Kind: "image", Size: 10}, chatcore.EInvalid},
		{"malformed content type", alice, chatcore.UploadRequest{Kind: "image", ContentType: "png", Size: 10}, chatcore.EInvalid},
		{"type of another kind", alice, chatcore.UploadRequest{Kind: "image", ContentType: "video/mp4", Size: 10}, chatcore.EUnsupported},
		{"html as image", alice, chatcore.UploadRequest{Kind: "image", ContentType: "text/html", Size: 10}, chatcore.EUnsupported},
		{"zero size", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png"}, chatcore.EInvalid},
		{"negative size", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: -1}, chatcore.EInvalid},
		{"image over 25 MiB", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 25<<20 + 1}, chatcore.ETooLarge},
		{"voice over 16 MiB", alice, chatcore.UploadRequest{Kind: "voice", ContentType: "audio/ogg", Size: 16<<20 + 1}, chatcore.ETooLarge},
		{"video over 512 MiB", alice, chatcore.UploadRequest{Kind: "video", ContentType: "video/mp4", Size: 512<<20 + 1}, chatcore.ETooLarge},
		{"file over 100 MiB", alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/zip", Size: 100<<20 + 1}, chatcore.ETooLarge},
		{"filename over 255 bytes", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 10, Filename: strings.Repeat("é", 128)}, chatcore.EInvalid},
		{"not a member", carol, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 10, ConversationID: "c-ab"}, chatcore.ENotFound},
		{"no such conversation", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 10, ConversationID: "c-none"}, chatcore.ENotFound},
		{"image at the limit", alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 25 << 20}, ""},
		{"video at the limit", alice, chatcore.UploadRequest{Kind: "video", ContentType: "video/quicktime", Size: 512 << 20}, ""},
		{"file of any type", bob, chatcore.UploadRequest{Kind: "file", ContentType: "application/x-whatever", Size: 10}, ""},
		{"file without type", bob, chatcore.UploadRequest{Kind: "file", Size: 10}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateUpload(t.Context(), tc.user, tc.req)
			wantCode(t, "CreateUpload", err, tc.code)
		})
	}
}

func TestCreateUploadTicket(t *testing.T) {
	h := newHarness(t, "local", nil)
	req := chatcore.UploadRequest{Kind: "image", ContentType: "Image/PNG; charset=binary", Size: 1234,
		Filename: "../../etc/passwd\x00\u202eGNP.exe", ConversationID: h.conv}
	ticket := h.create(t, alice, req)
	a := ticket.Upload
	if a.Status != chatcore.StatusPending {
		t.Errorf("status: got %q, want pending", a.Status)
	}
	if a.ContentType != "image/png" || ticket.Fields["Content-Type"] != "image/png" {
		t.Errorf("content type: got %q (field %q), want image/png", a.ContentType, ticket.Fields["Content-Type"])
	}
	if got, want := a.Filename, "passwdGNP.exe"; got != want {
		t.Errorf("filename: got %q, want %q", got, want)
	}
	if ticket.Method != http.MethodPost || ticket.URL == "" {
		t.Errorf("ticket: got method %q url %q, want a POST", ticket.Method, ticket.URL)
	}
	if d := ticket.ExpiresAt.Sub(h.clock.Now()); d <= 0 || d > upload.DefaultURLTTL {
		t.Errorf("ticket expires in %v, want within %v", d, upload.DefaultURLTTL)
	}
	if !strings.HasPrefix(a.ObjectKey, "uploads/") || !strings.HasSuffix(a.ObjectKey, "/original") ||
		strings.Contains(a.ObjectKey, "passwd") || len(a.ObjectKey) < len("uploads/2026-01-01/")+32 {
		t.Errorf("object key %q: want uploads/<date>/<128 random bits>/original", a.ObjectKey)
	}
	other := h.create(t, alice, req)
	if other.Upload.ObjectKey == a.ObjectKey || other.Upload.ID == a.ID {
		t.Errorf("two uploads share key or id: %q, %q", a.ObjectKey, a.ID)
	}
	stored, err := h.db.AttachmentByID(t.Context(), a.ID)
	if err != nil {
		t.Fatalf("AttachmentByID: %v", err)
	}
	if stored.Status != chatcore.StatusPending || stored.ExpiresAt.Before(ticket.ExpiresAt) {
		t.Errorf("stored: status %q expires %v, want pending, not before the URL's %v", stored.Status, stored.ExpiresAt, ticket.ExpiresAt)
	}
}

func TestUploadFlow(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, nil)
			ctx := t.Context()
			data := pngBytes(t, 50_000)
			ticket := h.create(t, alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/jpeg", Size: int64(len(data)), Filename: "beach.jpg", ConversationID: h.conv})
			id := ticket.Upload.ID

			if _, err := h.svc.CompleteUpload(ctx, alice, id); chatcore.ErrorCode(err) != chatcore.EInvalid {
				t.Fatalf("complete before upload: got %v, want invalid", err)
			}
			h.send(t, ticket, data)

			_, err := h.svc.CompleteUpload(ctx, bob, id)
			wantCode(t, "complete by non-uploader", err, chatcore.ENotFound)
			_, err = h.svc.CompleteUpload(ctx, alice, "no-such-upload")
			wantCode(t, "complete of unknown upload", err, chatcore.ENotFound)

			a, err := h.svc.CompleteUpload(ctx, alice, id)
			if err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			if a.Status != chatcore.StatusProcessing {
				t.Errorf("status: got %q, want processing", a.Status)
			}
			if a.ContentType != "image/png" {
				t.Errorf("content type: got %q, want the sniffed image/png", a.ContentType)
			}
			if v := a.Variants[chatcore.VariantOriginal]; v.Key != a.ObjectKey || v.Size != int64(len(data)) {
				t.Errorf("original variant: got %+v", v)
			}
			again, err := h.svc.CompleteUpload(ctx, alice, id)
			if err != nil {
				t.Fatalf("second CompleteUpload: %v", err)
			}
			if again.ID != a.ID || again.Status != a.Status {
				t.Errorf("second complete: got %s/%s, want %s/%s", again.ID, again.Status, a.ID, a.Status)
			}
			if got := h.enq.count(id); got != 1 {
				t.Errorf("enqueued %d times, want 1", got)
			}

			// Bob shares the conversation but no message carries it yet.
			_, err = h.svc.DownloadURL(ctx, bob, id, chatcore.VariantOriginal)
			wantCode(t, "member download before the message", err, chatcore.ENotFound)
			if u, err := h.svc.DownloadURL(ctx, alice, id, chatcore.VariantOriginal); err != nil || u == "" {
				t.Errorf("uploader download: got %q, %v", u, err)
			}

			msg := &chatcore.Message{ID: "m1", ConversationID: h.conv, SenderID: alice, ClientID: "c1", Body: "look", CreatedAt: h.clock.Now()}
			if _, _, err := h.db.AppendMessage(ctx, msg, []string{id}); err != nil {
				t.Fatalf("AppendMessage: %v", err)
			}
			got, err := h.svc.Attachment(ctx, bob, id)
			if err != nil || got.ID != id {
				t.Fatalf("member Attachment: got %v, %v", got, err)
			}
			u, err := h.svc.DownloadURL(ctx, bob, id, chatcore.VariantOriginal)
			if err != nil {
				t.Fatalf("member DownloadURL: %v", err)
			}
			resp, err := storetest.Get(ctx, h.http, u)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if resp.Status != http.StatusOK || !bytes.Equal(resp.Body, data) {
				t.Errorf("download: got status %d and %d bytes, want 200 and the %d uploaded", resp.Status, len(resp.Body), len(data))
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "beach.jpg") {
				t.Errorf("Content-Disposition: got %q, want the file name", cd)
			}

			_, err = h.svc.DownloadURL(ctx, carol, id, chatcore.VariantOriginal)
			wantCode(t, "non-member download", err, chatcore.ENotFound)
			_, err = h.svc.Attachment(ctx, carol, id)
			wantCode(t, "non-member metadata", err, chatcore.ENotFound)
			_, err = h.svc.DownloadURL(ctx, bob, id, chatcore.VariantPreview)
			wantCode(t, "missing variant", err, chatcore.ENotFound)
			_, err = h.svc.DownloadURL(ctx, bob, "no-such-attachment", chatcore.VariantOriginal)
			wantCode(t, "unknown attachment", err, chatcore.ENotFound)
		})
	}
}

func TestCompleteAgainEnqueuesWhatTheQueueMissed(t *testing.T) {
	h := newHarness(t, "local", nil)
	ctx := t.Context()
	data := pngBytes(t, 1_000)
	ticket := h.create(t, alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: int64(len(data)), Filename: "a.png", ConversationID: h.conv})
	id := ticket.Upload.ID
	h.send(t, ticket, data)

	h.enq.setDown(true)
	a, err := h.svc.CompleteUpload(ctx, alice, id)
	if err != nil {
		t.Fatalf("complete with the queue down: %v (want accepted: the row is the source of truth)", err)
	}
	if a.Status != chatcore.StatusProcessing || h.enq.count(id) != 0 {
		t.Fatalf("with the queue down: got status %q and %d tasks, want processing and 0", a.Status, h.enq.count(id))
	}
	h.enq.setDown(false)
	if _, err := h.svc.CompleteUpload(ctx, alice, id); err != nil {
		t.Fatalf("complete again: %v", err)
	}
	if _, err := h.svc.CompleteUpload(ctx, alice, id); err != nil {
		t.Fatalf("complete a third time: %v", err)
	}
	if got := h.enq.count(id); got != 1 {
		t.Fatalf("after the queue came back: got %d tasks, want exactly 1", got)
	}
}

func TestCompleteRejects(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, nil)
			ctx := t.Context()

			t.Run("png declared as voice", func(t *testing.T) {
				ticket := h.uploaded(t, alice, "voice", "audio/ogg", pngBytes(t, 3000))
				_, err := h.svc.CompleteUpload(ctx, alice, ticket.Upload.ID)
				wantCode(t, "CompleteUpload", err, chatcore.EUnprocessable)
				h.mustBeGone(t, ticket.Upload)
				if n := h.enq.count(ticket.Upload.ID); n != 0 {
					t.Errorf("enqueued %d times, want 0", n)
				}
			})
			t.Run("size differs from declared", func(t *testing.T) {
				// The store refuses a body of another size through the
				// presigned request; put one behind its back.
				ticket := h.create(t, alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 1000})
				data := pngBytes(t, 999)
				if err := h.objects.Put(ctx, ticket.Upload.ObjectKey, bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
					t.Fatalf("Put: %v", err)
				}
				_, err := h.svc.CompleteUpload(ctx, alice, ticket.Upload.ID)
				wantCode(t, "CompleteUpload", err, chatcore.EUnprocessable)
				h.mustBeGone(t, ticket.Upload)
			})
			t.Run("m4a and ogg are voice", func(t *testing.T) {
				m4a := pngBytes(t, 2000)
				copy(m4a, "\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomM4A ")
				for _, data := range [][]byte{m4a, oggBytes(t, 2000)} {
					ticket := h.uploaded(t, alice, "voice", "audio/mp4", data)
					a, err := h.svc.CompleteUpload(ctx, alice, ticket.Upload.ID)
					if err != nil {
						t.Fatalf("CompleteUpload: %v", err)
					}
					if a.Status != chatcore.StatusProcessing {
						t.Errorf("status: got %q, want processing", a.Status)
					}
				}
			})
		})
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, "local", func(c *upload.Config) { c.UploadsPerMinute, c.UploadBurst = 2, 2 })
	req := chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 10}
	for i := 0; i < 2; i++ {
		h.create(t, alice, req)
	}
	_, err := h.svc.CreateUpload(t.Context(), alice, req)
	wantCode(t, "third upload in a minute", err, chatcore.ERateLimited)
	var e *chatcore.Error
	if !errors.As(err, &e) || e.RetryAfter != 30*time.Second {
		t.Fatalf("RetryAfter: got %v, want 30s", err)
	}
	h.create(t, bob, req) // others are not limited by alice
	h.clock.Advance(30 * time.Second)
	h.create(t, alice, req)
}

func TestDailyQuota(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, func(c *upload.Config) { c.DailyBytes = 1000 })
			// Start the day at 22:00 UTC.
			now := h.clock.Now().UTC()
			h.clock.Advance(time.Date(now.Year(), now.Month(), now.Day(), 22, 0, 0, 0, time.UTC).Sub(now))
			h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/pdf", Size: 600})
			_, err := h.svc.CreateUpload(t.Context(), alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/pdf", Size: 401})
			wantCode(t, "over the quota", err, chatcore.ERateLimited)
			var e *chatcore.Error
			if !errors.As(err, &e) || e.RetryAfter != 2*time.Hour {
				t.Fatalf("RetryAfter: got %v, want 2h (until 00:00 UTC)", err)
			}
			h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/pdf", Size: 400})
			h.clock.Advance(2 * time.Hour)
			h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/pdf", Size: 1000})
		})
	}
}

func TestJanitor(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, nil)
			ctx := t.Context()
			old := h.uploaded(t, alice, "image", "image/png", pngBytes(t, 100))
			never := h.create(t, alice, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 100})
			done := h.uploaded(t, alice, "image", "image/png", pngBytes(t, 100))
			if _, err := h.svc.CompleteUpload(ctx, alice, done.Upload.ID); err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			h.clock.Advance(30 * time.Minute)
			fresh := h.uploaded(t, alice, "image", "image/png", pngBytes(t, 100))

			j := upload.NewJanitor(h.db, h.objects, nil)
			j.Clock = h.clock
			if n, err := j.Sweep(ctx); err != nil || n != 0 {
				t.Fatalf("Sweep before expiry: got %d, %v, want 0", n, err)
			}
			h.clock.Advance(upload.DefaultURLTTL + upload.DefaultPendingGrace - 30*time.Minute + time.Second)
			_, err := h.svc.CompleteUpload(ctx, alice, old.Upload.ID)
			wantCode(t, "complete after expiry", err, chatcore.ENotFound)
			if n, err := j.Sweep(ctx); err != nil || n != 1 {
				t.Fatalf("Sweep: got %d, %v, want 1 (the never-uploaded one)", n, err)
			}
			h.mustBeGone(t, old.Upload)
			h.mustBeGone(t, never.Upload)
			// A completed upload's bytes are at its object key; a pending
			// one's where its URL wrote them.
			for a, key := range map[*chatcore.Attachment]string{done.Upload: done.Upload.ObjectKey, fresh.Upload: fresh.Upload.UploadKey} {
				if _, err := h.db.AttachmentByID(ctx, a.ID); err != nil {
					t.Errorf("attachment %s removed by the janitor: %v", a.ID, err)
				}
				if _, err := h.objects.Stat(ctx, key); err != nil {
					t.Errorf("object %s removed by the janitor: %v", a.ID, err)
				}
			}
		})
	}
}

func TestJanitorRun(t *testing.T) {
	h := newHarness(t, "local", nil)
	ticket := h.uploaded(t, alice, "image", "image/png", pngBytes(t, 100))
	h.clock.Advance(upload.DefaultURLTTL + upload.DefaultPendingGrace + time.Second)
	j := upload.NewJanitor(h.db, h.objects, nil)
	j.Clock, j.Interval = h.clock, 10*time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { j.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := h.db.AttachmentByID(t.Context(), ticket.Upload.ID)
		if chatcore.ErrorCode(err) == chatcore.ENotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("janitor did not remove the expired upload within 5s (last: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	h.mustBeGone(t, ticket.Upload)
}
