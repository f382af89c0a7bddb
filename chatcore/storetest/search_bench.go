package storetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// SearchBenchEnv names the environment variable that turns BenchmarkSearch
// on and sets its size in messages (e.g. 1000000); unset, it skips, so
// make test stays fast.
const SearchBenchEnv = "PARLEY_SEARCH_BENCH_MESSAGES"

// BenchmarkSearch seeds N messages (SearchBenchEnv) spread over 1,000
// conversations, the caller a member of 50 of them, with bodies of 8–16
// words drawn from a Zipf-distributed vocabulary of 5,000 words, inserted
// in bulk in one transaction; then runs two-word searches (the second word
// a prefix, as typed) over the caller's conversations and reports p50 and
// p95 latency. timeArg encodes created_at as the engine stores it; settle
// is the statement that brings the engine's statistics and index up to
// date after the bulk insert, as the engine's own maintenance soon would
// on a live database (Postgres: VACUUM ANALYZE, which also merges the GIN
// pending list; SQLite: ANALYZE).
func BenchmarkSearch(b *testing.B, open func(tb testing.TB) (chatcore.Store, Raw), timeArg func(time.Time) any, settle string) {
	n, _ := strconv.Atoi(os.Getenv(SearchBenchEnv))
	if n <= 0 {
		b.Skipf("set %s=<messages> to run", SearchBenchEnv)
	}
	const convs, mine, vocab = 1000, 50, 5000
	s, raw := open(b)
	ctx := b.Context()
	me := MustUser(b, s, "searcher")
	others := MustUsers(b, s, "peer", 20)
	convIDs := make([]string, convs)
	senders := make([][]string, convs)
	for i := range convs {
		members := []*chatcore.User{others[i%20], others[(i+1)%20]}
		if i%(convs/mine) == 0 {
			members = append(members, me)
		}
		convIDs[i] = MustGroup(b, s, fmt.Sprintf("g%d", i), members...).ID
		senders[i] = ids(members)
	}
	words := make([]string, vocab)
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "po", "da", "gu"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range words {
		var w strings.Builder
		for v := i; ; v /= len(syll) {
			w.WriteString(syll[v%len(syll)])
			if v < len(syll) {
				break
			}
		}
		words[i] = w.String() + strconv.Itoa(i%7)
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.07, 2, vocab-1)
	start := time.Now()
	if err := raw.Exec(ctx, "BEGIN"); err != nil {
		b.Fatal(err)
	}
	const batch = 400
	seq := make([]int64, convs)
	for done := 0; done < n; done += batch {
		var q strings.Builder
		q.WriteString(`INSERT INTO messages (id, conversation_id, seq, sender_id, body, created_at) VALUES `)
		args := make([]any, 0, 6*batch)
		for j := range min(batch, n-done) {
			k := (done + j) % convs
			seq[k]++
			body := make([]string, 8+rng.IntN(9))
			for w := range body {
				body[w] = words[zipf.Uint64()]
			}
			if j > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(len(args)+1, 6) + ")")
			args = append(args, uuid.NewString(), convIDs[k], seq[k], senders[k][rng.IntN(len(senders[k]))],
				strings.Join(body, " "), timeArg(t0.Add(time.Duration(done+j)*time.Second)))
		}
		if err := raw.Exec(ctx, q.String(), args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if err := raw.Exec(ctx, "COMMIT"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d messages in %v", n, time.Since(start).Round(time.Second))
	start = time.Now()
	if err := raw.Exec(ctx, settle); err != nil {
		b.Fatalf("%s: %v", settle, err)
	}
	b.Logf("%s in %v", settle, time.Since(start).Round(time.Second))
	// Queries: two words of mid frequency (ranks 20-200), the last a prefix.
	queries := make([][]string, 50)
	for i := range queries {
		w2 := words[20+rng.IntN(180)]
		queries[i] = []string{words[20+rng.IntN(180)], w2[:len(w2)-2]}
	}
	var lat []time.Duration
	found := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := queries[i%len(queries)]
		t := time.Now()
		msgs, err := s.SearchMessages(ctx, me.ID, chatcore.SearchQuery{Terms: q, Prefix: true, Limit: chatcore.DefaultSearchPage})
		lat = append(lat, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		found += len(msgs)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(found)/float64(len(lat)), "hits/op")
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(p, ", ")
}
