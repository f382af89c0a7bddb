package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/workers"
)

// accountSweepEvery is how often a chat node re-enqueues lost deletion
// jobs and frees usernames whose cooling-off ended.
const accountSweepEvery = time.Minute

// startAccounts builds the account service, the deletion job server on the
// account queue and the sweep; all stop at a.close.
func (a *app) startAccounts(ctx context.Context, chat *chatcore.Services, d chatDeps, objects chatcore.AttachmentObjects) (chatcore.AccountService, error) {
	jobs := workers.NewAccountJobs(d.asynq)
	a.onClose("account jobs client", func(context.Context) error { return jobs.Close() })
	accounts, err := chatcore.NewAccountService(chat, chatcore.AccountConfig{
		Jobs:         jobs,
		Objects:      objects,
		UsernameHold: a.cfg.DeletedUsernameHold,
		KeepMessages: a.cfg.KeepDeletedMessages,
	})
	if err != nil {
		return nil, err
	}
	srv := workers.NewAccountServer(d.asynq, accounts, a.logger)
	if err := srv.Start(); err != nil {
		return nil, err
	}
	a.onClose("account jobs", func(context.Context) error { srv.Shutdown(); return nil })
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(accountSweepEvery)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if err := accounts.Sweep(sctx); err != nil && sctx.Err() == nil {
					a.logger.Warn("account sweep", slog.Any("error", err))
				}
			}
		}
	}()
	a.onClose("account sweep", func(context.Context) error { stop(); <-done; return nil })
	return accounts, nil
}
