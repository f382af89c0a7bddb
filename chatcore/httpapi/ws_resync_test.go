package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// After the node's bus resubscribes, the hub closes every socket: 1013 with
// the reason "resync" (docs/protocol.md), not the slow consumer's "too slow".
func TestResyncClosesWithItsOwnReason(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.register("alice")
	c := e.dial(alice.access)
	if n := e.svc.Hub.KickAll(); n != 1 {
		t.Fatalf("KickAll: got %d, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.read(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusTryAgainLater || ce.Reason != "resync" {
			t.Fatalf("socket ended with %v, want close 1013 \"resync\"", err)
		}
		break
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "parley_ws_slow_consumers_total" && mf.GetMetric()[0].GetCounter().GetValue() != 0 {
			t.Errorf("a resync counted as a slow consumer: %v", mf)
		}
	}
}
