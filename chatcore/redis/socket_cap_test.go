package redis_test

import (
	"slices"
	"testing"
	"time"
)

// TestCapSockets: the cap counts live sockets of a user on every node and
// names the oldest beyond it; closed and expired sockets do not count.
func TestCapSockets(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			a := newPresence(t, be.open(t), prefix, time.Minute)
			b := newPresence(t, be.open(t), prefix, time.Minute)
			steps := []struct {
				node  string
				conn  string
				close bool
				want  []string
			}{
				{node: "a", conn: "c1", want: nil},
				{node: "b", conn: "c2", want: nil},
				{node: "a", conn: "c3", want: []string{"c1"}}, // the oldest, on another node than the newest
				{node: "b", conn: "c2", close: true},
				{node: "b", conn: "c4", want: nil}, // c2 is gone: c3, c4
				{node: "a", conn: "c5", want: []string{"c3"}},
			}
			for _, st := range steps {
				p := a
				if st.node == "b" {
					p = b
				}
				if st.close {
					if _, err := p.Disconnect(ctx, "u1", st.conn, time.Now()); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if _, err := p.Connect(ctx, "u1", st.conn); err != nil {
					t.Fatal(err)
				}
				got, err := p.CapSockets(ctx, "u1", st.conn, 2)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, st.want) {
					t.Fatalf("after %s: got %v, want %v to close", st.conn, got, st.want)
				}
				// Connect times are milliseconds: keep them apart.
				time.Sleep(3 * time.Millisecond)
			}
			// Another user is not affected.
			if _, err := a.Connect(ctx, "u2", "x1"); err != nil {
				t.Fatal(err)
			}
			if got, err := a.CapSockets(ctx, "u2", "x1", 2); err != nil || len(got) != 0 {
				t.Fatalf("u2: got %v %v", got, err)
			}
			if _, err := a.CapSockets(ctx, "u2", "x1", 0); err == nil {
				t.Fatal("cap 0 accepted")
			}
		})
	}
}
