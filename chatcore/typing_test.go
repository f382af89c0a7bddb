package chatcore

import (
	"slices"
	"sync"
	"testing"
	"time"
)

type expiry struct {
	conv, user string
	recipients []string
}

func newRecordingTracker(ttl time.Duration) (*typingTracker, chan expiry) {
	ch := make(chan expiry, 16)
	return newTypingTracker(ttl, func(c, u string, r []string) { ch <- expiry{c, u, r} }), ch
}

func TestTypingTrackerExpires(t *testing.T) {
	tr, ch := newRecordingTracker(20 * time.Millisecond)
	tr.start("c1", "alice", []string{"bob"})
	select {
	case e := <-ch:
		if e.conv != "c1" || e.user != "alice" || !slices.Equal(e.recipients, []string{"bob"}) {
			t.Errorf("got expiry %+v, want c1/alice to [bob]", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("typing never expired")
	}
	if got := tr.active(); got != 0 {
		t.Errorf("got %d active after expiry, want 0", got)
	}
}

func TestTypingTrackerRenewAndStop(t *testing.T) {
	const ttl = 60 * time.Millisecond
	tr, ch := newRecordingTracker(ttl)
	start := time.Now()
	tr.start("c1", "alice", nil)
	time.Sleep(ttl / 2)
	tr.start("c1", "alice", nil) // renewed: expires ttl after this
	e := <-ch
	if el := time.Since(start); el < ttl+ttl/2-5*time.Millisecond {
		t.Errorf("expired after %v, want ≥ %v (renewal ignored)", el, ttl+ttl/2)
	}
	if e.user != "alice" {
		t.Errorf("got %+v", e)
	}
	select {
	case e := <-ch:
		t.Fatalf("got a second expiry %+v, want one per renewed period", e)
	case <-time.After(2 * ttl):
	}

	tr.start("c1", "alice", nil)
	if !tr.stop("c1", "alice") {
		t.Error("stop of a running period returned false")
	}
	if tr.stop("c1", "alice") {
		t.Error("second stop returned true")
	}
	select {
	case e := <-ch:
		t.Fatalf("got expiry %+v after stop", e)
	case <-time.After(2 * ttl):
	}
}

func TestTypingTrackerStopUserAndClose(t *testing.T) {
	tr, ch := newRecordingTracker(time.Hour)
	tr.start("c1", "alice", []string{"bob"})
	tr.start("c2", "alice", []string{"carol"})
	tr.start("c1", "bob", []string{"alice"})
	got := tr.stopUser("alice")
	var convs []string
	for _, e := range got {
		convs = append(convs, e.convID)
	}
	slices.Sort(convs)
	if want := []string{"c1", "c2"}; !slices.Equal(convs, want) {
		t.Errorf("got stopped %q, want %q", convs, want)
	}
	if got, want := tr.active(), 1; got != want {
		t.Errorf("got %d active, want %d", got, want)
	}
	tr.close()
	tr.start("c3", "dave", nil)
	if got := tr.active(); got != 0 {
		t.Errorf("got %d active after close, want 0", got)
	}
	select {
	case e := <-ch:
		t.Fatalf("got expiry %+v", e)
	default:
	}
}

func TestTypingTrackerRace(t *testing.T) {
	tr, ch := newRecordingTracker(time.Millisecond)
	go func() {
		for range ch {
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				tr.start("c", "u", nil)
				tr.stop("c", "u")
				tr.start("c", "u", nil)
			}
		}()
	}
	wg.Wait()
	tr.close()
}
