package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// FuzzClientFrame: whatever bytes a socket sends, parsing either yields a
// frame or a client error (invalid, too_large), never a panic or an
// internal error the client would see as a server fault.
func FuzzClientFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"send","client_id":"c1","conversation_id":"x","body":"hi","attachment_ids":["a"]}`,
		`{"type":"read","conversation_id":"x","seq":3}`,
		`{"type":"typing","conversation_id":"x","state":"start"}`,
		`{"type":"ping","ref":"p"}`,
		`{"type": "send", `, `[1,2]`, `"str"`, `null`, `{"seq":"one"}`, `{"seq":1e400}`, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cf clientFrame
		err := json.Unmarshal(data, &cf)
		if err == nil {
			_ = cf.ref()
			return
		}
		code := chatcore.ErrorCode(jsonError(err))
		if code != chatcore.EInvalid && code != chatcore.ETooLarge {
			t.Fatalf("parse error %v maps to %q, want a client error", err, code)
		}
	})
}
