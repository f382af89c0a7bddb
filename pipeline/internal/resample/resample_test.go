package resample

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
)

func noise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8(x * 255 / w)
			img.Pix[i+1] = uint8(y * 255 / h)
			img.Pix[i+2] = uint8(128 + r.IntN(64) - 32)
			img.Pix[i+3] = 255
		}
	}
	return img
}

func TestBox(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	copy(src.Pix, []uint8{
		0, 0, 0, 255, 100, 100, 100, 255, 10, 20, 30, 255, 10, 20, 30, 255,
		0, 0, 0, 255, 100, 100, 100, 255, 30, 40, 50, 255, 30, 40, 50, 255,
	})
	got := Box(src, 2, 1)
	want := []uint8{50, 50, 50, 255, 20, 30, 40, 255}
	for i := range want {
		if got.Pix[i] != want[i] {
			t.Fatalf("Box = %v, want %v", got.Pix, want)
		}
	}
	big := noise(1280, 720)
	small := Box(big, 32, 18)
	ref := imaging.Resize(big, 32, 18, imaging.Box)
	for i := range small.Pix {
		if d := int(small.Pix[i]) - int(ref.Pix[i]); d > 12 || d < -12 {
			t.Fatalf("Box and imaging.Box differ by %d at %d", d, i)
		}
	}
}

func BenchmarkBox(b *testing.B) {
	src := noise(1280, 720)
	for b.Loop() {
		Box(src, 32, 18)
	}
}

func BenchmarkImagingBox(b *testing.B) {
	src := noise(1280, 720)
	for b.Loop() {
		imaging.Resize(src, 32, 18, imaging.Box)
	}
}
