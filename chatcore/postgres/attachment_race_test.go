package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/storetest"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestSendWaitsForAttachmentStatus: a worker marks an attachment ready
// while a send links it. Either the send carries "ready", or the worker's
// notify (which reads the links after its update commits) sees the message.
// Before the share lock the send read the old "processing" row without
// waiting and committed its link unseen: the recipient's live copy stayed
// "processing" and no attachment frame ever reached it.
func TestSendWaitsForAttachmentStatus(t *testing.T) {
	dsn := testenv.Postgres(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	a, b := storetest.MustUser(t, s, "ada"), storetest.MustUser(t, s, "bo")
	c := storetest.MustDirect(t, s, a, b)
	att := storetest.MustAttachment(t, s, a, chatcore.StatusProcessing, 100, time.Now())

	worker, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer worker.Close(context.Background())
	tx, err := worker.Begin(t.Context())
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `UPDATE attachments SET status = 'ready' WHERE id = $1`, att.ID); err != nil {
		t.Fatalf("worker update: %v", err)
	}

	type result struct {
		m   *chatcore.Message
		err error
	}
	sent := make(chan result, 1)
	go func() {
		m, _, err := s.AppendMessage(context.Background(), &chatcore.Message{
			ID: uuid.NewString(), ConversationID: c.ID, SenderID: a.ID, ClientID: uuid.NewString(),
			Body: "look", CreatedAt: time.Now(),
		}, []string{att.ID})
		sent <- result{m, err}
	}()

	// The send must wait for the worker's row lock, not finish around it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case r := <-sent:
			t.Fatalf("the send finished (err %v) while the worker's status change was uncommitted: it read a row that is about to change", r.err)
		default:
		}
		var waiting bool
		// This database is the test's own: the only other backend in it is
		// the store's, running the send.
		if err := worker.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the send neither finished nor waited on the attachment row in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("worker commit: %v", err)
	}
	r := <-sent
	if r.err != nil {
		t.Fatalf("send: %v", r.err)
	}
	if got := r.m.Attachments[0].Status; got != chatcore.StatusReady {
		t.Errorf("the sent message carries status %q, want %q (the worker committed first)", got, chatcore.StatusReady)
	}
}
