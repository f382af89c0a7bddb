package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The corpus is made at test time by testdata/mkcorpus.sh (no large media
// in the repository). -corpus keeps it in a directory of your choice.
var corpusFlag = flag.String("corpus", "", "write the generated test corpus here and keep it (default: a temporary directory)")

var (
	corpusRoot string // set by TestMain
	corpusOnce sync.Once
	corpusErr  error
	benchOnce  sync.Once
	benchErr   error
)

// tools the tests and the pipeline run.
var tools = []string{"ffmpeg", "ffprobe", "heif-convert", "heif-enc", "exiftool", "opusinfo", "perl"}

func TestMain(m *testing.M) {
	flag.Parse()
	root := *corpusFlag
	keep := root != ""
	if !keep {
		var err error
		if root, err = os.MkdirTemp("", "parley-corpus-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	corpusRoot = root
	code := m.Run()
	if !keep {
		os.RemoveAll(root)
	}
	os.Exit(code)
}

// requireTools fails the test (never skips it) when a tool is missing.
func requireTools(tb testing.TB) {
	tb.Helper()
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			tb.Fatalf("%s not found: run deploy/deps.sh (it installs ffmpeg, libheif-examples, libimage-exiftool-perl, opus-tools)", t)
		}
	}
}

func runCorpusScript(dir, mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{filepath.Join("testdata", "mkcorpus.sh"), dir}
	if mode != "" {
		args = append(args, mode)
	}
	out, err := exec.CommandContext(ctx, "bash", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("testdata/mkcorpus.sh %s: %w\n%s", mode, err, out)
	}
	return nil
}

// corpus returns the path of a generated test file.
func corpus(tb testing.TB, name string) string {
	tb.Helper()
	requireTools(tb)
	corpusOnce.Do(func() { corpusErr = runCorpusScript(filepath.Join(corpusRoot, "test"), "") })
	if corpusErr != nil {
		tb.Fatal(corpusErr)
	}
	p := filepath.Join(corpusRoot, "test", name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("corpus file %s: %v", name, err)
	}
	return p
}

// benchInput returns the path of a generated benchmark input (12 MP JPEG,
// 60 s voice, 1080p video).
func benchInput(tb testing.TB, name string) string {
	tb.Helper()
	requireTools(tb)
	benchOnce.Do(func() { benchErr = runCorpusScript(filepath.Join(corpusRoot, "bench"), "bench") })
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return filepath.Join(corpusRoot, "bench", name)
}

// mustProcess runs Process and fails the test on error.
func mustProcess(tb testing.TB, kind Kind, src string, lim Limits) *Result {
	tb.Helper()
	res, err := Process(context.Background(), kind, src, tb.TempDir(), lim)
	if err != nil {
		tb.Fatalf("Process(%s, %s): %v", kind, filepath.Base(src), err)
	}
	return res
}

// output returns the named output of res.
func output(tb testing.TB, res *Result, name string) Output {
	tb.Helper()
	for _, o := range res.Outputs {
		if o.Name == name {
			return o
		}
	}
	tb.Fatalf("no %q output in %+v", name, res.Outputs)
	return Output{}
}

// wantErr fails unless err wraps want.
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("got error %v, want %v", err, want)
	}
}
