package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/upload"
)

// NewFunc returns a fresh, empty store (its bucket already ensured) and the
// client that reaches its URLs. It is called once per subtest.
type NewFunc func(t *testing.T) (upload.ObjectStore, Client)

// Run runs the contract suite against the stores newStore makes.
func Run(t *testing.T, newStore NewFunc) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s upload.ObjectStore, c Client)
	}{
		{"PresignedUploadAndDownload", testUploadDownload},
		{"OneByteOverIsRefused", testOneByteOver},
		{"OneByteUnderIsRefused", testOneByteUnder},
		{"WrongContentTypeIsRefused", testWrongContentType},
		{"TamperedSignatureIsRefused", testTamperedSignature},
		{"ExpiredURLsAreRefused", testExpired},
		{"PutStatReadDelete", testPutStatReadDelete},
		{"PutWrongSizeStoresNothing", testPutWrongSize},
		{"MissingObject", testMissing},
		{"EnsureBucketTwice", testEnsureBucket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStore(t)
			tc.fn(t, s, c)
		})
	}
}

// RandomBytes returns n random bytes that start like a PNG file.
func RandomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func testKey(t *testing.T) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return "uploads/test/" + strings.ReplaceAll(t.Name(), "/", "_") + "-" + hexString(r[:]) + "/original"
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func presign(t *testing.T, s upload.ObjectStore, key, ct string, size int64, ttl time.Duration) *upload.Presigned {
	t.Helper()
	p, err := s.PresignUpload(context.Background(), key, upload.UploadConstraints{ContentType: ct, Size: size, Expires: ttl})
	if err != nil {
		t.Fatalf("PresignUpload: %v", err)
	}
	if p.Method != http.MethodPost && p.Method != http.MethodPut {
		t.Fatalf("PresignUpload method: got %q, want POST or PUT", p.Method)
	}
	return p
}

func send(t *testing.T, c Client, p *upload.Presigned, data []byte, override map[string]string) *Response {
	t.Helper()
	resp, err := Send(context.Background(), c.http(), p, data, override)
	if err != nil {
		t.Fatalf("send upload: %v", err)
	}
	return resp
}

func mustStored(t *testing.T, s upload.ObjectStore, key string, want []byte, wantType string) {
	t.Helper()
	info, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != int64(len(want)) {
		t.Errorf("Stat size: got %d, want %d", info.Size, len(want))
	}
	if wantType != "" && info.ContentType != wantType {
		t.Errorf("Stat content type: got %q, want %q", info.ContentType, wantType)
	}
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Open: got %d bytes differing from the %d stored", len(got), len(want))
	}
}

func mustNotStored(t *testing.T, s upload.ObjectStore, key string) {
	t.Helper()
	_, err := s.Stat(context.Background(), key)
	if !errors.Is(err, upload.ErrNotExist) {
		t.Fatalf("Stat after refused upload: got %v, want ErrNotExist", err)
	}
}

func refused(t *testing.T, what string, resp *Response) {
	t.Helper()
	if resp.Status < 400 || resp.Status >= 500 {
		t.Errorf("%s: got status %d, want 4xx (body %q)", what, resp.Status, trim(resp.Body))
	}
}

