// Package workers turns completed uploads into ready attachments. It defines
// the asynq media tasks (one type and one queue per attachment kind, the
// attachment id as task id and as the whole payload), the Handler that
// streams an original from the object store, runs the pipeline, stores the
// derived files next to the original, records the result in one update and
// publishes an attachment event to the members; the Server a `parley worker`
// process runs; the Reconciler that re-enqueues attachments whose task was
// lost (the database row is the source of truth, Redis holds only work in
// flight); the admin JobService (list, requeue) and the asynqmon UI.
//
// Each kind's queue, task type, default queue weight, task timeout and
// pipeline kind come from the kind table, chatcore.MediaKinds
// (chatcore/mediakind.go); TypeFor, QueueFor, AllQueues, DefaultQueueWeights
// and DefaultTaskTimeouts read it.
//
// Attachment events (the "attachment" frame of docs/protocol.md) are sent
// from here, not from chatcore: Notify (handler.go) publishes the frame on
// the chat Bus to the uploader and the members of every conversation that
// carries the attachment, and each chat node's chatcore.Hub pushes it to
// the sockets it holds. The Handler calls it when an attachment turns
// ready or failed, and when a requeued failure starts again.
//
// The reconciler touches asynq's private Redis layout in one place only,
// asynqlease.go (asynq issue #1144), pinned by TestLeaseKeyLayout.
//
// Failures are sorted by cause: permanent ones (corrupt, unsupported, too
// large) wrap asynq.SkipRetry and are archived at once; transient ones
// (object store or database down, timeout) retry with exponential backoff.
// Either way, when no try is left the attachment becomes failed with a
// reason code and the members are told. A requeued failure that succeeds
// turns the attachment ready.
//
// # What cmd/parley wires
//
// parley serve (chat node):
//
//	enq := workers.NewEnqueuer(redisOpt, workers.EnqueueOptions{MaxRetry: cfg.MaxRetry})
//	defer enq.Close()                       // enq is the upload.Enqueuer
//	jobs := workers.NewJobService(redisOpt) // chatcore.JobService for /v1/admin/jobs
//	defer jobs.Close()
//	ui := workers.AdminUI(redisOpt, "/admin/queues")
//	defer ui.Close()
//	mux.Handle("/admin/queues", adminOnly(ui)) // and "/admin/queues/", no StripPrefix
//	reg.MustRegister(workers.NewQueueCollector(redisOpt)) // optional: depth on chat nodes too
//
// parley worker (and, in-process, parley dev):
//
//	cfg := workers.Config{
//		Store: store, Objects: objects, Bus: bus, Redis: redisOpt,
//		Concurrency: flagConcurrency,              // --concurrency
//		Queues:      weights,                      // --queues voice=6,image=4,file=2,video=1
//		MaxRetry:    cfg.MaxRetry,                 // same value as the Enqueuer's
//		StuckAfter:  cfg.StuckAfter,
//		Logger: logger, Registerer: reg,           // /metrics
//	}
//	srv, err := workers.NewServer(cfg)
//	if err := srv.Start(); err != nil { ... }   // returns at once
//	rec := workers.NewReconciler(cfg)           // in every worker: enqueues collapse by task id
//	go rec.Run(ctx)                             // returns when ctx is done
//	<-ctx.Done()                                // SIGTERM/SIGINT
//	srv.Shutdown()                              // finishes or hands back in-flight tasks
//	rec.Close()                                 // after Run returned: its Redis connections
//
// parley jobs list|requeue: workers.NewJobService(redisOpt) and its
// ListJobs / RequeueJob / RequeueAll. redisOpt comes from
// asynq.ParseRedisURI(url), or asynq.RedisClientOpt{Addr: mini.Addr()} for
// the embedded miniredis of parley dev (which needs mini.FastForward on a
// ~100 ms ticker for asynq's expiries).
package workers
