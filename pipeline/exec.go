package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// waitDelay bounds how long a killed subprocess may keep its pipes open.
const waitDelay = 2 * time.Second

// maxStderr bounds the stderr kept from a subprocess for error messages.
const maxStderr = 4 << 10

// command prepares a subprocess that dies with ctx. Its stderr is kept
// (bounded) for the error returned by runCommand.
func command(ctx context.Context, name string, args ...string) (*exec.Cmd, *tailBuffer) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = waitDelay
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stderr = stderr
	return cmd, stderr
}

// runCommand runs name to completion with stdout going to out and returns
// a descriptive error when it fails to start or exits non-zero.
func runCommand(ctx context.Context, out io.Writer, name string, args ...string) error {
	cmd, stderr := command(ctx, name, args...)
	cmd.Stdout = out
	return commandError(ctx, name, cmd.Run(), stderr)
}

// commandError describes the failure of a finished subprocess. A missing
// binary is an operational error (not Permanent): the machine needs
// deploy/deps.sh.
func commandError(ctx context.Context, name string, err error, stderr *tailBuffer) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%s not found (run deploy/deps.sh): %w", name, err)
	}
	if ctx.Err() != nil {
		return ctxError(ctx, fmt.Errorf("%s: %w", name, err))
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %w: %s", name, err, msg)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	if t.buf.Len()+len(p) > t.max {
		rest := t.buf.Bytes()[t.buf.Len()+len(p)-t.max:]
		keep := append([]byte(nil), rest...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	t.buf.Write(p)
	return n, nil
}

func (t *tailBuffer) String() string { return t.buf.String() }

// isExitError reports whether err says the subprocess ran and failed (as
// opposed to not starting, or being killed by our context).
func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// ffInput names a local file for ffmpeg and ffprobe: an absolute path behind
// the file: protocol, so that no name (one starting with "-", or looking
// like "http:", "concat:" or "pipe:") is ever read as an option or makes
// ffmpeg open anything but that file.
func ffInput(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "file:" + path
}

// argPath makes a path safe as a positional argument of tools without a
// file: protocol (heif-convert): absolute, so it never starts with "-".
func argPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return "./" + path
}