func trim(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

func testUploadDownload(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	key := testKey(t)
	data := RandomBytes(t, 70_000)
	p := presign(t, s, key, "image/png", int64(len(data)), time.Minute)
	if until := time.Until(p.ExpiresAt); until <= 0 || until > time.Minute+2*time.Second {
		// Only meaningful with the real clock; local stores with a fake
		// clock may sit anywhere.
		if c.Advance == nil {
			t.Errorf("ExpiresAt: got %v from now, want within a minute", until)
		}
	}
	if resp := send(t, c, p, data, nil); resp.Status/100 != 2 {
		t.Fatalf("upload: got status %d, want 2xx (body %q)", resp.Status, trim(resp.Body))
	}
	mustStored(t, s, key, data, "image/png")

	for _, n := range []int{1, 8, 4096, len(data) + 10} {
		head, err := s.ReadHead(ctx, key, n)
		if err != nil {
			t.Fatalf("ReadHead(%d): %v", n, err)
		}
		want := data[:min(n, len(data))]
		if !bytes.Equal(head, want) {
			t.Errorf("ReadHead(%d): got %d bytes, want the first %d", n, len(head), len(want))
		}
	}

	name := "Café photo.png"
	u, err := s.PresignDownload(ctx, key, time.Minute, name)
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	resp, err := Get(ctx, c.http(), u)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("download: got status %d, want 200 (body %q)", resp.Status, trim(resp.Body))
	}
	if !bytes.Equal(resp.Body, data) {
		t.Errorf("download: got %d bytes not identical to the %d uploaded", len(resp.Body), len(data))
	}
	if got, want := resp.Header.Get("Content-Disposition"), upload.ContentDisposition(name); got != want {
		t.Errorf("download Content-Disposition: got %q, want %q", got, want)
	}
}

func testOneByteOver(t *testing.T, s upload.ObjectStore, c Client) {
	key := testKey(t)
	data := RandomBytes(t, 1001)
	p := presign(t, s, key, "image/png", 1000, time.Minute)
	refused(t, "one byte over", send(t, c, p, data, nil))
	mustNotStored(t, s, key)
}

func testOneByteUnder(t *testing.T, s upload.ObjectStore, c Client) {
	key := testKey(t)
	data := RandomBytes(t, 999)
	p := presign(t, s, key, "image/png", 1000, time.Minute)
	refused(t, "one byte under", send(t, c, p, data, nil))
	mustNotStored(t, s, key)
}

func testWrongContentType(t *testing.T, s upload.ObjectStore, c Client) {
	key := testKey(t)
	data := RandomBytes(t, 100)
	p := presign(t, s, key, "image/png", 100, time.Minute)
	override := map[string]string{}
	for k := range fieldsOf(p) {
		if strings.EqualFold(k, "Content-Type") {
			override[k] = "text/html"
		}
	}
	if len(override) == 0 {
		t.Fatalf("presigned request has no Content-Type field or header: %v", fieldsOf(p))
	}
	refused(t, "wrong content type", send(t, c, p, data, override))
	mustNotStored(t, s, key)
}

func fieldsOf(p *upload.Presigned) map[string]string {
	if p.Method == http.MethodPut {
		return p.Headers
	}
	return p.Fields
}

func testTamperedSignature(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	key := testKey(t)
	data := RandomBytes(t, 100)
	p := presign(t, s, key, "image/png", 100, time.Minute)

	// Upload: a changed signature field, or a changed signature in the URL.
	if name := signatureName(fieldsOf(p)); name != "" {
		refused(t, "tampered upload signature", send(t, c, p, data, map[string]string{name: tamper(fieldsOf(p)[name])}))
	} else {
		tp := *p
		tp.URL = tamperURL(t, p.URL)
		refused(t, "tampered upload signature", send(t, c, &tp, data, nil))
	}
	mustNotStored(t, s, key)

	// A valid signature for another key does not work for this one.
	other := presign(t, s, testKey(t), "image/png", 100, time.Minute)
	moved := *other
	moved.URL = p.URL
	moved.Fields = map[string]string{}
	for k, v := range other.Fields {
		moved.Fields[k] = v
	}
	for k := range moved.Fields {
		if strings.EqualFold(k, "key") {
			moved.Fields[k] = key
		}
	}
	refused(t, "signature of another key", send(t, c, &moved, data, nil))
	mustNotStored(t, s, key)

	// Download.
	if resp := send(t, c, p, data, nil); resp.Status/100 != 2 {
		t.Fatalf("upload: got status %d, want 2xx (body %q)", resp.Status, trim(resp.Body))
	}
	u, err := s.PresignDownload(ctx, key, time.Minute, "a.png")
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	resp, err := Get(ctx, c.http(), tamperURL(t, u))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("tampered download signature: got status %d, want 403", resp.Status)
	}
}

