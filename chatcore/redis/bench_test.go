package redis_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/redis"
)

// BenchmarkBusPublishReceive publishes b.N typical message events (10
// recipients, a ~400-byte frame) from one node and waits until a second
// node has received them all. It reports events/s end to end and the
// publish→receive latency percentiles measured from Event.PublishedAt.
func BenchmarkBusPublishReceive(b *testing.B) {
	for _, be := range []*backend{realRedis(b), miniRedis(b)} {
		b.Run(be.name, func(b *testing.B) {
			ctx := testContext(b)
			prefix := uniquePrefix(b)
			pub := newBus(b, be.open(b), redis.BusOptions{Prefix: prefix})
			sub := newBus(b, be.open(b), redis.BusOptions{Prefix: prefix, BufferSize: 1 << 20})
			frame := chatcore.EncodeFrame(chatcore.MessageFrame{Type: chatcore.FrameMessage, Message: &chatcore.Message{
				ID: "01JD0000000000000000000000", ConversationID: "01JD0000000000000000000001", Seq: 12345,
				ClientID: "c-0000000001", SenderID: "01JD0000000000000000000002",
				Body: "a typical short chat message of a few words", Attachments: []*chatcore.Attachment{},
				CreatedAt: time.Now().UTC(),
			}})
			recipients := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}

			var received atomic.Int64
			done := make(chan struct{})
			lat := make([]time.Duration, 0, 1<<16)
			var want int64
			if err := sub.Subscribe(ctx, func(ev chatcore.Event) {
				// Only the dispatcher goroutine touches lat.
				lat = append(lat, time.Duration(time.Now().UnixNano()-ev.PublishedAt))
				if received.Add(1) == atomic.LoadInt64(&want) {
					close(done)
				}
			}); err != nil {
				b.Fatal(err)
			}
			atomic.StoreInt64(&want, int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := pub.Publish(ctx, chatcore.Event{Recipients: recipients, Frame: frame}); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				b.Fatalf("received %d of %d", received.Load(), b.N)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// roundTrips counts the round trips a client makes (a pipeline is one).
type roundTrips struct{ n *atomic.Int64 }

func (h roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkBusPublishParallel measures publishes from many goroutines at
// once (16 per core), as concurrent sends make them: events/s and Redis
// round trips per event (below 1 when publishes share a pipeline).
//
//	go test -run '^$' -bench BenchmarkBusPublishParallel -benchmem ./chatcore/redis/
func BenchmarkBusPublishParallel(b *testing.B) {
	be := realRedis(b)
	ctx := testContext(b)
	client := be.open(b)
	var trips atomic.Int64
	client.AddHook(roundTrips{&trips})
	pub := newBus(b, client, redis.BusOptions{Prefix: uniquePrefix(b)})
	frame := chatcore.EncodeFrame(chatcore.MessageFrame{Type: chatcore.FrameMessage, Message: &chatcore.Message{
		ID: "01JD0000000000000000000000", ConversationID: "01JD0000000000000000000001", Seq: 12345,
		Body: "a typical short chat message of a few words", Attachments: []*chatcore.Attachment{},
	}})
	recipients := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := pub.Publish(ctx, chatcore.Event{Recipients: recipients, Frame: frame}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(trips.Load())/float64(b.N), "trips/event")
}
