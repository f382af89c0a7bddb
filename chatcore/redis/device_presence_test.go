package redis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// TestLiveDevices: a socket opened with a device id makes that device live
// on every node until it closes; sockets without one make no device live.
func TestLiveDevices(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			a := newPresence(t, be.open(t), prefix, time.Minute)
			b := newPresence(t, be.open(t), prefix, time.Minute)
			for _, c := range []struct{ node, user, conn string }{
				{"a", "u1", chatcore.DeviceConnID("c1", "phone")},
				{"b", "u1", chatcore.DeviceConnID("c2", "tablet")},
				{"b", "u2", "c3"}, // a web socket: no device
				{"a", "u3", chatcore.DeviceConnID("c4", "laptop")},
			} {
				p := a
				if c.node == "b" {
					p = b
				}
				if _, err := p.Connect(ctx, c.user, c.conn); err != nil {
					t.Fatal(err)
				}
			}
			live, err := b.LiveDevices(ctx, []string{"u1", "u2", "nobody"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(live), fmt.Sprint(map[string]bool{"phone": true, "tablet": true}); got != want {
				t.Errorf("live devices: got %v, want %v", got, want)
			}
			if _, err := a.Disconnect(ctx, "u1", chatcore.DeviceConnID("c1", "phone"), time.Now()); err != nil {
				t.Fatal(err)
			}
			live, err = a.LiveDevices(ctx, []string{"u1", "u3"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(live), fmt.Sprint(map[string]bool{"laptop": true, "tablet": true}); got != want {
				t.Errorf("after the phone closed: got %v, want %v", got, want)
			}
		})
	}
}
