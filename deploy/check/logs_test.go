package check

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Operators read durations in logs as milliseconds under a *_ms key
// (docs/operations.md): slog.Duration would print nanoseconds in JSON.
func TestLogsHaveNoNanosecondDurations(t *testing.T) {
	root := repoRoot(t)
	re := regexp.MustCompile(`slog\.Duration\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "check") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, loc := range re.FindAllIndex(src, -1) {
			line := 1 + strings.Count(string(src[:loc[0]]), "\n")
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s:%d: slog.Duration logs nanoseconds; log slog.Int64(\"NAME_ms\", d.Milliseconds())", rel, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
