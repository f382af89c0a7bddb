package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Group commit: AppendMessage calls for messages without attachments, from
// any connection and any conversation, queue here; one flusher goroutine
// at a time takes everything queued (up to GroupCommit.MaxBatch) and
// stores it in one transaction, and every caller in the batch returns
// after that commit. While a batch is being committed the next one
// gathers, so under load a commit (one WAL flush on Postgres) covers many
// messages, and at low load a lone message waits for nobody.
//
// With several flushers the queue is split by conversation (a hash of its
// id picks the shard) and each shard has at most one flusher: batches
// that commit at once never touch the same conversation row, so none
// waits for another's row lock (and its commit) to number its messages.
//
// A batch that fails stores nothing (one transaction) and acks nothing:
// each of its messages is then tried again alone, in its own transaction,
// so that one message the database refuses fails only its own sender;
// when the database itself is failing, every sender gets that error.

// GroupCommit tunes group commit. The zero value is the default.
type GroupCommit struct {
	// Off stores every message in its own transaction (as before group
	// commit); for measurements.
	Off bool
	// MaxBatch is the most messages one transaction stores. If zero, 256.
	MaxBatch int
	// Linger is how long the flusher waits after the first queued message
	// for more before it commits. If zero, it does not wait: a batch is
	// whatever arrived while the previous one was committing.
	Linger time.Duration
	// Flushers is how many batches may commit at once. If zero, the
	// dialect's AppendFlushers, or 1. One flusher funnels every insert
	// through one database connection (one backend, one core); a few let
	// the database use its cores while still sharing commits.
	Flushers int
}

// batchTimeout bounds one batch transaction, whatever its senders' contexts.
const batchTimeout = 30 * time.Second

// appendReq is one queued message and where its result goes.
type appendReq struct {
	ctx  context.Context
	m    *chatcore.Message
	done chan appendResult // buffered: the flusher never blocks on it
}

type appendResult struct {
	msg     *chatcore.Message
	created bool
	err     error
}

// groupCommitter is a Store's queue of messages waiting for a batch.
type groupCommitter struct {
	cfg    GroupCommit
	mu     sync.Mutex
	shards []gcShard // cfg.Flushers of them
	seed   maphash.Seed
	// batches and messages count committed batches and what they held.
	batches, messages atomic.Int64
}

// gcShard is the queue of the conversations that hash to it.
type gcShard struct {
	pending []*appendReq
	running bool // its flusher is running
}

// shardOf returns the shard of a conversation (a hash of its id).
func (g *groupCommitter) shardOf(convID string) int {
	if len(g.shards) == 1 {
		return 0
	}
	return int(maphash.String(g.seed, convID) % uint64(len(g.shards)))
}

// SetGroupCommit replaces the group commit settings; call it before the
// store is used.
func (s *Store) SetGroupCommit(c GroupCommit) {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.Flushers <= 0 {
		c.Flushers = max(1, s.d.AppendFlushers)
	}
	s.gc.shards = make([]gcShard, c.Flushers)
	s.gc.seed = maphash.MakeSeed()
	s.gc.cfg = c
}

// GroupCommitStats returns how many batch transactions committed and how
// many messages they stored, since the store opened.
func (s *Store) GroupCommitStats() (batches, messages int64) {
	return s.gc.batches.Load(), s.gc.messages.Load()
}

// appendGrouped queues m for the next batch and waits for its result.
func (s *Store) appendGrouped(ctx context.Context, m *chatcore.Message) (*chatcore.Message, bool, error) {
	r := &appendReq{ctx: ctx, m: m, done: make(chan appendResult, 1)}
	i := s.gc.shardOf(m.ConversationID)
	s.gc.mu.Lock()
	sh := &s.gc.shards[i]
	sh.pending = append(sh.pending, r)
	start := !sh.running
	sh.running = true
	s.gc.mu.Unlock()
	if start {
		go s.flushLoop(i)
	}
	select {
	case res := <-r.done:
		return res.msg, res.created, res.err
	case <-ctx.Done():
		// The batch may still commit it; a retry with the same client_id
		// finds it then.
		return nil, false, ctx.Err()
	}
}

// flushLoop commits the batches of shard i until nothing is queued there.
func (s *Store) flushLoop(i int) {
	if s.gc.cfg.Linger > 0 {
		time.Sleep(s.gc.cfg.Linger)
	}
	for {
		batch := s.takeBatch(i)
		if batch == nil {
			return
		}
		s.flush(batch)
	}
}

