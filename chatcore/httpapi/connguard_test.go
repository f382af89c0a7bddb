package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveGuarded serves h behind a ConnGuard on 127.0.0.1 and returns its
// address and the guard.
func serveGuarded(t *testing.T, lim ConnLimits, h http.Handler) (string, *ConnGuard) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := NewConnGuard(lim)
	srv := &http.Server{Handler: g.Handler(h), ReadHeaderTimeout: time.Minute}
	g.Configure(srv)
	go srv.Serve(g.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), g
}

// closedByServer reports whether the server closed c within d.
func closedByServer(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := bufio.NewReader(c).ReadByte()
	return err == io.EOF
}

func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnGuardEvictsOldestUnfinished: past the bound, the oldest
// connection without a finished request is closed, and a client that
// finishes its request is served.
func TestConnGuardEvictsOldestUnfinished(t *testing.T) {
	addr, g := serveGuarded(t, ConnLimits{MaxUnfinished: 3}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	var slow []net.Conn
	for i := 0; i < 3; i++ {
		c := dialT(t, addr)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
		slow = append(slow, c)
	}
	waitFor(t, "guard stats", func() bool { return g.Stats().Unfinished == 3 })
	if closedByServer(slow[0], 50*time.Millisecond) {
		t.Fatal("closed before the bound was reached")
	}
	// A normal client: its connection makes room, its request is served.
	resp, err := http.Post("http://"+addr+"/", "application/json", nil)
	if err != nil {
		t.Fatalf("normal client under the flood: %v", err)
	}
	resp.Body.Close()
	if !closedByServer(slow[0], 2*time.Second) {
		t.Error("the oldest unfinished connection is still open")
	}
	if closedByServer(slow[2], 50*time.Millisecond) {
		t.Error("the newest unfinished connection was closed")
	}
	if st := g.Stats(); st.Evicted < 1 {
		t.Errorf("stats: got %+v, want an eviction", st)
	}
}

// TestConnGuardPerIP: past MaxPerIP open connections from one address, new
// ones are closed at once; closing one makes room.
func TestConnGuardPerIP(t *testing.T) {
	addr, g := serveGuarded(t, ConnLimits{MaxPerIP: 2, MaxUnfinished: -1}, http.NotFoundHandler())
	a, b := dialT(t, addr), dialT(t, addr)
	waitFor(t, "guard stats", func() bool { return g.Stats().Unfinished == 2 })
	c := dialT(t, addr)
	if !closedByServer(c, 2*time.Second) {
		t.Fatal("third connection from one address not closed")
	}
	if closedByServer(b, 50*time.Millisecond) {
		t.Fatal("an admitted connection was closed")
	}
	a.Close()
	waitFor(t, "guard stats", func() bool { return g.Stats().Unfinished == 1 })
	d := dialT(t, addr)
	fmt.Fprintf(d, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	d.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(d), nil)
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("after one closed: got %v %v, want a 404 reply", resp, err)
	}
	if st := g.Stats(); st.Refused != 1 {
		t.Errorf("refused = %d, want 1", st.Refused)
	}
}
