package resample

import (
	"image"
	"math"
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
			// smooth gradients plus some noise, like a photo
			img.Pix[i] = uint8(x * 255 / w)
			img.Pix[i+1] = uint8(y * 255 / h)
			img.Pix[i+2] = uint8(128 + r.IntN(64) - 32)
			img.Pix[i+3] = 255
		}
	}
	return img
}

// TestMatchesImaging: the result is within a couple of levels of
// imaging.Resize with imaging.CatmullRom (PSNR well above 40 dB).
func TestMatchesImaging(t *testing.T) {
	for _, tc := range []struct{ sw, sh, w, h int }{
		{1512, 1134, 1280, 960},
		{1280, 960, 320, 240},
		{320, 240, 32, 24},
		{300, 200, 600, 400}, // upscaling works too
		{7, 5, 3, 2},
	} {
		src := noise(tc.sw, tc.sh)
		got := CatmullRom(src, tc.w, tc.h)
		want := imaging.Resize(src, tc.w, tc.h, imaging.CatmullRom)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%v: bounds %v, want %v", tc, got.Bounds(), want.Bounds())
		}
		var se float64
		for i := range got.Pix {
			if i%4 == 3 {
				if got.Pix[i] != 255 {
					t.Fatalf("alpha %d at %d", got.Pix[i], i)
				}
				continue
			}
			d := float64(got.Pix[i]) - float64(want.Pix[i])
			se += d * d
		}
		mse := se / float64(len(got.Pix)*3/4)
		psnr := 10 * math.Log10(255*255/math.Max(mse, 1e-9))
		if psnr < 40 {
			t.Errorf("%v: PSNR %.1f dB against imaging, want ≥ 40", tc, psnr)
		}
	}
}

func TestFlatStaysFlat(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 333, 222))
	for i := range src.Pix {
		src.Pix[i] = 200
	}
	for _, p := range CatmullRom(src, 100, 77).Pix {
		if p != 200 && p != 255 {
			t.Fatalf("flat image resampled to %d", p)
		}
	}
}

func TestSubImage(t *testing.T) {
	src := noise(100, 100).SubImage(image.Rect(10, 20, 60, 70)).(*image.NRGBA)
	want := imaging.Resize(src, 25, 25, imaging.CatmullRom)
	got := CatmullRom(src, 25, 25)
	for i := range got.Pix {
		if d := int(got.Pix[i]) - int(want.Pix[i]); d > 4 || d < -4 {
			t.Fatalf("sub-image: byte %d is %d, imaging %d", i, got.Pix[i], want.Pix[i])
		}
	}
}

func BenchmarkCatmullRom(b *testing.B) {
	src := noise(1512, 1134)
	for b.Loop() {
		CatmullRom(src, 1280, 960)
	}
}

func BenchmarkImaging(b *testing.B) {
	src := noise(1512, 1134)
	for b.Loop() {
		imaging.Resize(src, 1280, 960, imaging.CatmullRom)
	}
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
	ref := CatmullRom(big, 32, 18)
	for i := range small.Pix {
		if d := int(small.Pix[i]) - int(ref.Pix[i]); d > 12 || d < -12 {
			t.Fatalf("Box and CatmullRom differ by %d at %d", d, i)
		}
	}
}

func BenchmarkBox(b *testing.B) {
	src := noise(1280, 720)
	for b.Loop() {
		Box(src, 32, 18)
	}
}
