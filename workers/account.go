package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
)

// The account deletion job: chatcore.AccountService.Delete records the
// deletion and revokes everything at once, then enqueues this task, whose
// handler runs AccountService.Purge (tombstones, object deletion). The
// payload is the user id, which is also the task id, so deleting twice
// makes one job.
const (
	TypeAccountPurge = "account:purge"
	QueueAccount     = "account"
	// accountRetention keeps a finished task visible in the queues (and
	// /admin/queues) for a week.
	accountRetention = 7 * 24 * time.Hour
	accountTimeout   = 30 * time.Minute
	accountMaxRetry  = 20
)

// AccountJobs enqueues account deletion tasks (chatcore.AccountJobs).
type AccountJobs struct {
	client *asynq.Client
}

var _ chatcore.AccountJobs = (*AccountJobs)(nil)

// NewAccountJobs returns an enqueuer on redis. Close it when done.
func NewAccountJobs(redis asynq.RedisConnOpt) *AccountJobs {
	return &AccountJobs{client: asynq.NewClient(redis)}
}

// EnqueueAccountPurge enqueues the purge of userID; a task for that user
// still queued, running or retained is left as it is.
func (j *AccountJobs) EnqueueAccountPurge(ctx context.Context, userID string) error {
	t := asynq.NewTask(TypeAccountPurge, []byte(userID),
		asynq.TaskID("purge:"+userID), asynq.Queue(QueueAccount), asynq.MaxRetry(accountMaxRetry),
		asynq.Timeout(accountTimeout), asynq.Retention(accountRetention))
	_, err := j.client.EnqueueContext(ctx, t)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue account purge %s: %w", userID, err)
	}
	return nil
}

// Close releases the Redis connection.
func (j *AccountJobs) Close() error { return j.client.Close() }

// AccountServer runs account deletion tasks: a small asynq server on the
// account queue only, so a deletion never waits behind media. Chat nodes
// run one each (they hold the store and the object store already).
type AccountServer struct {
	srv      *asynq.Server
	accounts chatcore.AccountService
}

// NewAccountServer returns a server that purges with accounts.
func NewAccountServer(redis asynq.RedisConnOpt, accounts chatcore.AccountService, log *slog.Logger) *AccountServer {
	l := log.With(slog.String("component", "account-jobs"))
	return &AccountServer{
		accounts: accounts,
		srv: asynq.NewServer(redis, asynq.Config{
			Concurrency:              1,
			Queues:                   map[string]int{QueueAccount: 1},
			RetryDelayFunc:           Backoff(2*time.Second, 5*time.Minute),
			TaskCheckInterval:        200 * time.Millisecond,
			DelayedTaskCheckInterval: time.Second,
			Logger:                   slogAdapter{l},
			LogLevel:                 asynq.WarnLevel,
			ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
				l.Warn("account deletion attempt failed", slog.String("user_id", string(t.Payload())), slog.Any("error", err))
			}),
		}),
	}
}

// ProcessTask purges the account named by the payload.
func (s *AccountServer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if t.Type() != TypeAccountPurge {
		return fmt.Errorf("account jobs: unknown task type %q: %w", t.Type(), asynq.SkipRetry)
	}
	userID := string(t.Payload())
	err := s.accounts.Purge(ctx, userID)
	if chatcore.ErrorCode(err) == chatcore.ENotFound {
		return fmt.Errorf("account purge %s: %w: %w", userID, err, asynq.SkipRetry)
	}
	return err
}

// Start starts taking tasks.
func (s *AccountServer) Start() error {
	if err := s.srv.Start(s); err != nil {
		return fmt.Errorf("account jobs: start: %w", err)
	}
	return nil
}

// Shutdown stops taking tasks and waits for the one in flight.
func (s *AccountServer) Shutdown() { s.srv.Shutdown() }
