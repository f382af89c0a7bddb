package workers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
)

// Job list bounds.
const (
	DefaultJobLimit = 50
	MaxJobLimit     = 500
)

// JobService lets admins see and requeue media tasks. It implements
// chatcore.JobService over an asynq Inspector, so it needs only Redis.
//
// A requeued task runs like any other: the handler moves a failed
// attachment back to processing (and tells the members) before it starts,
// and records it ready if it now succeeds. Requeues done from the asynqmon UI
// behave the same way.
type JobService struct {
	inspector *asynq.Inspector
}

var _ chatcore.JobService = (*JobService)(nil)

// NewJobService returns a JobService on redis. Close it when done.
func NewJobService(redis asynq.RedisConnOpt) *JobService {
	return &JobService{inspector: asynq.NewInspector(redis)}
}

// Close releases the Redis connection.
func (s *JobService) Close() error { return s.inspector.Close() }

// ListJobs returns up to limit tasks of queue ("" = every media queue) in
// state: archived (failed for good), retry, pending, active or scheduled;
// "" means archived. limit ≤ 0 means DefaultJobLimit; at most MaxJobLimit.
// Errors: EInvalid for an unknown queue or state.
func (s *JobService) ListJobs(ctx context.Context, queue, state string, limit int) ([]chatcore.Job, error) {
	queues, err := resolveQueues(queue)
	if err != nil {
		return nil, err
	}
	if state == "" {
		state = "archived"
	}
	if limit <= 0 {
		limit = DefaultJobLimit
	}
	limit = min(limit, MaxJobLimit)
	list, ok := map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"archived":  s.inspector.ListArchivedTasks,
		"retry":     s.inspector.ListRetryTasks,
		"pending":   s.inspector.ListPendingTasks,
		"active":    s.inspector.ListActiveTasks,
		"scheduled": s.inspector.ListScheduledTasks,
	}[state]
	if !ok {
		return nil, chatcore.Errorf(chatcore.EInvalid, "unknown job state %q (want archived, retry, pending, active or scheduled)", state)
	}
	jobs := []chatcore.Job{}
	for _, q := range queues {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		infos, err := list(q, asynq.PageSize(limit-len(jobs)))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue // no task was ever enqueued there
		}
		if err != nil {
			return nil, fmt.Errorf("list %s tasks of %s: %w", state, q, err)
		}
		for _, ti := range infos {
			jobs = append(jobs, jobOf(ti))
		}
		if len(jobs) >= limit {
			break
		}
	}
	// Most recent failures first: that is what an admin looks for.
	slices.SortStableFunc(jobs, func(a, b chatcore.Job) int { return b.FailedAt.Compare(a.FailedAt) })
	return jobs, nil
}

// RequeueJob makes the task with taskID (the attachment id) in queue run
// again now. It must be archived, waiting to retry or scheduled.
// Errors: EInvalid for an unknown queue, ENotFound if there is no such
// task, EConflict if it is already pending or running.
func (s *JobService) RequeueJob(ctx context.Context, queue, taskID string) error {
	if !slices.Contains(AllQueues(), queue) {
		return chatcore.Errorf(chatcore.EInvalid, "unknown queue %q (want one of %v)", queue, AllQueues())
	}
	info, err := s.inspector.GetTaskInfo(queue, taskID)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return chatcore.Errorf(chatcore.ENotFound, "no job %s in queue %s", taskID, queue)
	}
	if err != nil {
		return fmt.Errorf("job %s/%s: %w", queue, taskID, err)
	}
	switch info.State {
	case asynq.TaskStatePending, asynq.TaskStateActive:
		return chatcore.Errorf(chatcore.EConflict, "job %s is already %s", taskID, info.State)
	}
	err = s.inspector.RunTask(queue, taskID)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return chatcore.Errorf(chatcore.ENotFound, "no job %s in queue %s", taskID, queue)
	}
	if err != nil {
		return fmt.Errorf("requeue %s/%s: %w", queue, taskID, err)
	}
	return nil
}

// RequeueAll makes every task of queue ("" = all media queues) in state
// "archived" ("" means archived) or "retry" run again now and returns how
// many. Errors: EInvalid for an unknown queue or state.
func (s *JobService) RequeueAll(ctx context.Context, queue, state string) (int, error) {
	queues, err := resolveQueues(queue)
	if err != nil {
		return 0, err
	}
	var run func(string) (int, error)
	switch state {
	case "archived", "":
		run = s.inspector.RunAllArchivedTasks
	case "retry":
		run = s.inspector.RunAllRetryTasks
	default:
		return 0, chatcore.Errorf(chatcore.EInvalid, "can requeue archived or retry jobs, not %q", state)
	}
	existing, err := s.inspector.Queues()
	if err != nil {
		return 0, fmt.Errorf("list queues: %w", err)
	}
	total := 0
	for _, q := range queues {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if !slices.Contains(existing, q) {
			continue
		}
		n, err := run(q)
		if err != nil {
			return total, fmt.Errorf("requeue %s: %w", q, err)
		}
		total += n
	}
	return total, nil
}

func resolveQueues(queue string) ([]string, error) {
	if queue == "" {
		return AllQueues(), nil
	}
	if !slices.Contains(AllQueues(), queue) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "unknown queue %q (want one of %v)", queue, AllQueues())
	}
	return []string{queue}, nil
}

func jobOf(ti *asynq.TaskInfo) chatcore.Job {
	j := chatcore.Job{
		Queue:    ti.Queue,
		TaskID:   ti.ID,
		State:    ti.State.String(),
		FailedAt: ti.LastFailedAt,
		Retried:  ti.Retried,
		MaxRetry: ti.MaxRetry,
	}
	j.Reason, j.Error = parseLastErr(ti.LastErr)
	if k, ok := kindOfType(ti.Type); ok {
		j.Kind = string(k)
	}
	if p, err := ParseMediaPayload(ti.Payload); err == nil {
		j.AttachmentID = p.AttachmentID
	}
	return j
}
