package httpapi

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleConnection measures the server memory (Go heap in use plus
// goroutine stacks) that one idle, authenticated WebSocket holds. The
// clients are raw TCP connections that did the handshake by hand and hold
// no goroutine or buffer, so nearly all of the growth is the server's.
//
//	go test -run '^$' -bench IdleConnection -benchtime 1x ./chatcore/httpapi/
//
// Target (issue 2): ≤ 30 KiB per idle connection.
func BenchmarkIdleConnection(b *testing.B) {
	const users, perUser = 10, 100
	e := newEnv(b, envOptions{})
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = e.register(fmt.Sprintf("idle%02d", i)).access
	}
	b.ResetTimer()
	for range b.N {
		before, rssBefore := memInUse(), rss(b)
		conns := make([]net.Conn, 0, users*perUser)
		for i := range users * perUser {
			conns = append(conns, rawWebSocket(b, e.ts.Listener.Addr().String(), tokens[i%users]))
		}
		deadline := time.Now().Add(30 * time.Second)
		for e.svc.Hub.LocalConnections() < len(conns) {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d sockets registered", e.svc.Hub.LocalConnections(), len(conns))
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // hello written, writers parked
		after, rssAfter := memInUse(), rss(b)
		b.ReportMetric(float64(rssAfter-rssBefore)/float64(len(conns)), "RSS-B/conn")
		if path := os.Getenv("PARLEY_IDLE_HEAP_PROFILE"); path != "" {
			writeHeapProfile(b, path)
		}
		b.ReportMetric(float64(after-before)/float64(len(conns)), "B/conn")
		for _, c := range conns {
			c.Close()
		}
		for e.svc.Hub.LocalConnections() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func writeHeapProfile(tb testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
	g, err := os.Create(path + ".goroutines")
	if err != nil {
		tb.Fatal(err)
	}
	defer g.Close()
	pprof.Lookup("goroutine").WriteTo(g, 1)
}

// rss is the process's resident set size (Linux), after returning freed
// memory to the OS.
func rss(tb testing.TB) int64 {
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize())
}

// memInUse is heap in use plus goroutine stacks after a full collection.
func memInUse() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// rawWebSocket opens a WebSocket by hand and leaves it idle: no reader, no
// goroutine, no client-side buffers beyond the socket itself.
func rawWebSocket(tb testing.TB, addr, token string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	fmt.Fprintf(c, "GET /v1/ws HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, token)
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		tb.Fatalf("handshake: status %d", resp.StatusCode)
	}
	return c
}
