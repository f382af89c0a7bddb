package workers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
)

// Every attachment kind has its own task type and queue, so voice notes
// never wait behind videos; both, the default queue weights and the task
// timeouts come from the kind table, chatcore.MediaKinds.

// AllQueues lists the media queues, highest default weight first.
func AllQueues() []string { return chatcore.MediaQueues() }

// DefaultQueueWeights are the queue priorities a Server uses when
// Config.Queues is empty (chatcore.MediaKind.QueueWeight): with all queues
// busy, voice tasks are taken 6 times out of 13, images 4, files 2, videos 1.
func DefaultQueueWeights() map[string]int {
	w := make(map[string]int)
	for _, k := range chatcore.MediaKinds() {
		w[k.Queue] = k.QueueWeight
	}
	return w
}

// DefaultTaskTimeouts bound one attempt of a task of each kind
// (chatcore.MediaKind.TaskTimeout); a timed-out attempt counts as a
// transient failure and is retried.
func DefaultTaskTimeouts() map[chatcore.AttachmentKind]time.Duration {
	t := make(map[chatcore.AttachmentKind]time.Duration)
	for _, k := range chatcore.MediaKinds() {
		t[k.Kind] = k.TaskTimeout
	}
	return t
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
	k, _ := chatcore.MediaKindOf(kind)
	return k.TaskType
}

// QueueFor returns the queue of an attachment kind ("" if unknown).
func QueueFor(kind chatcore.AttachmentKind) string {
	k, _ := chatcore.MediaKindOf(kind)
	return k.Queue
}

// kindOfType maps a task type back to its attachment kind.
func kindOfType(typ string) (chatcore.AttachmentKind, bool) {
	k, ok := chatcore.MediaKindOfTask(typ)
	return k.Kind, ok
}

// NewMediaTask returns the task that processes attachment a: its type and
// queue follow a.Kind, its task id is a.ID (so enqueueing it twice while the
// first is alive fails with asynq.ErrTaskIDConflict instead of making a
// second job), and one attempt is bounded by the kind's default timeout.
// opts are appended and win over those defaults.
func NewMediaTask(a *chatcore.Attachment, opts ...asynq.Option) (*asynq.Task, error) {
	k, ok := chatcore.MediaKindOf(a.Kind)
	if !ok {
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
		asynq.Queue(k.Queue),
		asynq.TaskID(a.ID),
		asynq.Timeout(k.TaskTimeout),
	}
	return asynq.NewTask(k.TaskType, payload, append(base, opts...)...), nil
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
