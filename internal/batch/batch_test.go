package batch

import (
	"slices"
	"sync"
	"testing"
)

// TestQueueSharesRuns: requests added while a batch runs are handed over
// together in the next one, in order, never more than MaxBatch at once,
// never more than Flushers batches at a time, each request exactly once.
func TestQueueSharesRuns(t *testing.T) {
	release := make(chan struct{})
	var (
		mu      sync.Mutex
		batches [][]int
		running int
		most    int
	)
	var wg sync.WaitGroup
	q := &Queue[int]{MaxBatch: 4, Flushers: 1}
	q.Run = func(b []int) {
		mu.Lock()
		running++
		most = max(most, running)
		batches = append(batches, slices.Clone(b))
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release // the first batch is in flight while the rest queue
		}
		mu.Lock()
		running--
		mu.Unlock()
		for range b {
			wg.Done()
		}
	}
	wg.Add(10)
	q.Add(0)
	for {
		mu.Lock()
		started := len(batches) == 1
		mu.Unlock()
		if started {
			break
		}
	}
	for i := 1; i < 10; i++ {
		q.Add(i)
	}
	close(release)
	wg.Wait()
	want := [][]int{{0}, {1, 2, 3, 4}, {5, 6, 7, 8}, {9}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches: got %v, want %v", batches, want)
	}
	if most != 1 {
		t.Errorf("batches running at once: got %d, want 1 (Flushers)", most)
	}
}
