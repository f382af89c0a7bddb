package upload_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/storetest"
)

// The smallest part size S3 accepts; larger uploads are multipart here.
const testPartSize = upload.MinPartSize

func multipartHarness(t *testing.T, backend string) *harness {
	return newHarness(t, backend, func(c *upload.Config) {
		c.MultipartThreshold = testPartSize
		c.PartSize = testPartSize
	})
}

// putPart PUTs body to a part URL and returns the store's status (0 if
// the store hung up).
func (h *harness) putPart(ctx context.Context, t *testing.T, p chatcore.UploadPart, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Headers {
		if !strings.EqualFold(k, "Content-Length") {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-MD5", contentMD5(body))
	resp, err := h.http.Do(req)
	if err != nil {
		// A store may refuse an oversized body by closing the connection.
		t.Logf("PUT part %d: %v", p.Number, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// killedMidPart starts a PUT of the part's full length, sends half of it
// and then drops the connection, as a phone losing its network would.
func (h *harness) killedMidPart(t *testing.T, p chatcore.UploadPart, body []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-MD5", contentMD5(body))
	done := make(chan error, 1)
	go func() {
		resp, err := h.http.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("the store answered " + resp.Status)
		}
		done <- err
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatalf("first half: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // let the half reach the store
	cancel()
	pw.CloseWithError(errors.New("client killed"))
	if err := <-done; err == nil {
		t.Fatal("the killed PUT succeeded")
	}
}

// contentMD5 is the Content-MD5 header for body, which clients send with
// each part so that the store refuses one that did not arrive whole.
func contentMD5(body []byte) string {
	sum := md5.Sum(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func partBytes(data []byte, n int) []byte {
	start := (n - 1) * testPartSize
	return data[start:min(len(data), start+testPartSize)]
}

// TestMultipartResumeAfterKilledClient: an 11 MiB upload in three parts;
// the client dies halfway through part 2, comes back, asks what the store
// has, gets fresh URLs for the rest only, and completes. The assembled
// object is the bytes sent, exactly.
func TestMultipartResumeAfterKilledClient(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			h := multipartHarness(t, backend)
			ctx := t.Context()
			data := pngBytes(t, 2*testPartSize+12345)
			ticket := h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/octet-stream", Size: int64(len(data)), Filename: "big.bin", ConversationID: h.conv})
			id := ticket.UploadID
			if id != ticket.Upload.ID || ticket.PartSize != testPartSize || len(ticket.Parts) != 3 || ticket.URL != "" {
				t.Fatalf("ticket: upload_id %q, part_size %d, %d parts, url %q; want 3 parts of %d", id, ticket.PartSize, len(ticket.Parts), ticket.URL, testPartSize)
			}
			for i, p := range ticket.Parts {
				if p.Number != i+1 || p.URL == "" || p.ExpiresAt.IsZero() {
					t.Fatalf("part %d: %+v", i, p)
				}
			}
			if st := h.putPart(ctx, t, ticket.Parts[0], partBytes(data, 1)); st/100 != 2 {
				t.Fatalf("part 1: status %d", st)
			}
			h.killedMidPart(t, ticket.Parts[1], partBytes(data, 2))

			st, err := h.svc.UploadStatus(ctx, alice, id)
			if err != nil {
				t.Fatalf("UploadStatus: %v", err)
			}
			if !st.Multipart || st.PartCount != 3 || !slices.Equal(st.Missing, []int{2, 3}) {
				t.Fatalf("status after the kill: multipart %v, %d parts, missing %v; want 3 parts, 2 and 3 missing", st.Multipart, st.PartCount, st.Missing)
			}
			if len(st.Parts) == 0 || st.Parts[0].Number != 1 || st.Parts[0].Size != testPartSize {
				t.Errorf("stored parts: got %+v, want part 1 of %d bytes first", st.Parts, testPartSize)
			}
			_, err = h.svc.UploadStatus(ctx, bob, id)
			wantCode(t, "status for someone else", err, chatcore.ENotFound)
			_, err = h.svc.CompleteUpload(ctx, alice, id)
			wantCode(t, "complete with parts missing", err, chatcore.EInvalid)
			if !strings.Contains(err.Error(), "2, 3") {
				t.Errorf("complete error %q: want it to name parts 2, 3", err)
			}

			fresh, err := h.svc.PartURLs(ctx, alice, id, st.Missing)
			if err != nil {
				t.Fatalf("PartURLs: %v", err)
			}
			if len(fresh.Parts) != 2 || fresh.Parts[0].Number != 2 || fresh.Parts[1].Number != 3 {
				t.Fatalf("fresh parts: got %+v, want 2 and 3", fresh.Parts)
			}
			for _, p := range fresh.Parts {
				if code := h.putPart(ctx, t, p, partBytes(data, p.Number)); code/100 != 2 {
					t.Fatalf("part %d: status %d", p.Number, code)
				}
			}
			if st, err := h.svc.UploadStatus(ctx, alice, id); err != nil || len(st.Missing) != 0 || len(st.Parts) != 3 {
				t.Fatalf("status when all is sent: %+v, %v", st, err)
			}
			a, err := h.svc.CompleteUpload(ctx, alice, id)
			if err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			if a.Status != chatcore.StatusProcessing || a.Size != int64(len(data)) || h.enq.count(id) != 1 {
				t.Errorf("completed: status %s, size %d, enqueued %d; want processing, %d, once", a.Status, a.Size, h.enq.count(id), len(data))
			}
			h.mustDownload(t, alice, id, data)
		})
	}
}

// mustDownload checks that user downloads want as the original of id.
func (h *harness) mustDownload(t *testing.T, user, id string, want []byte) {
	t.Helper()
	u, err := h.svc.DownloadURL(t.Context(), user, id, chatcore.VariantOriginal)
	if err != nil {
		t.Fatalf("DownloadURL: %v", err)
	}
	resp, err := storetest.Get(t.Context(), h.http, u)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if resp.Status != http.StatusOK || !bytes.Equal(resp.Body, want) {
		t.Fatalf("download: got status %d and %d bytes (equal: %v), want 200 and the %d verified bytes",
			resp.Status, len(resp.Body), bytes.Equal(resp.Body, want), len(want))
	}
}

// TestMultipartLimits: the parts can only make exactly the declared size.
func TestMultipartLimits(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			h := multipartHarness(t, backend)
			ctx := t.Context()
			data := pngBytes(t, testPartSize+1000)
			ticket := h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/octet-stream", Size: int64(len(data)), Filename: "big.bin"})
			id := ticket.UploadID
			if len(ticket.Parts) != 2 {
				t.Fatalf("parts: got %d, want 2", len(ticket.Parts))
			}
			for _, nums := range [][]int{{3}, {0}, {1, 1}, {}, {1, 2, 3}} {
				_, err := h.svc.PartURLs(ctx, alice, id, nums)
				wantCode(t, fmt.Sprint("part numbers ", nums), err, chatcore.EInvalid)
			}
			// The last part is 1000 bytes: one more, or a whole part, is refused.
			if st := h.putPart(ctx, t, ticket.Parts[1], append(bytes.Clone(partBytes(data, 2)), 0)); st/100 == 2 {
				t.Errorf("a last part one byte over: status %d, want refused", st)
			}
			if st := h.putPart(ctx, t, ticket.Parts[1], partBytes(data, 1)); st/100 == 2 {
				t.Errorf("a last part of a whole part size: status %d, want refused", st)
			}
			if st := h.putPart(ctx, t, ticket.Parts[0], partBytes(data, 1)); st/100 != 2 {
				t.Fatalf("part 1: status %d", st)
			}
			_, err := h.svc.CompleteUpload(ctx, alice, id)
			wantCode(t, "complete without the last part", err, chatcore.EInvalid)

			single := h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/octet-stream", Size: 1000, Filename: "small.bin"})
			if single.Method == "" || len(single.Parts) != 0 {
				t.Errorf("a small upload: got method %q and %d parts, want one request", single.Method, len(single.Parts))
			}
			_, err = h.svc.PartURLs(ctx, alice, single.UploadID, []int{1})
			wantCode(t, "part URLs of a single upload", err, chatcore.EInvalid)
		})
	}
}

// TestVerifiedBytesImmutable: after complete, sending other bytes through
// the still-valid presigned URL (single request, or a part) changes
// nothing anyone downloads.
func TestVerifiedBytesImmutable(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			h := multipartHarness(t, backend)
			ctx := t.Context()
			data := pngBytes(t, 20_000)
			ticket := h.uploaded(t, alice, "image", "image/png", data)
			if _, err := h.svc.CompleteUpload(ctx, alice, ticket.UploadID); err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			evil := bytes.Repeat([]byte("X"), len(data))
			h.send(t, ticket, evil) // the URL is still valid: the store takes it
			h.mustDownload(t, alice, ticket.UploadID, data)

			big := pngBytes(t, testPartSize+500)
			mt := h.create(t, alice, chatcore.UploadRequest{Kind: "file", ContentType: "application/octet-stream", Size: int64(len(big)), Filename: "big.bin"})
			for _, p := range mt.Parts {
				if st := h.putPart(ctx, t, p, partBytes(big, p.Number)); st/100 != 2 {
					t.Fatalf("part %d: status %d", p.Number, st)
				}
			}
			if _, err := h.svc.CompleteUpload(ctx, alice, mt.UploadID); err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			if st := h.putPart(ctx, t, mt.Parts[1], bytes.Repeat([]byte("Y"), 500)); st/100 == 2 {
				t.Errorf("a part sent after complete: status %d, want refused", st)
			}
			h.mustDownload(t, alice, mt.UploadID, big)

			// Once the URL has expired the janitor removes what it wrote.
			a, _ := h.db.AttachmentByID(ctx, ticket.UploadID)
			if a.UploadKey == "" {
				t.Fatal("single upload has no upload key")
			}
			if _, err := h.objects.Stat(ctx, a.UploadKey); err != nil {
				t.Fatalf("the overwrite is not at the upload key: %v", err)
			}
			j := upload.NewJanitor(h.db, h.objects, nil)
			j.Clock = h.clock
			h.clock.Advance(2 * time.Hour)
			if _, err := j.Sweep(ctx); err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			if _, err := h.objects.Stat(ctx, a.UploadKey); !errors.Is(err, upload.ErrNotExist) {
				t.Errorf("upload key after the sweep: %v, want gone", err)
			}
			h.mustDownload(t, alice, ticket.UploadID, data)
		})
	}
}

