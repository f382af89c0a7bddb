package storetest

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

// BenchmarkAppendMessage measures AppendMessage without attachments, the
// path every chat message takes: "sequential" into one conversation, and
// "parallel" from b.RunParallel goroutines each sending into a conversation
// of its own (as many senders in different chats do). Both report msg/s.
// parallelism times GOMAXPROCS is the number of concurrent senders in
// the parallel benchmark.
const parallelism = 16

// PARLEY_GROUP_COMMIT=false in the environment measures the store with
// group commit off (one transaction per message), for comparison.
func BenchmarkAppendMessage(b *testing.B, open func(tb testing.TB) chatcore.Store) {
	if os.Getenv("PARLEY_GROUP_COMMIT") == "false" {
		inner := open
		open = func(tb testing.TB) chatcore.Store {
			s := inner(tb)
			if g, ok := s.(GroupCommitStore); ok {
				g.SetGroupCommit(sqlstore.GroupCommit{Off: true})
			}
			return s
		}
	}
	b.Run("sequential", func(b *testing.B) {
		s := open(b)
		a, peer := MustUser(b, s, "bench-a"), MustUser(b, s, "bench-b")
		c := MustDirect(b, s, a, peer)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			m := newMessage(c.ID, a.ID, uuid.NewString(), "hello, how are you doing today?", t0)
			if _, _, err := s.AppendMessage(b.Context(), m, nil); err != nil {
				b.Fatalf("append %d: %v", i, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	})
	b.Run("parallel", func(b *testing.B) {
		s := open(b)
		// Enough conversations that every goroutine has its own.
		convs := max(64, parallelism*runtime.GOMAXPROCS(0))
		users := MustUsers(b, s, "bench", convs+1)
		ids := make([]string, convs)
		for i := range ids {
			ids[i] = MustDirect(b, s, users[0], users[i+1]).ID
		}
		var next atomic.Int64
		// Many senders at once, as on a busy chat node: concurrent commits
		// share the database's WAL flushes (group commit).
		b.SetParallelism(parallelism)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := int(next.Add(1)-1) % convs
			conv, sender := ids[k], users[k+1].ID
			for pb.Next() {
				m := newMessage(conv, sender, uuid.NewString(), "hello, how are you doing today?", t0)
				if _, _, err := s.AppendMessage(b.Context(), m, nil); err != nil {
					b.Error(fmt.Errorf("append: %w", err))
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	})
}
