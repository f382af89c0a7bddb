package workers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
)

// Task types, one per attachment kind. Each lives in the queue of the same
// kind (see QueueFor), so voice notes never wait behind videos.
const (
	TypeImage = "media:image"
	TypeVoice = "media:voice"
	TypeVideo = "media:video"
	TypeFile  = "media:file"
)

// Queue names, one per attachment kind.
const (
	QueueVoice = "voice"
	QueueImage = "image"
	QueueFile  = "file"
	QueueVideo = "video"
)

// AllQueues lists the media queues, highest default weight first.
func AllQueues() []string { return []string{QueueVoice, QueueImage, QueueFile, QueueVideo} }

// DefaultQueueWeights are the queue priorities a Server uses when
// Config.Queues is empty: with all queues busy, voice tasks are taken 6 times
// out of 13, images 4, files 2, videos 1.
func DefaultQueueWeights() map[string]int {
	return map[string]int{QueueVoice: 6, QueueImage: 4, QueueFile: 2, QueueVideo: 1}
}

// DefaultTaskTimeouts bound one attempt of a task of each kind; a timed-out
// attempt counts as a transient failure and is retried.
func DefaultTaskTimeouts() map[chatcore.AttachmentKind]time.Duration {
	return map[chatcore.AttachmentKind]time.Duration{
		chatcore.AttachImage: 2 * time.Minute,
		chatcore.AttachVoice: 5 * time.Minute,
		chatcore.AttachVideo: 10 * time.Minute,
		chatcore.AttachFile:  2 * time.Minute,
	}
}

// DefaultMaxRetry is how often a failing task is retried when no MaxRetry is
// configured (so it runs at most DefaultMaxRetry+1 times).
const DefaultMaxRetry = 8

// MediaPayload is the payload of every media task: just the attachment id.
// The database row holds everything else, so a task never carries stale data.
type MediaPayload struct {
	AttachmentID string `json:"attachment_id"`
}

// TypeFor returns the task type for an attachment kind ("" if unknown).
func TypeFor(kind chatcore.AttachmentKind) string {
	switch kind {
	case chatcore.AttachImage:
		return TypeImage
	case chatcore.AttachVoice:
		return TypeVoice
	case chatcore.AttachVideo:
		return TypeVideo
	case chatcore.AttachFile:
		return TypeFile
	}
	return ""
}

// QueueFor returns the queue of an attachment kind ("" if unknown).
func QueueFor(kind chatcore.AttachmentKind) string {
	switch kind {
	case chatcore.AttachImage:
		return QueueImage
	case chatcore.AttachVoice:
		return QueueVoice
	case chatcore.AttachVideo:
		return QueueVideo
	case chatcore.AttachFile:
		return QueueFile
	}
	return ""
}

// kindOfType maps a task type back to its attachment kind.
func kindOfType(typ string) (chatcore.AttachmentKind, bool) {
	switch typ {
	case TypeImage:
		return chatcore.AttachImage, true
	case TypeVoice:
		return chatcore.AttachVoice, true
	case TypeVideo:
		return chatcore.AttachVideo, true
	case TypeFile:
		return chatcore.AttachFile, true
	}
	return "", false
}

// NewMediaTask returns the task that processes attachment a: its type and
// queue follow a.Kind, its task id is a.ID (so enqueueing it twice while the
// first is alive fails with asynq.ErrTaskIDConflict instead of making a
// second job), and one attempt is bounded by the kind's default timeout.
// opts are appended and win over those defaults.
func NewMediaTask(a *chatcore.Attachment, opts ...asynq.Option) (*asynq.Task, error) {
	typ := TypeFor(a.Kind)
	if typ == "" {
		return nil, fmt.Errorf("workers: attachment %s: unknown kind %q", a.ID, a.Kind)
	}
	if a.ID == "" {
		return nil, fmt.Errorf("workers: attachment without id")
	}
	payload, err := json.Marshal(MediaPayload{AttachmentID: a.ID})
	if err != nil {
		return nil, fmt.Errorf("workers: encode payload: %w", err)
	}
	base := []asynq.Option{
		asynq.Queue(QueueFor(a.Kind)),
		asynq.TaskID(a.ID),
		asynq.Timeout(DefaultTaskTimeouts()[a.Kind]),
	}
	return asynq.NewTask(typ, payload, append(base, opts...)...), nil
}

// ParseMediaPayload decodes a media task's payload. A payload that cannot be
// decoded wraps asynq.SkipRetry: retrying it can never help.
func ParseMediaPayload(b []byte) (MediaPayload, error) {
	var p MediaPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode media payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.AttachmentID == "" {
		return p, fmt.Errorf("media payload without attachment_id: %w", asynq.SkipRetry)
	}
	return p, nil
}
