package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
)

func TestPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrUnsupported, true},
		{fmt.Errorf("process x: %w", ErrCorrupt), true},
		{errorf(ErrTooLarge, "%dx%d", 1, 2), true},
		{fmt.Errorf("process x: %w", ErrTimeout), false},
		{fmt.Errorf("%w: %w", ErrTimeout, ErrCorrupt), false}, // a killed decoder is not a corrupt file
		{context.Canceled, false},
		{os.ErrNotExist, false},
		{errors.New("ffmpeg not found"), false},
	} {
		if got := Permanent(tc.err); got != tc.want {
			t.Errorf("Permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestErrorfKeepsCause(t *testing.T) {
	err := errorf(ErrCorrupt, "jpeg: %w", os.ErrClosed)
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, os.ErrClosed) {
		t.Errorf("%v does not wrap both", err)
	}
}

func TestCtxError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	if err := ctxError(ctx, errors.New("ffmpeg: signal: killed")); !errors.Is(err, ErrTimeout) {
		t.Errorf("deadline passed: got %v, want ErrTimeout", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := ctxError(ctx2, errors.New("killed")); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	if err := ctxError(context.Background(), ErrCorrupt); err != ErrCorrupt {
		t.Errorf("live context: got %v, want the error unchanged", err)
	}
}
