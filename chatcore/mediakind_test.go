package chatcore_test

import (
	"mime"
	"slices"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// Every row of the kind table is complete and its names are unique, so a
// new kind cannot reuse another's queue or task type by mistake.
func TestMediaKindsComplete(t *testing.T) {
	seen := map[string]string{}
	unique := func(what, v string, k chatcore.AttachmentKind) {
		if prev, ok := seen[what+v]; ok {
			t.Errorf("%s: %s %q is also %s's", k, what, v, prev)
		}
		seen[what+v] = string(k)
	}
	for _, k := range chatcore.MediaKinds() {
		if k.Kind == "" || k.Queue == "" || k.TaskType == "" || k.Pipeline == "" ||
			k.MaxBytes <= 0 || k.QueueWeight <= 0 || k.TaskTimeout <= 0 || len(k.ContentTypes) == 0 {
			t.Errorf("%s: incomplete row %+v", k.Kind, k)
		}
		unique("kind", string(k.Kind), k.Kind)
		unique("queue", k.Queue, k.Kind)
		unique("task type", k.TaskType, k.Kind)
		for _, ct := range append(slices.Clone(k.ContentTypes), k.DefaultContentType) {
			if ct == "" || ct == "*" {
				continue
			}
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != ct {
				t.Errorf("%s: content type %q is not a lower-case media type", k.Kind, ct)
			}
		}
		for ct, ext := range k.Extensions {
			if got := chatcore.FileExtension(ct + "; charset=x"); got != ext {
				t.Errorf("FileExtension(%s) = %q, want %q", ct, got, ext)
			}
		}
		for _, find := range []func() (chatcore.MediaKind, bool){
			func() (chatcore.MediaKind, bool) { return chatcore.MediaKindOf(k.Kind) },
			func() (chatcore.MediaKind, bool) { return chatcore.MediaKindOfTask(k.TaskType) },
			func() (chatcore.MediaKind, bool) { return chatcore.MediaKindOfQueue(k.Queue) },
		} {
			if got, ok := find(); !ok || got.Kind != k.Kind {
				t.Errorf("lookup of %s found %q, %v", k.Kind, got.Kind, ok)
			}
		}
	}
	if got, want := chatcore.MediaKindList(), "image, voice, video, file, avatar"; got != want {
		t.Errorf("MediaKindList() = %q, want %q", got, want)
	}
	if got, want := chatcore.MediaQueues(), []string{"voice", "image", "avatar", "file", "video"}; !slices.Equal(got, want) {
		t.Errorf("MediaQueues() = %v, want %v (highest weight first)", got, want)
	}
	if _, ok := chatcore.MediaKindOf("sticker"); ok {
		t.Error("MediaKindOf(sticker) found a row")
	}
}

// The table hands out copies: a caller changing its row changes nobody else's.
func TestMediaKindsCopies(t *testing.T) {
	k, _ := chatcore.MediaKindOf(chatcore.AttachImage)
	k.ContentTypes[0] = "text/html"
	k.Extensions["image/jpeg"] = ".exe"
	if again, _ := chatcore.MediaKindOf(chatcore.AttachImage); again.ContentTypes[0] != "image/jpeg" || chatcore.FileExtension("image/jpeg") != ".jpg" {
		t.Errorf("the table changed: %v %q", again.ContentTypes, chatcore.FileExtension("image/jpeg"))
	}
}
