package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

func testAttachmentCRUD(t *testing.T, s chatcore.Store) {
	u, member := MustUser(t, s, "yan"), MustUser(t, s, "zoe")
	c := MustDirect(t, s, u, member)
	a := &chatcore.Attachment{
		ID: uuid.NewString(), UploaderID: u.ID, Kind: chatcore.AttachVoice, Status: chatcore.StatusPending,
		ContentType: "audio/mp4", Size: 12345, Filename: "note.m4a", ObjectKey: "uploads/x/original",
		ConversationID: c.ID, CreatedAt: t0, UpdatedAt: t0, ExpiresAt: at(15 * time.Minute),
	}
	if err := s.CreateAttachment(ctx(t), a); err != nil {
		t.Fatalf("create attachment: %v", err)
	}
	want := *a
	want.CreatedAt, want.UpdatedAt, want.ExpiresAt = micro(t0), micro(t0), micro(at(15*time.Minute))
	got, err := s.AttachmentByID(ctx(t), a.ID)
	if err != nil {
		t.Fatalf("attachment by id: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("created attachment (-want +got):\n%s", diff)
	}
	wantCode(t, s.CreateAttachment(ctx(t), a), chatcore.EConflict)

	updates := []struct {
		name   string
		change func(a *chatcore.Attachment)
	}{
		{"processing", func(a *chatcore.Attachment) {
			a.Status, a.ContentType, a.Size = chatcore.StatusProcessing, "audio/x-m4a", 12000
		}},
		{"ready with waveform and variants", func(a *chatcore.Attachment) {
			a.Status, a.DurationMS, a.Blurhash = chatcore.StatusReady, 61500, "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
			a.Waveform = []int{0, 12, 255, 7}
			a.Width, a.Height = 1280, 960
			a.Variants = map[string]chatcore.Variant{
				chatcore.VariantOriginal: {Key: "uploads/x/original", ContentType: "audio/mp4", Size: 12000},
				chatcore.VariantAudio:    {Key: "uploads/x/audio.ogg", ContentType: "audio/ogg", Size: 4000},
				chatcore.VariantPreview:  {Key: "uploads/x/preview.jpg", ContentType: "image/jpeg", Size: 900, Width: 1280, Height: 960},
			}
		}},
		{"empty waveform and variants stay empty", func(a *chatcore.Attachment) {
			a.Waveform, a.Variants = []int{}, map[string]chatcore.Variant{}
		}},
		{"failed", func(a *chatcore.Attachment) {
			a.Status, a.Error, a.Waveform, a.Variants = chatcore.StatusFailed, "corrupt", nil, nil
		}},
	}
	for i, tc := range updates {
		t.Run(tc.name, func(t *testing.T) {
			tc.change(a)
			a.UpdatedAt = at(time.Duration(i+1) * time.Minute)
			if err := s.UpdateAttachment(ctx(t), a); err != nil {
				t.Fatalf("update attachment: %v", err)
			}
			got, err := s.AttachmentByID(ctx(t), a.ID)
			if err != nil {
				t.Fatalf("attachment by id: %v", err)
			}
			if diff := cmp.Diff(a, got); diff != "" {
				t.Errorf("updated attachment (-want +got):\n%s", diff)
			}
		})
	}

	_, err = s.AttachmentByID(ctx(t), uuid.NewString())
	wantCode(t, err, chatcore.ENotFound)
	missing := *a
	missing.ID = uuid.NewString()
	wantCode(t, s.UpdateAttachment(ctx(t), &missing), chatcore.ENotFound)

	// Delete: a pending upload goes; one a message carries stays.
	pending := MustAttachment(t, s, u, chatcore.StatusPending, 1, t0)
	if err := s.DeleteAttachment(ctx(t), pending.ID); err != nil {
		t.Fatalf("delete attachment: %v", err)
	}
	_, err = s.AttachmentByID(ctx(t), pending.ID)
	wantCode(t, err, chatcore.ENotFound)
	wantCode(t, s.DeleteAttachment(ctx(t), pending.ID), chatcore.ENotFound)
	carried := MustAttachment(t, s, u, chatcore.StatusReady, 1, t0)
	MustSend(t, s, c.ID, u.ID, "photo", t0, carried.ID)
	wantCode(t, s.DeleteAttachment(ctx(t), carried.ID), chatcore.EConflict)
}

func testAttachmentAccess(t *testing.T, s chatcore.Store) {
	up, friend, groupie, stranger := MustUser(t, s, "amy"), MustUser(t, s, "bea"), MustUser(t, s, "cal"), MustUser(t, s, "dan")
	direct := MustDirect(t, s, up, friend)
	group := MustGroup(t, s, "Group", up, friend, groupie)
	elsewhere := MustGroup(t, s, "Elsewhere", stranger, friend)
	shared := MustAttachment(t, s, up, chatcore.StatusReady, 1, t0)
	private := MustAttachment(t, s, up, chatcore.StatusProcessing, 1, t0)
	MustSend(t, s, direct.ID, up.ID, "here", t0, shared.ID)
	MustSend(t, s, group.ID, up.ID, "and here", t0, shared.ID)
	MustSend(t, s, elsewhere.ID, stranger.ID, "no attachment", t0)

	tests := []struct {
		name string
		att  string
		user *chatcore.User
		want bool
	}{
		{"uploader", shared.ID, up, true},
		{"member of the direct chat", shared.ID, friend, true},
		{"member of the group", shared.ID, groupie, true},
		{"stranger", shared.ID, stranger, false},
		{"uploader of an unsent upload", private.ID, up, true},
		{"friend of an unsent upload", private.ID, friend, false},
		{"unknown attachment", uuid.NewString(), up, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.CanAccessAttachment(ctx(t), tc.att, tc.user.ID)
			if err != nil {
				t.Fatalf("can access: %v", err)
			}
			if got != tc.want {
				t.Errorf("CanAccessAttachment: got %v, want %v", got, tc.want)
			}
		})
	}
	if err := s.RemoveMember(ctx(t), group.ID, groupie.ID); err != nil {
		t.Fatalf("remove member: %v", err)
	}
	if ok, err := s.CanAccessAttachment(ctx(t), shared.ID, groupie.ID); err != nil || ok {
		t.Errorf("after leaving: got access %v (err %v), want false", ok, err)
	}

	for _, tc := range []struct {
		name string
		att  string
		want []string
	}{
		{"carried twice", shared.ID, sorted(direct.ID, group.ID)},
		{"never sent", private.ID, nil},
	} {
		got, err := s.AttachmentConversationIDs(ctx(t), tc.att)
		if err != nil {
			t.Fatalf("%s: attachment conversation ids: %v", tc.name, err)
		}
		if len(got) != 0 || len(tc.want) != 0 {
			if diff := cmp.Diff(tc.want, sorted(got...)); diff != "" {
				t.Errorf("%s: AttachmentConversationIDs (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

func testListAttachments(t *testing.T, s chatcore.Store) {
	u := MustUser(t, s, "eve")
	p1 := MustAttachment(t, s, u, chatcore.StatusPending, 1, at(1*time.Minute))
	p2 := MustAttachment(t, s, u, chatcore.StatusPending, 1, at(2*time.Minute))
	p3 := MustAttachment(t, s, u, chatcore.StatusPending, 1, at(3*time.Minute))
	proc := MustAttachment(t, s, u, chatcore.StatusProcessing, 1, at(1*time.Minute))
	tests := []struct {
		name   string
		status chatcore.AttachmentStatus
		before time.Time
		limit  int
		want   []string
	}{
		{"pending, all", chatcore.StatusPending, at(time.Hour), 10, []string{p1.ID, p2.ID, p3.ID}},
		{"oldest first with limit", chatcore.StatusPending, at(time.Hour), 2, []string{p1.ID, p2.ID}},
		{"before is exclusive", chatcore.StatusPending, p3.UpdatedAt, 10, []string{p1.ID, p2.ID}},
		{"processing", chatcore.StatusProcessing, at(time.Hour), 10, []string{proc.ID}},
		{"none ready", chatcore.StatusReady, at(time.Hour), 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			atts, err := s.ListAttachments(ctx(t), tc.status, tc.before, nil, tc.limit)
			if err != nil {
				t.Fatalf("list attachments: %v", err)
			}
			var got []string
			for _, a := range atts {
				got = append(got, a.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ListAttachments (-want +got):\n%s", diff)
			}
		})
	}
	// Paging with the last row of each page as the cursor visits every row
	// once, also when rows share an updated_at.
	same := MustAttachment(t, s, u, chatcore.StatusPending, 1, at(2*time.Minute))
	var paged []string
	var after *chatcore.Attachment
	for range 10 {
		page, err := s.ListAttachments(ctx(t), chatcore.StatusPending, at(time.Hour), after, 2)
		if err != nil {
			t.Fatalf("list attachments page: %v", err)
		}
		for _, a := range page {
			paged = append(paged, a.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	want := []string{p1.ID, p2.ID, same.ID, p3.ID}
	if p2.ID > same.ID {
		want = []string{p1.ID, same.ID, p2.ID, p3.ID}
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged ListAttachments (-want +got):\n%s", diff)
	}

	got, err := s.ListAttachments(ctx(t), chatcore.StatusProcessing, at(time.Hour), nil, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("list attachments: got %d, err %v", len(got), err)
	}
	if diff := cmp.Diff(proc, got[0]); diff != "" {
		t.Errorf("listed attachment (-want +got):\n%s", diff)
	}
}

func testUploadedBytesSince(t *testing.T, s chatcore.Store) {
	u, other := MustUser(t, s, "fay"), MustUser(t, s, "gil")
	MustAttachment(t, s, u, chatcore.StatusReady, 100, at(-25*time.Hour))
	MustAttachment(t, s, u, chatcore.StatusPending, 20, at(-time.Hour))
	MustAttachment(t, s, u, chatcore.StatusReady, 3, t0)
	MustAttachment(t, s, other, chatcore.StatusReady, 1000, t0)
	tests := []struct {
		name  string
		user  string
		since time.Time
		want  int64
	}{
		{"last day", u.ID, at(-24 * time.Hour), 23},
		{"since is inclusive", u.ID, t0, 3},
		{"everything", u.ID, at(-48 * time.Hour), 123},
		{"nothing yet", u.ID, at(time.Hour), 0},
		{"no uploads", uuid.NewString(), at(-48 * time.Hour), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UploadedBytesSince(ctx(t), tc.user, tc.since)
			if err != nil {
				t.Fatalf("uploaded bytes since: %v", err)
			}
			if got != tc.want {
				t.Errorf("UploadedBytesSince: got %d, want %d", got, tc.want)
			}
		})
	}
}