// tamperURL changes the signature query parameter of u.
func tamperURL(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse %q: %v", u, err)
	}
	q := pu.Query()
	name := signatureName(q)
	if name == "" {
		t.Fatalf("URL %q has no signature parameter", u)
	}
	q.Set(name, tamper(q.Get(name)))
	pu.RawQuery = q.Encode()
	return pu.String()
}

func testExpired(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	data := RandomBytes(t, 100)
	stored := testKey(t)
	if resp := send(t, c, presign(t, s, stored, "image/png", 100, time.Minute), data, nil); resp.Status/100 != 2 {
		t.Fatalf("upload: got status %d, want 2xx (body %q)", resp.Status, trim(resp.Body))
	}
	key := testKey(t)
	p := presign(t, s, key, "image/png", 100, time.Second)
	u, err := s.PresignDownload(ctx, stored, time.Second, "a.png")
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	// S3 dates have one-second resolution: 2.1 s is past any 1 s expiry.
	if c.Advance != nil {
		c.Advance(2100 * time.Millisecond)
	} else {
		time.Sleep(2100 * time.Millisecond)
	}
	refused(t, "expired upload", send(t, c, p, data, nil))
	mustNotStored(t, s, key)
	resp, err := Get(ctx, c.http(), u)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("expired download: got status %d, want 403", resp.Status)
	}
}

func testPutStatReadDelete(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	key := testKey(t)
	data := RandomBytes(t, 5000)
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	mustStored(t, s, key, data, "image/jpeg")

	// Unknown size.
	key2 := strings.TrimSuffix(key, "original") + "preview"
	if err := s.Put(ctx, key2, io.MultiReader(bytes.NewReader(data)), -1, "image/webp"); err != nil {
		t.Fatalf("Put unknown size: %v", err)
	}
	mustStored(t, s, key2, data, "image/webp")

	// Overwrite.
	if err := s.Put(ctx, key, bytes.NewReader(data[:10]), 10, "image/jpeg"); err != nil {
		t.Fatalf("Put again: %v", err)
	}
	mustStored(t, s, key, data[:10], "image/jpeg")

	for _, k := range []string{key, key2} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		mustNotStored(t, s, k)
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("Delete of a missing key: got %v, want nil", err)
		}
	}
}

func testPutWrongSize(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	data := RandomBytes(t, 100)
	tests := []struct {
		name string
		size int64
	}{
		{"reader longer than size", 99},
		{"reader shorter than size", 101},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := testKey(t)
			if err := s.Put(ctx, key, bytes.NewReader(data), tc.size, "image/png"); err == nil {
				t.Errorf("Put of %d bytes declared as %d: got nil error, want one", len(data), tc.size)
			}
			mustNotStored(t, s, key)
		})
	}
}

func testMissing(t *testing.T, s upload.ObjectStore, c Client) {
	ctx := context.Background()
	key := testKey(t)
	if _, err := s.Stat(ctx, key); !errors.Is(err, upload.ErrNotExist) {
		t.Errorf("Stat: got %v, want ErrNotExist", err)
	}
	if rc, err := s.Open(ctx, key); !errors.Is(err, upload.ErrNotExist) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open: got %v, want ErrNotExist", err)
	}
	if _, err := s.ReadHead(ctx, key, 512); !errors.Is(err, upload.ErrNotExist) {
		t.Errorf("ReadHead: got %v, want ErrNotExist", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete: got %v, want nil", err)
	}
	u, err := s.PresignDownload(ctx, key, time.Minute, "")
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	resp, err := Get(ctx, c.http(), u)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("download of a missing object: got status %d, want 404", resp.Status)
	}
}

func testEnsureBucket(t *testing.T, s upload.ObjectStore, c Client) {
	for i := 0; i < 2; i++ {
		if err := s.EnsureBucket(context.Background()); err != nil {
			t.Fatalf("EnsureBucket #%d: %v", i+1, err)
		}
	}
}