// takeBatch removes up to MaxBatch requests queued in shard i, leaving for
// the next batch any that repeat a (conversation, sender, client_id)
// already in this one: that retry then finds the first stored. It returns
// nil, and ends the flusher's turn, when nothing is queued.
func (s *Store) takeBatch(i int) []*appendReq {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	sh := &s.gc.shards[i]
	if len(sh.pending) == 0 {
		sh.running = false
		return nil
	}
	type key struct{ conv, sender, client string }
	var seen map[key]bool
	batch := make([]*appendReq, 0, min(len(sh.pending), s.gc.cfg.MaxBatch))
	rest := sh.pending[:0]
	for _, r := range sh.pending {
		if r.ctx.Err() != nil {
			r.done <- appendResult{err: r.ctx.Err()}
			continue
		}
		if len(batch) == s.gc.cfg.MaxBatch {
			rest = append(rest, r)
			continue
		}
		if r.m.ClientID != "" {
			k := key{r.m.ConversationID, r.m.SenderID, r.m.ClientID}
			if seen[k] {
				rest = append(rest, r)
				continue
			}
			if seen == nil {
				seen = make(map[key]bool)
			}
			seen[k] = true
		}
		batch = append(batch, r)
	}
	clear(sh.pending[len(rest):])
	sh.pending = rest
	return batch
}

// flush stores batch in one transaction and answers each request; when the
// transaction fails it answers none from it and stores each alone.
func (s *Store) flush(batch []*appendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	msgs := make([]*chatcore.Message, len(batch))
	for i, r := range batch {
		msgs[i] = r.m
	}
	stored, err := s.appendBatch(ctx, msgs)
	if err != nil {
		for _, r := range batch {
			msg, created, err := s.appendOne(r.ctx, r.m, nil)
			r.done <- appendResult{msg, created, err}
		}
		return
	}
	s.gc.batches.Add(1)
	s.gc.messages.Add(int64(len(batch)))
	for i, r := range batch {
		if stored[i] {
			r.m.Attachments = []*chatcore.Attachment{}
			r.done <- appendResult{msg: r.m, created: true}
			continue
		}
		// Not stored: its client_id was (the original comes back), its
		// conversation is gone or its sender is not a member.
		msg, err := s.notAppended(r.ctx, r.m)
		r.done <- appendResult{msg: msg, err: err}
	}
}

// notAppended explains a message an append did not store: it returns the
// original with the same client_id, or the error for a missing
// conversation or a taken message id.
func (s *Store) notAppended(ctx context.Context, m *chatcore.Message) (*chatcore.Message, error) {
	if m.ClientID == "" {
		return nil, s.appendFailed(ctx, m)
	}
	orig, err := s.messageByClientID(ctx, s.read, m.ConversationID, m.SenderID, m.ClientID)
	if err != nil {
		if chatcore.ErrorCode(err) == chatcore.ENotFound {
			return nil, s.appendFailed(ctx, m)
		}
		return nil, fmt.Errorf("append message: %w", err)
	}
	return orig, nil
}

// appendBatch stores msgs (none with attachments, no two with the same
// conversation, sender and client_id) in one transaction, assigning each
// stored one its seq in place, in order within its conversation. It
// reports which were stored; those not stored had their client_id used
// before, no conversation, or a sender who is not a member. An error means
// none was stored.
func (s *Store) appendBatch(ctx context.Context, msgs []*chatcore.Message) ([]bool, error) {
	stored := make([]bool, len(msgs))
	if s.d.AppendBatch != nil {
		seqs, err := s.d.AppendBatch(ctx, s.write, msgs)
		if err != nil {
			return nil, err
		}
		for i, seq := range seqs {
			if seq > 0 {
				msgs[i].Seq, stored[i] = seq, true
			}
		}
		return stored, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, m := range msgs {
			existing, err := s.appendTx(ctx, tx, m, nil)
			switch {
			case chatcore.ErrorCode(err) == chatcore.ENotFound, chatcore.ErrorCode(err) == chatcore.EForbidden:
				// No conversation, or the sender is not a member:
				// nothing was written for m (notAppended says which).
			case err != nil:
				return err
			case existing == nil:
				stored[i] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// errBatchShape is returned by an AppendBatch whose reply does not match
// what was sent.
var errBatchShape = errors.New("sqlstore: batch reply does not match the batch")

// BatchSeqs maps the (id, seq, change_id) rows an AppendBatch statement
// returned to the order of msgs: seq 0 for a message it did not store. It
// sets the ChangeID (sync feed, migration 0008) of each stored message.
func BatchSeqs(msgs []*chatcore.Message, rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	index := make(map[string]int, len(msgs))
	for i, m := range msgs {
		index[m.ID] = i
	}
	seqs := make([]int64, len(msgs))
	for rows.Next() {
		var id string
		var seq, change int64
		if err := rows.Scan(&id, &seq, &change); err != nil {
			return nil, err
		}
		i, ok := index[id]
		if !ok || seq <= 0 {
			return nil, errBatchShape
		}
		seqs[i], msgs[i].ChangeID = seq, change
	}
	return seqs, rows.Err()
}
