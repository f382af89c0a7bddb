package inmem_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
)

func TestBus(t *testing.T) {
	b := inmem.NewBus()
	ctx, cancel := context.WithCancel(context.Background())
	got1, got2 := make(chan chatcore.Event, 10), make(chan chatcore.Event, 10)
	if err := b.Subscribe(ctx, func(ev chatcore.Event) { got1 <- ev }); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(ctx, func(ev chatcore.Event) { got2 <- ev }); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := b.Publish(ctx, chatcore.Event{Recipients: []string{"u"}, PublishedAt: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range []chan chatcore.Event{got1, got2} {
		for i := range 3 {
			select {
			case ev := <-ch:
				if ev.PublishedAt != int64(i) {
					t.Errorf("got event %d, want %d (publish order)", ev.PublishedAt, i)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("event not delivered")
			}
		}
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for b.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d subscribers after cancel, want 0", b.Subscribers())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPresence(t *testing.T) {
	ctx := context.Background()
	p := inmem.NewPresence()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name     string
		do       func() (bool, error)
		wantBool bool
		online   bool
	}{
		{"first socket", func() (bool, error) { return p.Connect(ctx, "u", "c1") }, true, true},
		{"second socket", func() (bool, error) { return p.Connect(ctx, "u", "c2") }, false, true},
		{"close one", func() (bool, error) { return p.Disconnect(ctx, "u", "c1", now) }, false, true},
		{"close unknown", func() (bool, error) { return p.Disconnect(ctx, "u", "nope", now) }, false, true},
		{"close last", func() (bool, error) { return p.Disconnect(ctx, "u", "c2", now) }, true, false},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatal(err)
		}
		if got != st.wantBool {
			t.Errorf("%s: got %v, want %v", st.name, got, st.wantBool)
		}
		on, _ := p.Online(ctx, []string{"u", "other"})
		if on["u"] != st.online || on["other"] {
			t.Errorf("%s: got online %v, want u=%v", st.name, on, st.online)
		}
	}
	s, _ := p.Status(ctx, "u")
	if s.Status != chatcore.PresenceOffline || !s.LastSeen.Equal(now) {
		t.Errorf("got %+v, want offline at %v", s, now)
	}
}
