package chatcore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
)

// BenchmarkServiceSend measures Send end to end on this node: validate,
// membership, append on a temporary SQLite file, publish on the in-memory
// bus, hub dispatch to both members' sockets. Senders run in parallel,
// each in its own direct conversation. msgs/s counts messages stored and
// delivered to every member.
//
//	go test -run '^$' -bench BenchmarkServiceSend -benchtime 3s ./chatcore/
func BenchmarkServiceSend(b *testing.B) {
	ctx := context.Background()
	store := MustOpenStore(b)
	svc, err := chatcore.NewService(chatcore.ServiceConfig{
		Store: store, Bus: inmem.NewBus(), Presence: inmem.NewPresence(),
		Notifier: discardNotifier{}, JWTSecret: testSecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	chatcore.CheapPasswordsForTest(svc)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go svc.Run(runCtx)
	defer svc.Close()

	const pairs = 16
	var delivered atomic.Int64
	type pair struct {
		sender, conv string
	}
	ps := make([]pair, pairs)
	var wg sync.WaitGroup
	for i := range ps {
		a, err := svc.Register(ctx, fmt.Sprintf("sender%d", i), "password", "")
		if err != nil {
			b.Fatal(err)
		}
		r, err := svc.Register(ctx, fmt.Sprintf("recipient%d", i), "password", "")
		if err != nil {
			b.Fatal(err)
		}
		c, _, err := svc.CreateConversation(ctx, a.User.ID, []string{r.User.ID}, "")
		if err != nil {
			b.Fatal(err)
		}
		ps[i] = pair{a.User.ID, c.ID}
		for _, uid := range []string{a.User.ID, r.User.ID} {
			cl := newClient(uid, 1<<16)
			svc.Hub().Register(cl)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-cl.ch:
						delivered.Add(1)
					case <-runCtx.Done():
						return
					}
				}
			}()
		}
	}
	time.Sleep(50 * time.Millisecond) // let Run subscribe
	var next atomic.Int64
	var seq atomic.Int64
	b.SetParallelism(2) // 2×GOMAXPROCS senders
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		p := ps[int(next.Add(1)-1)%pairs]
		for pb.Next() {
			_, _, err := svc.Send(ctx, p.sender, chatcore.SendRequest{
				ConversationID: p.conv, ClientID: fmt.Sprint(seq.Add(1)), Body: "hello, benchmark",
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	want := int64(b.N) * 2
	for delivered.Load() < want {
		if time.Since(start) > time.Minute {
			b.Fatalf("delivered %d of %d frames", delivered.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	cancel()
	wg.Wait()
}

type discardNotifier struct{}

func (discardNotifier) Notify(context.Context, chatcore.Notification) error { return nil }
