package s3_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/s3"
	"github.com/parley-chat/parley/upload/storetest"
)

// newStore starts a versitygw for t and returns a store on a fresh bucket.
func newStore(t *testing.T, public string) *s3.Store {
	t.Helper()
	srv := testenv.S3(t)
	store, err := s3.New(s3.Config{
		Endpoint:       srv.Endpoint,
		Bucket:         "parley-test",
		AccessKey:      srv.AccessKey,
		SecretKey:      srv.SecretKey,
		Region:         srv.Region,
		PublicEndpoint: public,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := store.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return store
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (upload.ObjectStore, storetest.Client) {
		return newStore(t, ""), storetest.Client{}
	})
}

// TestPublicEndpoint signs URLs for the host phones see (here "localhost")
// while Parley talks to 127.0.0.1.
func TestPublicEndpoint(t *testing.T) {
	srv := testenv.S3(t)
	_, port, _ := strings.Cut(srv.Endpoint, ":")
	store, err := s3.New(s3.Config{
		Endpoint: srv.Endpoint, Bucket: "parley-test", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Region: srv.Region, PublicEndpoint: "http://localhost:" + port,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := t.Context()
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	key := "uploads/public/x/original"
	data := storetest.RandomBytes(t, 1000)
	p, err := store.PresignUpload(ctx, key, upload.UploadConstraints{ContentType: "image/png", Size: 1000, Expires: time.Minute})
	if err != nil {
		t.Fatalf("PresignUpload: %v", err)
	}
	if !strings.HasPrefix(p.URL, "http://localhost:"+port+"/") {
		t.Errorf("upload URL %q: want it on the public endpoint", p.URL)
	}
	resp, err := storetest.Send(ctx, nil, p, data, nil)
	if err != nil || resp.Status/100 != 2 {
		t.Fatalf("upload: got %v, %v, want 2xx", resp, err)
	}
	u, err := store.PresignDownload(ctx, key, time.Minute, "x.png")
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	if !strings.HasPrefix(u, "http://localhost:"+port+"/") {
		t.Errorf("download URL %q: want it on the public endpoint", u)
	}
	resp, err = storetest.Get(ctx, nil, u)
	if err != nil || resp.Status != http.StatusOK || !bytes.Equal(resp.Body, data) {
		t.Fatalf("download: got %v, %v, want 200 with the uploaded bytes", resp, err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := s3.Config{Endpoint: "s3:9000", Bucket: "b", AccessKey: "k", SecretKey: "s"}
	tests := []struct {
		name  string
		tweak func(*s3.Config)
		ok    bool
	}{
		{"ok", func(*s3.Config) {}, true},
		{"public host", func(c *s3.Config) { c.PublicEndpoint = "media.example.com" }, true},
		{"public URL", func(c *s3.Config) { c.PublicEndpoint = "https://media.example.com" }, true},
		{"public URL with path", func(c *s3.Config) { c.PublicEndpoint = "https://example.com/media" }, false},
		{"endpoint with scheme", func(c *s3.Config) { c.Endpoint = "http://s3:9000" }, false},
		{"no bucket", func(c *s3.Config) { c.Bucket = "" }, false},
		{"no secret", func(c *s3.Config) { c.SecretKey = "" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.tweak(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
