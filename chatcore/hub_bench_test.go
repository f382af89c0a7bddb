package chatcore

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// benchClient accepts every frame, like a socket whose writer keeps up.
type benchClient struct {
	user string
	n    atomic.Int64
}

func (c *benchClient) UserID() string        { return c.user }
func (c *benchClient) Enqueue(b []byte) bool { c.n.Add(1); return true }
func (c *benchClient) Kick()                 {}

// BenchmarkHubDispatch measures local fan-out: 1,000 connected clients in
// conversations of 10 or 100 members, one event per message to a whole
// conversation. It reports messages (events) and delivered frames per
// second and nanoseconds per delivered frame.
//
//	go test -run '^$' -bench BenchmarkHubDispatch -benchtime 2s ./chatcore/
func BenchmarkHubDispatch(b *testing.B) {
	const clients = 1000
	for _, group := range []int{10, 100} {
		b.Run(fmt.Sprintf("clients=%d/group=%d", clients, group), func(b *testing.B) {
			h := NewHub(nil, Hooks{FanoutLatency: func(time.Duration) {}}, nil)
			for i := range clients {
				h.Register(&benchClient{user: fmt.Sprintf("user-%04d", i)})
			}
			events := make([]Event, clients/group)
			for g := range events {
				r := make([]string, group)
				for j := range r {
					r[j] = fmt.Sprintf("user-%04d", g*group+j)
				}
				events[g] = Event{Recipients: r, Frame: []byte(`{"type":"message","message":{}}`), PublishedAt: 1}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h.Dispatch(events[i%len(events)])
			}
			b.StopTimer()
			frames := float64(b.N) * float64(group)
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "msgs/s")
			b.ReportMetric(frames/secs, "frames/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/frames, "ns/frame")
		})
	}
}
