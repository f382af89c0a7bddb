package loadgen

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: summarize must sort
	}
	tests := []struct {
		name string
		in   []time.Duration
		want latencySummary
	}{
		{"empty", nil, latencySummary{}},
		{"one", ms(7), latencySummary{N: 1, P50: 7 * time.Millisecond, P95: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"1..100", ms(hundred...), latencySummary{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		{"outlier", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 500), latencySummary{N: 10, P50: time.Millisecond, P95: 500 * time.Millisecond, P99: 500 * time.Millisecond, Max: 500 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.in); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	tests := []struct {
		n, size int
		want    [][]int
	}{
		{4, 2, [][]int{{0, 1}, {2, 3}}},
		{5, 2, [][]int{{0, 1}, {2, 3, 4}}},
		{7, 3, [][]int{{0, 1, 2}, {3, 4, 5, 6}}},
		{8, 3, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d_by_%d", tc.n, tc.size), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, groups(tc.n, tc.size)); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBenchBody(t *testing.T) {
	sent := time.Unix(1700000000, 123456789)
	body := benchBody("ab12", sent, 7)
	tests := []struct {
		name, run, body string
		want            time.Time
		wantOK          bool
	}{
		{"round trip", "ab12", body, sent, true},
		{"other run", "ffff", body, time.Time{}, false},
		{"not a bench body", "ab12", "hello", time.Time{}, false},
		{"garbled time", "ab12", "pbench ab12 x 7", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseBenchBody(tc.run, tc.body)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseProc(t *testing.T) {
	status := "Name:\tparley\nVmPeak:\t  999 kB\nVmRSS:\t   45678 kB\nThreads:\t9\n"
	if got, err := parseVmRSS(strings.NewReader(status)); err != nil || got != 45678 {
		t.Errorf("VmRSS: got %d, %v; want 45678, nil", got, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Errorf("VmRSS missing: got nil error, want one")
	}
	stat := "1234 (par ley) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 0 0"
	if got, err := parseCPUTicks(stat); err != nil || got != 300 {
		t.Errorf("cpu ticks: got %d, %v; want 300, nil", got, err)
	}
	if _, err := parseCPUTicks("garbage"); err == nil {
		t.Errorf("cpu ticks of garbage: got nil error, want one")
	}
}

func TestParseGoMem(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     goMem
		wantLive float64
	}{
		{"all there", "# HELP x\ngo_memstats_next_gc_bytes 4.2e+07\ngo_gc_gogc_percent 100\n" +
			"go_memstats_stack_inuse_bytes 2e+06\ngo_goroutines 23\ngo_memstats_last_gc_time_seconds 1.7e+09\n",
			goMem{nextGC: 42e6, gogc: 100, stack: 2e6, goroutines: 23, lastGC: time.Unix(1700000000, 0), ok: true}, 20e6},
		{"gc off", "go_memstats_next_gc_bytes 1\ngo_gc_gogc_percent -1\ngo_memstats_stack_inuse_bytes 1\n" +
			"go_goroutines 1\ngo_memstats_last_gc_time_seconds 0\n",
			goMem{nextGC: 1, gogc: -1, stack: 1, goroutines: 1, lastGC: time.Unix(0, 0)}, 0},
		{"no go collector", "parley_messages_stored_total 5\n", goMem{lastGC: time.Unix(0, 0)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGoMem(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(goMem{})); diff != "" {
				t.Errorf("goMem (-want +got):\n%s", diff)
			}
			if got.ok && got.live() != tc.wantLive {
				t.Errorf("live: got %v, want %v", got.live(), tc.wantLive)
			}
		})
	}
}
