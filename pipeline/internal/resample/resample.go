// Package resample scales opaque RGBA images with a separable Catmull-Rom
// filter in fixed point. It does what imaging.Resize(img, w, h,
// imaging.CatmullRom) does for the pipeline's images, about three times
// faster: every image is flattened onto white before it gets here, so
// alpha never needs premultiplying, and 14-bit integer weights replace
// float arithmetic. Rows are split across GOMAXPROCS goroutines.
package resample

import (
	"image"
	"math"
	"runtime"
	"sync"
)

const (
	weightBits = 14
	one        = 1 << weightBits
)

// CatmullRom returns src scaled to w×h. Alpha is ignored and set opaque.
func CatmullRom(src *image.NRGBA, w, h int) *image.NRGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || sw <= 0 || sh <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	}
	// Horizontal first: it shrinks the rows the vertical pass reads.
	tmp := image.NewNRGBA(image.Rect(0, 0, w, sh))
	hk := kernels(sw, w)
	parallel(sh, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			srow := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			drow := tmp.Pix[y*tmp.Stride:]
			for x, k := range hk {
				var r, g, bl int32
				ws := k.weights
				s := srow[4*k.start : 4*k.start+4*len(ws)]
				for len(s) >= 4 && len(ws) > 0 {
					wt := ws[0]
					r += wt * int32(s[0])
					g += wt * int32(s[1])
					bl += wt * int32(s[2])
					s, ws = s[4:], ws[1:]
				}
				d := drow[4*x : 4*x+4 : 4*x+4]
				d[0], d[1], d[2], d[3] = clamp(r), clamp(g), clamp(bl), 0xFF
			}
		}
	})
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	vk := kernels(sh, h)
	parallel(h, func(lo, hi int) {
		acc := make([]int32, 4*w)
		for y := lo; y < hi; y++ {
			clear(acc)
			k := vk[y]
			for i, wt := range k.weights {
				row := tmp.Pix[(k.start+i)*tmp.Stride : (k.start+i)*tmp.Stride+4*w]
				a := acc[:len(row)]
				for j, v := range row {
					a[j] += wt * int32(v)
				}
			}
			drow := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for j := range drow {
				drow[j] = clamp(acc[j])
			}
			for j := 3; j < len(drow); j += 4 {
				drow[j] = 0xFF
			}
		}
	})
	return dst
}

func clamp(v int32) uint8 {
	v = (v + one/2) >> weightBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// kernel is the taps of one destination pixel: source pixels start,
// start+1, ... weighted by weights (summing to one).
type kernel struct {
	start   int
	weights []int32
}

// kernels computes the taps that map n source pixels onto m.
func kernels(n, m int) []kernel {
	scale := float64(n) / float64(m)
	support := 2.0 // Catmull-Rom's radius
	if scale > 1 {
		support *= scale // widen the filter when shrinking
	}
	out := make([]kernel, m)
	fw := make([]float64, 0, int(2*support)+3)
	for i := range out {
		center := (float64(i)+0.5)*scale - 0.5
		lo := max(int(math.Ceil(center-support)), 0)
		hi := min(int(math.Floor(center+support)), n-1)
		fw = fw[:0]
		var sum float64
		for j := lo; j <= hi; j++ {
			x := (float64(j) - center)
			if scale > 1 {
				x /= scale
			}
			v := catmullRom(x)
			fw = append(fw, v)
			sum += v
		}
		ws := make([]int32, len(fw))
		var isum int32
		best := 0
		for j, v := range fw {
			ws[j] = int32(math.Round(v / sum * one))
			isum += ws[j]
			if ws[j] > ws[best] {
				best = j
			}
		}
		ws[best] += one - isum // exact unity gain: flat areas stay flat
		out[i] = kernel{start: lo, weights: ws}
	}
	return out
}

func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

// parallel runs fn over [0, n) in GOMAXPROCS chunks.
func parallel(n int, fn func(lo, hi int)) {
	procs := min(runtime.GOMAXPROCS(0), max(n/16, 1))
	if procs <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + procs - 1) / procs
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// Box returns src shrunk to w×h by averaging the source pixels each
// destination pixel covers (at whole-pixel bounds). It touches every source
// pixel once, so it is the cheap way to a tiny copy: the 32 px image a
// blurhash is computed on. w and h must not exceed src's size.
func Box(src *image.NRGBA, w, h int) *image.NRGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	w, h = min(max(w, 1), sw), min(max(h, 1), sh)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	if sw == 0 || sh == 0 {
		return dst
	}
	acc := make([]uint32, 3*w)
	for y := 0; y < h; y++ {
		y0, y1 := y*sh/h, (y+1)*sh/h
		clear(acc)
		for sy := y0; sy < y1; sy++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+sy):]
			for x := 0; x < w; x++ {
				x0, x1 := x*sw/w, (x+1)*sw/w
				var r, g, bl uint32
				for sx := x0; sx < x1; sx++ {
					r += uint32(row[4*sx])
					g += uint32(row[4*sx+1])
					bl += uint32(row[4*sx+2])
				}
				acc[3*x] += r
				acc[3*x+1] += g
				acc[3*x+2] += bl
			}
		}
		drow := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			n := uint32((x+1)*sw/w-x*sw/w) * uint32(y1-y0)
			drow[4*x] = uint8((acc[3*x] + n/2) / n)
			drow[4*x+1] = uint8((acc[3*x+1] + n/2) / n)
			drow[4*x+2] = uint8((acc[3*x+2] + n/2) / n)
			drow[4*x+3] = 0xFF
		}
	}
	return dst
}
