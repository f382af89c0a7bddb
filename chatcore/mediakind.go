package chatcore

import (
	"cmp"
	"maps"
	"mime"
	"slices"
	"strings"
	"time"
)

// AttachmentKind is what the client declared it uploads. The kinds and
// everything about them are in the mediaKinds table below.
type AttachmentKind string

// The attachment kinds; each has one row in mediaKinds.
const (
	AttachImage AttachmentKind = "image"
	AttachVoice AttachmentKind = "voice"
	AttachVideo AttachmentKind = "video"
	AttachFile  AttachmentKind = "file"
	// AttachAvatar is a profile picture (PATCH /v1/me avatar_upload_id):
	// cropped square at 512 and 96 px (AvatarVariants).
	AttachAvatar AttachmentKind = "avatar"
)

// MediaKind describes one attachment kind: what uploads of it may declare
// and how large they may be (package upload), which asynq queue and task
// type process it, for how long, and as which pipeline kind (package
// workers). Adding a kind means adding its constant above and its row to
// mediaKinds; nothing else lists kinds or content types.
type MediaKind struct {
	Kind AttachmentKind
	// ContentTypes are the declared media types an upload of this kind
	// accepts by default (lower case, no parameters; "type/*" is a whole
	// top-level type, "*" any type). The bytes are sniffed on complete
	// whatever was declared.
	ContentTypes []string
	// DefaultContentType is taken when an upload declares none; "" means a
	// content type is required.
	DefaultContentType string
	// Extensions names files by content type (download names, derived
	// files' object keys), for the types this kind stores.
	Extensions map[string]string
	// MaxBytes is the default limit of an upload's declared size.
	MaxBytes int64

	// Queue is the asynq queue its tasks live in, one per kind, so voice
	// notes never wait behind videos; QueueWeight is that queue's default
	// priority (with all queues busy, a queue is served weight times out of
	// the sum of the weights).
	Queue       string
	QueueWeight int
	// TaskType is the asynq task type that processes it.
	TaskType string
	// TaskTimeout bounds one attempt of its task by default; a timed-out
	// attempt is a transient failure and is retried.
	TaskTimeout time.Duration
	// Pipeline is the pipeline.Kind it is processed as (package pipeline
	// imports nothing of ours, so the table names it).
	Pipeline string
}

// mediaKinds is the table of attachment kinds, in the order clients see
// them listed.
var mediaKinds = []MediaKind{
	{
		Kind: AttachImage,
		ContentTypes: []string{
			"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif",
		},
		Extensions: map[string]string{
			"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
		},
		MaxBytes: 25 << 20,
		Queue:    "image", QueueWeight: 4,
		TaskType: "media:image", TaskTimeout: 2 * time.Minute,
		Pipeline: "image",
	},
	{
		Kind: AttachVoice,
		ContentTypes: []string{
			"audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac", "audio/mpeg", "audio/ogg", "audio/opus",
			"audio/webm", "audio/wav", "audio/x-wav", "audio/wave", "audio/amr", "audio/amr-wb", "audio/3gpp",
			"audio/flac", "audio/x-flac",
		},
		Extensions: map[string]string{
			"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mp4": ".m4a", "audio/mpeg": ".mp3",
		},
		MaxBytes: 16 << 20,
		Queue:    "voice", QueueWeight: 6,
		TaskType: "media:voice", TaskTimeout: 5 * time.Minute,
		Pipeline: "voice",
	},
	{
		Kind: AttachVideo,
		ContentTypes: []string{
			"video/mp4", "video/quicktime", "video/3gpp", "video/webm", "video/x-matroska",
		},
		Extensions: map[string]string{"video/mp4": ".mp4"},
		MaxBytes:   512 << 20,
		Queue:      "video", QueueWeight: 1,
		TaskType: "media:video", TaskTimeout: time.Hour, // poster, then the playback transcode (workers.Config.PlaybackTimeout)
		Pipeline: "video",
	},
	{
		Kind:               AttachFile,
		ContentTypes:       []string{"*"},
		DefaultContentType: "application/octet-stream",
		MaxBytes:           100 << 20,
		Queue:              "file", QueueWeight: 2,
		TaskType: "media:file", TaskTimeout: 2 * time.Minute,
		Pipeline: "file",
	},
	{
		Kind: AttachAvatar,
		ContentTypes: []string{
			"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif",
		},
		Extensions: map[string]string{"image/jpeg": ".jpg"},
		MaxBytes:   10 << 20,
		Queue:      "avatar", QueueWeight: 3,
		TaskType: "media:avatar", TaskTimeout: time.Minute,
		Pipeline: "avatar",
	},
}

// MediaKinds returns the table of attachment kinds (a copy), in the order
// clients see them listed.
func MediaKinds() []MediaKind {
	out := make([]MediaKind, len(mediaKinds))
	for i, k := range mediaKinds {
		out[i] = k.clone()
	}
	return out
}

// clone returns k with its own slice and map, so no caller can change the table.
func (k MediaKind) clone() MediaKind {
	k.ContentTypes = slices.Clone(k.ContentTypes)
	k.Extensions = maps.Clone(k.Extensions)
	return k
}

// MediaKindOf returns the row of kind.
func MediaKindOf(kind AttachmentKind) (MediaKind, bool) {
	return findMediaKind(func(k MediaKind) bool { return k.Kind == kind })
}

// MediaKindOfTask returns the row of the kind whose task type is typ.
func MediaKindOfTask(typ string) (MediaKind, bool) {
	return findMediaKind(func(k MediaKind) bool { return k.TaskType == typ })
}

// MediaKindOfQueue returns the row of the kind whose queue is q.
func MediaKindOfQueue(q string) (MediaKind, bool) {
	return findMediaKind(func(k MediaKind) bool { return k.Queue == q })
}

func findMediaKind(match func(MediaKind) bool) (MediaKind, bool) {
	for _, k := range mediaKinds {
		if match(k) {
			return k.clone(), true
		}
	}
	return MediaKind{}, false
}

// MediaKindList is the kinds as a client-facing list: "image, voice,
// video, file".
func MediaKindList() string {
	names := make([]string, len(mediaKinds))
	for i, k := range mediaKinds {
		names[i] = string(k.Kind)
	}
	return strings.Join(names, ", ")
}

// MediaQueues returns the queue of every kind, highest default weight first.
func MediaQueues() []string {
	ks := slices.Clone(mediaKinds)
	slices.SortStableFunc(ks, func(a, b MediaKind) int { return cmp.Compare(b.QueueWeight, a.QueueWeight) })
	qs := make([]string, len(ks))
	for i, k := range ks {
		qs[i] = k.Queue
	}
	return qs
}

// FileExtension returns the extension (".jpg") files of contentType are
// named with, "" if no kind names one. Parameters and case are ignored.
func FileExtension(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	for _, k := range mediaKinds {
		if ext, ok := k.Extensions[mt]; ok {
			return ext
		}
	}
	return ""
}