// TestDedupAtComplete: the same bytes as a ready attachment the uploader
// can see are ready at once, with no job and no second object; the bytes
// still count against the uploader's quota.
func TestDedupAtComplete(t *testing.T) {
	for _, backend := range []string{"local", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, nil)
			ctx := t.Context()
			data := pngBytes(t, 30_000)
			first := h.uploaded(t, alice, "image", "image/png", data)
			a, err := h.svc.CompleteUpload(ctx, alice, first.UploadID)
			if err != nil {
				t.Fatalf("CompleteUpload: %v", err)
			}
			// What the worker records when it is done.
			a.Status, a.Width, a.Height = chatcore.StatusReady, 10, 20
			a.Variants[chatcore.VariantThumbnail] = chatcore.Variant{Key: a.ObjectKey + "-thumb.jpg", ContentType: "image/jpeg", Size: 5}
			if err := h.db.UpdateAttachment(ctx, a); err != nil {
				t.Fatal(err)
			}
			msg := &chatcore.Message{ID: "m1", ConversationID: h.conv, SenderID: alice, ClientID: "c1", CreatedAt: h.clock.Now()}
			if _, _, err := h.db.AppendMessage(ctx, msg, []string{a.ID}); err != nil {
				t.Fatalf("AppendMessage: %v", err)
			}

			// Bob, in the conversation, sends the same bytes.
			second := h.uploaded(t, bob, "image", "image/png", data)
			pending, _ := h.db.AttachmentByID(ctx, second.UploadID)
			b, err := h.svc.CompleteUpload(ctx, bob, second.UploadID)
			if err != nil {
				t.Fatalf("CompleteUpload of the duplicate: %v", err)
			}
			if b.Status != chatcore.StatusReady || b.Width != 10 || b.Variants[chatcore.VariantThumbnail].Size != 5 {
				t.Errorf("duplicate: status %s, width %d, variants %v; want ready with the first's metadata", b.Status, b.Width, b.Variants)
			}
			if n := h.enq.count(second.UploadID); n != 0 {
				t.Errorf("duplicate enqueued %d times, want no job", n)
			}
			for _, k := range []string{pending.ObjectKey, pending.UploadKey} {
				if _, err := h.objects.Stat(ctx, k); !errors.Is(err, upload.ErrNotExist) {
					t.Errorf("second object %s: %v, want none", k, err)
				}
			}
			h.mustDownload(t, bob, second.UploadID, data)
			if used, _ := h.db.UploadedBytesSince(ctx, bob, h.clock.Now().Add(-time.Hour)); used != int64(len(data)) {
				t.Errorf("bob's quota use: %d, want the %d bytes he uploaded", used, len(data))
			}

			// Carol sees neither: her identical upload is processed as new.
			third := h.create(t, carol, chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: int64(len(data)), Filename: "same.png"})
			h.send(t, third, data)
			c, err := h.svc.CompleteUpload(ctx, carol, third.UploadID)
			if err != nil || c.Status != chatcore.StatusProcessing || h.enq.count(third.UploadID) != 1 {
				t.Errorf("stranger's identical upload: %v, %v; want processing with a job", c, err)
			}
		})
	}
}

