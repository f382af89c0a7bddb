// Package exactio wraps a reader so that it yields exactly a declared
// number of bytes: fewer is io.ErrUnexpectedEOF, more is ErrTooLong. Object
// store adapters use it so a Put never stores a silently truncated body.
package exactio

import (
	"errors"
	"io"
)

// ErrTooLong is returned when the reader holds more bytes than declared.
var ErrTooLong = errors.New("exactio: more bytes than declared")

// Reader yields the bytes of R, failing unless they number exactly Size.
type Reader struct {
	r    io.Reader
	left int64
	done bool
	err  error // sticky: the first error Read returned
}

// New returns a Reader over r that expects exactly size bytes.
func New(r io.Reader, size int64) *Reader { return &Reader{r: r, left: size} }

// Read implements io.Reader.
func (e *Reader) Read(p []byte) (int, error) {
	n, err := e.read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// Verify reports whether the source held exactly the declared size, reading
// on to check for surplus if the consumer stopped at the size. Consumers
// such as io.ReadFull drop an error that comes with the last wanted bytes;
// call Verify after them.
func (e *Reader) Verify() error {
	if e.err != nil {
		return e.err
	}
	if e.left > 0 {
		return io.ErrUnexpectedEOF
	}
	if !e.done {
		if err := e.finish(); err != io.EOF {
			e.err = err
			return err
		}
	}
	return nil
}

func (e *Reader) read(p []byte) (int, error) {
	if e.done {
		return 0, io.EOF
	}
	if e.left == 0 {
		return 0, e.finish()
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case errors.Is(err, io.EOF) && e.left > 0:
		return n, io.ErrUnexpectedEOF
	case err != nil && !errors.Is(err, io.EOF):
		return n, err
	case e.left == 0:
		// Check for surplus now: a consumer that stops after exactly size
		// bytes would never ask again.
		if ferr := e.finish(); ferr != io.EOF {
			return n, ferr
		}
		return n, io.EOF
	}
	return n, nil
}

func (e *Reader) finish() error {
	var one [1]byte
	n, err := io.ReadFull(e.r, one[:])
	switch {
	case n > 0:
		return ErrTooLong
	case errors.Is(err, io.EOF):
		e.done = true
		return io.EOF
	default:
		return err
	}
}
