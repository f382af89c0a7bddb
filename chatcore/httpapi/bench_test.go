package httpapi

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkWebSocketSendDeliver measures one message through the whole
// edge: a send frame on one socket, stored in SQLite, published on the
// Redis bus, and read as a message frame on the recipient's socket. It
// reports the p50 and p99 of send→deliver.
//
//	go test -run '^$' -bench WebSocketSendDeliver ./chatcore/httpapi/
func BenchmarkWebSocketSendDeliver(b *testing.B) {
	e := newEnv(b, envOptions{})
	alice, bob := e.register("benchalice"), e.register("benchbob")
	conv := e.direct(alice, bob)
	a, c := e.dial(alice.access), e.dial(bob.access)
	go func() { // the sender's acks and own message frames
		for {
			if _, err := a.read(time.Minute); err != nil {
				return
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		a.sendJSON(map[string]any{"type": "send", "client_id": fmt.Sprint("m", i), "conversation_id": conv.ID, "body": "benchmark message"})
		c.await("message", nil)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkConnect measures opening a socket (auth, presence, hub
// registration, hello) and closing it again.
func BenchmarkConnect(b *testing.B) {
	e := newEnv(b, envOptions{})
	hal := e.register("benchhal")
	b.ResetTimer()
	for range b.N {
		c := e.dial(hal.access)
		c.conn.CloseNow()
	}
}
