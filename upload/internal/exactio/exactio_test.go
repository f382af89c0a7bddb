package exactio

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		size    int64
		wantErr error
	}{
		{"exact", "hello", 5, nil},
		{"empty", "", 0, nil},
		{"short", "hell", 5, io.ErrUnexpectedEOF},
		{"long", "hello!", 5, ErrTooLong},
		{"long from empty", "x", 0, ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.input), iotest.OneByteReader(strings.NewReader(tc.input))} {
				got, err := io.ReadAll(New(r, tc.size))
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err: got %v, want %v", err, tc.wantErr)
				}
				if tc.wantErr == nil && string(got) != tc.input {
					t.Errorf("bytes: got %q, want %q", got, tc.input)
				}
			}
		})
	}
}

func TestVerifyAfterReadFull(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{"exact", "hello", nil},
		{"long", "hello!", ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(strings.NewReader(tc.input), 5)
			buf := make([]byte, 5)
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Fatalf("ReadFull: %v", err)
			}
			if err := r.Verify(); !errors.Is(err, tc.wantErr) {
				t.Errorf("Verify: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}
