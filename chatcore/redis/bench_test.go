package redis_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

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