// TestJanitorAbortsAbandonedMultipart: a multipart upload never completed
// is aborted (its parts deleted) and its row removed once its URLs and the
// grace have run out; one kept alive with fresh URLs is not.
func TestJanitorAbortsAbandonedMultipart(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			h := multipartHarness(t, backend)
			ctx := t.Context()
			data := pngBytes(t, testPartSize+10)
			req := chatcore.UploadRequest{Kind: "file", ContentType: "application/octet-stream", Size: int64(len(data)), Filename: "big.bin"}
			abandoned := h.create(t, alice, req)
			kept := h.create(t, alice, req)
			if st := h.putPart(ctx, t, abandoned.Parts[0], partBytes(data, 1)); st/100 != 2 {
				t.Fatalf("part 1: status %d", st)
			}
			j := upload.NewJanitor(h.db, h.objects, nil)
			j.Clock = h.clock
			h.clock.Advance(upload.DefaultURLTTL + upload.DefaultPendingGrace - time.Minute)
			if _, err := h.svc.PartURLs(ctx, alice, kept.UploadID, []int{1}); err != nil {
				t.Fatalf("PartURLs: %v", err)
			}
			h.clock.Advance(2 * time.Minute)
			if _, err := j.Sweep(ctx); err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			a := abandoned.Upload
			if _, err := h.objects.ListParts(ctx, a.ObjectKey, a.MultipartID); !errors.Is(err, upload.ErrNoUpload) {
				t.Errorf("abandoned upload's parts after the sweep: %v, want the upload aborted", err)
			}
			if _, err := h.db.AttachmentByID(ctx, a.ID); chatcore.ErrorCode(err) != chatcore.ENotFound {
				t.Errorf("abandoned upload's row: %v, want removed", err)
			}
			if st, err := h.svc.UploadStatus(ctx, alice, kept.UploadID); err != nil || len(st.Missing) != 2 {
				t.Errorf("kept upload: %+v, %v; want it pending with 2 parts to send", st, err)
			}
		})
	}
}
