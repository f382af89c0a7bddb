// Package turbojpeg decodes and encodes JPEG through libjpeg-turbo's TurboJPEG
// API (cgo, Debian's libturbojpeg0-dev). The pipeline uses it for two things
// the Go standard library cannot do: decoding at a reduced scale in the IDCT
// (a 12 MP photo decoded at 3/8 size costs a fraction of a full decode and a
// fraction of the memory) and SIMD encoding.
package turbojpeg

/*
#cgo pkg-config: libturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// ErrWarning is returned (wrapped) by Decode when libjpeg-turbo finished the
// image but reported damage on the way, such as a premature end of data. The
// returned image is then complete but may hold grey areas.
var ErrWarning = errors.New("turbojpeg: warning")

// Header is what the JPEG header says about the image.
type Header struct {
	Width, Height int
}

// ReadHeader parses the JPEG header without decoding any pixel.
func ReadHeader(data []byte) (Header, error) {
	if len(data) == 0 {
		return Header{}, errors.New("turbojpeg: empty input")
	}
	h := C.tjInitDecompress()
	if h == nil {
		return Header{}, errors.New("turbojpeg: init failed")
	}
	defer C.tjDestroy(h)
	var w, ht, subsamp, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &w, &ht, &subsamp, &cs) != 0 {
		return Header{}, fmt.Errorf("turbojpeg: header: %s", C.GoString(C.tjGetErrorStr2(h)))
	}
	return Header{Width: int(w), Height: int(ht)}, nil
}

// Scale is a decoding scale factor Num/Denom.
type Scale struct{ Num, Denom int }

// Scaled returns dim scaled by s, rounded up as libjpeg-turbo does.
func (s Scale) Scaled(dim int) int { return (dim*s.Num + s.Denom - 1) / s.Denom }

// ScaleFor returns the smallest scale factor, not above 1, at which both
// sides of a width×height image stay at least minW×minH (or at full size
// when the image is smaller than that).
func ScaleFor(width, height, minW, minH int) Scale {
	var n C.int
	sf := C.tjGetScalingFactors(&n)
	best := Scale{1, 1}
	if sf == nil {
		return best
	}
	all := unsafe.Slice(sf, int(n))
	for _, f := range all {
		s := Scale{int(f.num), int(f.denom)}
		if s.Num > s.Denom {
			continue // upscaling factors
		}
		if s.Scaled(width) >= minW && s.Scaled(height) >= minH &&
			s.Num*best.Denom < best.Num*s.Denom {
			best = s
		}
	}
	return best
}

// Decode decodes data at scale s into an opaque NRGBA image. If libjpeg-turbo
// reports only a warning, Decode returns the image together with an error
// wrapping ErrWarning.
func Decode(data []byte, s Scale) (*image.NRGBA, error) {
	hdr, err := ReadHeader(data)
	if err != nil {
		return nil, err
	}
	w, ht := s.Scaled(hdr.Width), s.Scaled(hdr.Height)
	img := image.NewNRGBA(image.Rect(0, 0, w, ht))
	h := C.tjInitDecompress()
	if h == nil {
		return nil, errors.New("turbojpeg: init failed")
	}
	defer C.tjDestroy(h)
	rc := C.tjDecompress2(h, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.int(w), C.int(img.Stride), C.int(ht),
		C.TJPF_RGBA, 0)
	if rc != 0 {
		msg := C.GoString(C.tjGetErrorStr2(h))
		if C.tjGetErrorCode(h) == C.TJERR_WARNING {
			return img, fmt.Errorf("%w: %s", ErrWarning, msg)
		}
		return nil, fmt.Errorf("turbojpeg: decode: %s", msg)
	}
	return img, nil
}

// Encode encodes img as a baseline 4:2:0 JPEG of the given quality (1–100),
// ignoring alpha. The output carries a JFIF header and no other metadata.
func Encode(img *image.NRGBA, quality int) ([]byte, error) {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	if w == 0 || ht == 0 {
		return nil, errors.New("turbojpeg: empty image")
	}
	h := C.tjInitCompress()
	if h == nil {
		return nil, errors.New("turbojpeg: init failed")
	}
	defer C.tjDestroy(h)
	var out *C.uchar
	var size C.ulong
	pix := img.Pix[img.PixOffset(b.Min.X, b.Min.Y):]
	rc := C.tjCompress2(h, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(img.Stride), C.int(ht),
		C.TJPF_RGBA, &out, &size, C.TJSAMP_420, C.int(quality), 0)
	if out != nil {
		defer C.tjFree(out)
	}
	if rc != 0 {
		return nil, fmt.Errorf("turbojpeg: encode: %s", C.GoString(C.tjGetErrorStr2(h)))
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}
