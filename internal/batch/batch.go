// Package batch lets concurrent callers share round trips: requests queue,
// and up to Flushers goroutines each take whatever is queued (at most
// MaxBatch, in arrival order) and hand it to Run as one batch. While a
// batch is in flight the next one gathers; at low load a lone request runs
// at once, waiting for nobody. Callers learn their results through
// whatever their request carries (a channel, typically).
package batch

import "sync"

// Queue batches requests of type T. Set Run, MaxBatch and Flushers before
// the first Add; the zero value of the rest is ready to use.
type Queue[T any] struct {
	// Run handles one batch; it must answer every request in it.
	Run func(batch []T)
	// MaxBatch is the most requests one batch holds.
	MaxBatch int
	// Flushers is how many batches may run at once.
	Flushers int

	mu       sync.Mutex
	pending  []T
	flushing int // flusher goroutines running
}

// Add queues r, starting a flusher unless Flushers already run.
func (q *Queue[T]) Add(r T) {
	q.mu.Lock()
	q.pending = append(q.pending, r)
	start := q.flushing < q.Flushers
	if start {
		q.flushing++
	}
	q.mu.Unlock()
	if start {
		go q.flush()
	}
}

// flush runs batches until nothing is queued.
func (q *Queue[T]) flush() {
	for {
		b := q.take()
		if b == nil {
			return
		}
		q.Run(b)
	}
}

// take removes up to MaxBatch queued requests, in order; nil (and the
// flusher's turn ends) when none is queued.
func (q *Queue[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.flushing--
		return nil
	}
	n := min(len(q.pending), q.MaxBatch)
	b := make([]T, n)
	copy(b, q.pending)
	rest := copy(q.pending, q.pending[n:])
	clear(q.pending[rest:])
	q.pending = q.pending[:rest]
	return b
}
