package upload_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/local"
)

func TestNewServiceConfig(t *testing.T) {
	objects, err := local.New(local.Config{Dir: t.TempDir(), BaseURL: "http://x", Secret: make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "local", nil)
	tests := []struct {
		name  string
		tweak func(*upload.Config)
		ok    bool
	}{
		{"defaults", func(*upload.Config) {}, true},
		{"no store", func(c *upload.Config) { c.Store = nil }, false},
		{"no objects", func(c *upload.Config) { c.Objects = nil }, false},
		{"URL TTL over 15 min", func(c *upload.Config) { c.URLTTL = 16 * time.Minute }, false},
		{"download TTL over 5 min", func(c *upload.Config) { c.DownloadTTL = 6 * time.Minute }, false},
		{"unknown kind", func(c *upload.Config) {
			c.Limits = map[chatcore.AttachmentKind]upload.KindLimit{"sticker": {MaxBytes: 1}}
		}, false},
		{"bad content type", func(c *upload.Config) {
			c.Limits = map[chatcore.AttachmentKind]upload.KindLimit{"image": {ContentTypes: []string{"image/png;x=1"}}}
		}, false},
		{"wildcard types", func(c *upload.Config) {
			c.Limits = map[chatcore.AttachmentKind]upload.KindLimit{"image": {ContentTypes: []string{"image/*"}}}
		}, true},
		{"absolute key prefix", func(c *upload.Config) { c.KeyPrefix = "/abs/" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := upload.Config{Store: h.db, Objects: objects}
			tc.tweak(&cfg)
			if _, err := upload.NewService(cfg); (err == nil) != tc.ok {
				t.Errorf("NewService: got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCustomLimits(t *testing.T) {
	h := newHarness(t, "local", func(c *upload.Config) {
		c.Limits = map[chatcore.AttachmentKind]upload.KindLimit{
			"image": {MaxBytes: 1000, ContentTypes: []string{"image/*"}},
			"file":  {ContentTypes: []string{"application/pdf"}},
		}
	})
	tests := []struct {
		req  chatcore.UploadRequest
		code string
	}{
		{chatcore.UploadRequest{Kind: "image", ContentType: "image/bmp", Size: 1000}, ""},
		{chatcore.UploadRequest{Kind: "image", ContentType: "image/png", Size: 1001}, chatcore.ETooLarge},
		{chatcore.UploadRequest{Kind: "file", ContentType: "application/pdf", Size: 100 << 20}, ""},
		{chatcore.UploadRequest{Kind: "file", ContentType: "application/zip", Size: 10}, chatcore.EUnsupported},
		{chatcore.UploadRequest{Kind: "voice", ContentType: "audio/ogg", Size: 16 << 20}, ""},
	}
	for _, tc := range tests {
		_, err := h.svc.CreateUpload(t.Context(), alice, tc.req)
		if got := chatcore.ErrorCode(err); got != tc.code {
			t.Errorf("CreateUpload(%+v): got %q (%v), want %q", tc.req, got, err, tc.code)
		}
	}
}
