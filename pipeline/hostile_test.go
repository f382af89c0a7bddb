package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// checkEmptyDir fails if a failed Process left anything in dir.
func checkEmptyDir(tb testing.TB, dir string) {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	for _, e := range ents {
		tb.Errorf("left behind in the output directory: %s", e.Name())
	}
}

// TestHostileInputs: each fails with its typed, permanent error, without a
// panic, leaving no output, and without decoding a bomb (heap growth is
// measured).
func TestHostileInputs(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		kind       Kind
		want       error
	}{
		{"zero bytes auto", "empty.bin", KindAuto, ErrCorrupt},
		{"zero bytes image", "empty.bin", KindImage, ErrCorrupt},
		{"zero bytes voice", "empty.bin", KindVoice, ErrCorrupt},
		{"zero bytes video", "empty.bin", KindVideo, ErrCorrupt},
		{"truncated jpeg", "truncated.jpg", KindImage, ErrCorrupt},
		{"truncated jpeg auto", "truncated.jpg", KindAuto, ErrCorrupt},
		{"30000x30000 png bomb", "bomb.png", KindImage, ErrTooLarge},
		{"30000x30000 png bomb auto", "bomb.png", KindAuto, ErrTooLarge},
		{"text named .jpg", "text.jpg", KindImage, ErrUnsupported},
		{"text named .jpg as voice", "text.jpg", KindVoice, ErrUnsupported},
		{"video with no video stream", "audio-only.mp4", KindVideo, ErrUnsupported},
		{"audio of 0 s", "silence.wav", KindVoice, ErrCorrupt},
		{"audio of 0 s, no stream", "silence.m4a", KindAuto, ErrCorrupt},
		{"image as voice", "upright.png", KindVoice, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := corpus(t, tc.file)
			dir := t.TempDir()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Process(context.Background(), tc.kind, src, dir, Limits{})
			runtime.ReadMemStats(&after)
			wantErr(t, err, tc.want)
			if !Permanent(err) {
				t.Errorf("Permanent(%v) = false", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("allocated %d MiB on a refused input", grew>>20)
			}
			checkEmptyDir(t, dir)
		})
	}
}

func TestTextAutoIsFile(t *testing.T) {
	res := mustProcess(t, KindAuto, corpus(t, "text.jpg"), Limits{})
	if res.Kind != KindFile || res.ContentType != TypeUnknown || res.Size != 44 || len(res.Outputs) != 0 {
		t.Errorf("got %+v, want a 44-byte file of unknown type", res)
	}
	if want := "6a3aedceb796d6a2b2c5356f3c66344cc79306deed0b6128f66542c08415ad4c"; res.SHA256 != want {
		t.Errorf("sha256 %s, want %s", res.SHA256, want)
	}
}

func TestInputTooLarge(t *testing.T) {
	_, err := Process(context.Background(), KindFile, corpus(t, "voice.wav"), t.TempDir(), Limits{MaxInputBytes: 1000})
	wantErr(t, err, ErrTooLarge)
}

func TestTimeout(t *testing.T) {
	// The deadline passes while ffmpeg runs: it is killed and the error is
	// ErrTimeout, which a retry may cure.
	src := benchInput(t, "voice60s.m4a")
	dir := t.TempDir()
	start := time.Now()
	_, err := Process(context.Background(), KindVoice, src, dir, Limits{Timeout: 150 * time.Millisecond})
	wantErr(t, err, ErrTimeout)
	if Permanent(err) {
		t.Errorf("Permanent(%v) = true", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to give up after a 150 ms timeout", d)
	}
	checkNoSubprocess(t, src)
	checkEmptyDir(t, dir)
}

func TestCancel(t *testing.T) {
	src := benchInput(t, "voice60s.m4a")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	dir := t.TempDir()
	_, err := Process(ctx, KindVoice, src, dir, Limits{})
	wantErr(t, err, context.Canceled)
	checkNoSubprocess(t, src)
	if Permanent(err) || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled: got %v, want neither permanent nor timeout", err)
	}
	checkEmptyDir(t, dir)
}

func TestMissingSource(t *testing.T) {
	_, err := Process(context.Background(), KindAuto, "/nonexistent/file", t.TempDir(), Limits{})
	if !errors.Is(err, os.ErrNotExist) || Permanent(err) {
		t.Errorf("got %v, want a non-permanent not-exist error", err)
	}
	if _, err := Process(context.Background(), "sticker", corpus(t, "text.jpg"), t.TempDir(), Limits{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown kind: got %v, want ErrUnsupported", err)
	}
}

// checkNoSubprocess fails if a process whose command line mentions path is
// still running: a cancelled Process must kill and reap its ffmpeg.
func checkNoSubprocess(tb testing.TB, path string) {
	tb.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(path)) {
			tb.Errorf("still running: %s", bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}
