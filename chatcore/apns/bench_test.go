package apns_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/apns"
	"github.com/parley-chat/parley/chatcore/apns/apnstest"
)

// BenchmarkSend measures pushes per second from one sender to the local
// APNs server over one HTTP/2 connection (TLS, JWT checked per request),
// with 8×GOMAXPROCS or 64×GOMAXPROCS pushes in flight. docs/benchmarks.md records the numbers.
func BenchmarkSend(b *testing.B) {
	for _, inflight := range []int{8, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			key, p8 := apnstest.NewKey(b)
			srv := apnstest.NewServer(b, &key.PublicKey, keyID, teamID)
			s, err := apns.New(apns.Config{KeyPEM: p8, KeyID: keyID, TeamID: teamID, Host: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				b.Fatal(err)
			}
			p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "0193a5c4-7d1e-7c3a-9f00-5b6c7d8e9f01", Seq: 42,
				MessageID: "0193a5c4-7d1e-7c3a-9f00-5b6c7d8e9f02", Title: "Alice · Team", Body: "see you at six", Badge: 3}
			d := device("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90")
			var failed atomic.Int64
			b.SetParallelism(inflight)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Send(context.Background(), d, p); err != nil {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d pushes failed", n)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
		})
	}
}
