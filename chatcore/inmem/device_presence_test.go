package inmem_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
)

func TestLiveDevices(t *testing.T) {
	ctx := context.Background()
	p := inmem.NewPresence()
	_, _ = p.Connect(ctx, "u1", chatcore.DeviceConnID("c1", "phone"))
	_, _ = p.Connect(ctx, "u1", "c2")
	_, _ = p.Connect(ctx, "u2", chatcore.DeviceConnID("c3", "tab"))
	live, _ := p.LiveDevices(ctx, []string{"u1"})
	if got, want := fmt.Sprint(live), fmt.Sprint(map[string]bool{"phone": true}); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	_, _ = p.Disconnect(ctx, "u1", chatcore.DeviceConnID("c1", "phone"), time.Now())
	if live, _ := p.LiveDevices(ctx, []string{"u1", "u2"}); fmt.Sprint(live) != fmt.Sprint(map[string]bool{"tab": true}) {
		t.Errorf("after close: got %v", live)
	}
}
