package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"testing"

	"github.com/buckket/go-blurhash"
)

// Colours of the quadrants of upright.png and the orient-N.jpg made from it.
var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
	white  = color.NRGBA{255, 255, 255, 255}
)

// readJPEG decodes an output file and checks it is a JPEG of w×h.
func readJPEG(tb testing.TB, o Output) image.Image {
	tb.Helper()
	data, err := os.ReadFile(o.Path)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(len(data)) != o.Size {
		tb.Errorf("%s: Size %d, file has %d bytes", o.Name, o.Size, len(data))
	}
	if o.ContentType != "image/jpeg" {
		tb.Errorf("%s: content type %q, want image/jpeg", o.Name, o.ContentType)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: decode: %v", o.Name, err)
	}
	if b := img.Bounds(); b.Dx() != o.Width || b.Dy() != o.Height {
		tb.Errorf("%s: %dx%d, Output says %dx%d", o.Name, b.Dx(), b.Dy(), o.Width, o.Height)
	}
	return img
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.NRGBA, tol int) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	d := func(a, b uint8) bool { x := int(a) - int(b); return x <= tol && x >= -tol }
	return d(n.R, want.R) && d(n.G, want.G) && d(n.B, want.B)
}

// at samples img at fractions (fx, fy) of its size.
func at(img image.Image, fx, fy float64) color.Color {
	b := img.Bounds()
	return img.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(fy*float64(b.Dy())))
}

// checkQuadrants checks that img shows upright.png: red, green / blue, yellow.
func checkQuadrants(tb testing.TB, name string, img image.Image, tol int) {
	tb.Helper()
	for _, q := range []struct {
		fx, fy float64
		want   color.NRGBA
		label  string
	}{{0.25, 0.25, red, "top left"}, {0.75, 0.25, green, "top right"}, {0.25, 0.75, blue, "bottom left"}, {0.75, 0.75, yellow, "bottom right"}} {
		if c := at(img, q.fx, q.fy); !near(c, q.want, tol) {
			tb.Errorf("%s: %s is %v, want %v (image not upright)", name, q.label, color.NRGBAModel.Convert(c), q.want)
		}
	}
}

func TestImageFormats(t *testing.T) {
	for _, tc := range []struct {
		file          string
		ct            string
		width, height int
		upright       bool // made from upright.png
	}{
		{"orient-1.jpg", TypeJPEG, 600, 400, true},
		{"gray.jpg", TypeJPEG, 600, 400, false},
		{"gps.jpg", TypeJPEG, 2000, 1500, false},
		{"upright.png", TypePNG, 600, 400, true},
		{"alpha.png", TypePNG, 400, 300, false},
		{"anim.gif", TypeGIF, 320, 240, false},
		{"image.webp", TypeWebP, 600, 400, true},
		{"image.heic", TypeHEIC, 600, 400, true},
		{"orient-6.heic", TypeHEIC, 600, 400, true}, // EXIF orientation 6, no irot
	} {
		t.Run(tc.file, func(t *testing.T) {
			for _, kind := range []Kind{KindAuto, KindImage} {
				res := mustProcess(t, kind, corpus(t, tc.file), Limits{})
				if res.Kind != KindImage || res.ContentType != tc.ct {
					t.Errorf("kind %s: got %s %s, want image %s", kind, res.Kind, res.ContentType, tc.ct)
				}
				if res.Width != tc.width || res.Height != tc.height {
					t.Errorf("got %dx%d, want %dx%d", res.Width, res.Height, tc.width, tc.height)
				}
				if len(res.SHA256) != 64 || res.Size == 0 {
					t.Errorf("sha256 %q size %d", res.SHA256, res.Size)
				}
				for _, o := range res.Outputs {
					switch o.Name {
					case OutputPreview, OutputThumbnail, OutputOriginal:
					case OutputAnimation, OutputPoster:
						if !res.Animated {
							t.Errorf("%s output of a still image", o.Name)
						}
					default:
						t.Errorf("unexpected %s output", o.Name)
					}
				}
				pw, ph := fit(tc.width, tc.height, 1280)
				tw, th := fit(pw, ph, 320)
				preview := readJPEG(t, output(t, res, "preview"))
				thumb := readJPEG(t, output(t, res, "thumbnail"))
				if b := preview.Bounds(); b.Dx() != pw || b.Dy() != ph || max(pw, ph) > 1280 {
					t.Errorf("preview %v, want %dx%d", b.Size(), pw, ph)
				}
				if b := thumb.Bounds(); b.Dx() != tw || b.Dy() != th || max(tw, th) > 320 {
					t.Errorf("thumbnail %v, want %dx%d", b.Size(), tw, th)
				}
				if tc.upright {
					checkQuadrants(t, "preview", preview, 40)
					checkQuadrants(t, "thumbnail", thumb, 40)
				}
			}
		})
	}
}

func TestPreviewNeverUpscaled(t *testing.T) {
	res := mustProcess(t, KindImage, corpus(t, "upright.png"), Limits{})
	if o := output(t, res, "preview"); o.Width != 600 || o.Height != 400 {
		t.Errorf("preview %dx%d, want 600x400 (never upscaled)", o.Width, o.Height)
	}
	if o := output(t, res, "thumbnail"); o.Width != 320 || o.Height != 213 {
		t.Errorf("thumbnail %dx%d, want 320x213", o.Width, o.Height)
	}
}

// TestOrientation: orient-N.jpg stores upright.png transformed so that EXIF
// orientation N shows it upright; all eight must come out upright.
func TestOrientation(t *testing.T) {
	for n := 1; n <= 8; n++ {
		name := "orient-" + string(rune('0'+n)) + ".jpg"
		t.Run(name, func(t *testing.T) {
			src := corpus(t, name)
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if got := jpegOrientation(data); got != n {
				t.Fatalf("jpegOrientation = %d, want %d", got, n)
			}
			res := mustProcess(t, KindImage, src, Limits{})
			if res.Width != 600 || res.Height != 400 {
				t.Errorf("displayed size %dx%d, want 600x400", res.Width, res.Height)
			}
			checkQuadrants(t, "preview", readJPEG(t, output(t, res, "preview")), 40)
			checkQuadrants(t, "thumbnail", readJPEG(t, output(t, res, "thumbnail")), 40)
		})
	}
}

func TestAlphaBecomesWhite(t *testing.T) {
	res := mustProcess(t, KindImage, corpus(t, "alpha.png"), Limits{})
	for _, name := range []string{"preview", "thumbnail"} {
		img := readJPEG(t, output(t, res, name))
		if c := at(img, 0.25, 0.5); !near(c, blue, 30) {
			t.Errorf("%s: opaque half is %v, want blue", name, c)
		}
		if c := at(img, 0.75, 0.5); !near(c, white, 10) {
			t.Errorf("%s: transparent half is %v, want white", name, c)
		}
	}
}

func TestNoMetadataInOutputs(t *testing.T) {
	src := corpus(t, "gps.jpg")
	orig, _ := os.ReadFile(src)
	if !bytes.Contains(orig, []byte("ParleyCam")) {
		t.Fatal("corpus gps.jpg lacks its EXIF: exiftool did not run")
	}
	res := mustProcess(t, KindImage, src, Limits{})
	for _, o := range res.Outputs {
		data, err := os.ReadFile(o.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Exif", "ParleyCam", "GPS", "http://ns.adobe.com"} {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains %q: metadata copied", o.Name, s)
			}
		}
		if bytes.Contains(data, []byte{0xFF, 0xE1}) && jpegOrientation(data) != 1 {
			t.Errorf("%s has an APP1 segment", o.Name)
		}
	}
}

// TestBlurhashRoundTrip decodes the hash with go-blurhash and compares it
// with the image: the same mean colour in linear light (what the hash's DC
// component is), and each quadrant dominated by its own colour.
func TestBlurhashRoundTrip(t *testing.T) {
	res := mustProcess(t, KindImage, corpus(t, "orient-6.jpg"), Limits{})
	img, err := blurhash.Decode(res.Blurhash, 60, 40, 1)
	if err != nil {
		t.Fatalf("decode %q: %v", res.Blurhash, err)
	}
	got := linearMean(img)
	want := linearMean(readJPEG(t, output(t, res, "preview")))
	for i := range got {
		if d := got[i] - want[i]; d > 0.05 || d < -0.05 {
			t.Errorf("blurhash mean colour (linear) %.3f, image %.3f", got, want)
			break
		}
	}
	for _, q := range []struct {
		fx, fy float64
		ok     func(r, g, b int) bool
		want   string
	}{
		{0.1, 0.1, func(r, g, b int) bool { return r > g+40 && r > b+40 }, "red"},
		{0.9, 0.1, func(r, g, b int) bool { return g > r+40 && g > b+40 }, "green"},
		{0.1, 0.9, func(r, g, b int) bool { return b > r+40 && b > g+40 }, "blue"},
		{0.9, 0.9, func(r, g, b int) bool { return r > b+40 && g > b+40 }, "yellow"},
	} {
		c := color.NRGBAModel.Convert(at(img, q.fx, q.fy)).(color.NRGBA)
		if !q.ok(int(c.R), int(c.G), int(c.B)) {
			t.Errorf("blurhash at (%.1f, %.1f) is %v, want mostly %s", q.fx, q.fy, c, q.want)
		}
	}
}

// linearMean is the mean colour of img in linear light, 0–1 per channel.
func linearMean(img image.Image) [3]float64 {
	var sum [3]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for i, v := range []uint8{c.R, c.G, c.B} {
				f := float64(v) / 255
				if f <= 0.04045 {
					f /= 12.92
				} else {
					f = math.Pow((f+0.055)/1.055, 2.4)
				}
				sum[i] += f
			}
		}
	}
	n := float64(b.Dx() * b.Dy())
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct{ w, h, side, ww, wh int }{
		{4032, 3024, 1280, 1280, 960},
		{3024, 4032, 1280, 960, 1280},
		{600, 400, 1280, 600, 400},
		{1280, 1280, 320, 320, 320},
		{10000, 3, 320, 320, 1},
	} {
		if w, h := fit(tc.w, tc.h, tc.side); w != tc.ww || h != tc.wh {
			t.Errorf("fit(%d, %d, %d) = %d, %d, want %d, %d", tc.w, tc.h, tc.side, w, h, tc.ww, tc.wh)
		}
	}
}

func TestDecodeImageInMemoryHEIF(t *testing.T) {
	data, err := os.ReadFile(corpus(t, "image.heic"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeImage(context.Background(), TypeHEIC, data, "", Limits{}.withDefaults(), PreviewSide)
	if err != nil {
		t.Fatal(err)
	}
	if d.width != 600 || d.height != 400 {
		t.Errorf("got %dx%d, want 600x400", d.width, d.height)
	}
}

func TestFlatten(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(nrgba.Pix, []uint8{0, 0, 255, 255, 0, 0, 255, 0})
	rgba := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(rgba.Pix, []uint8{0, 0, 128, 128, 0, 0, 0, 0})
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[0], gray.Pix[1] = 0, 255
	for _, tc := range []struct {
		name string
		img  image.Image
		want []uint8
	}{
		{"nrgba in place", nrgba, []uint8{0, 0, 255, 255, 255, 255, 255, 255}},
		{"rgba premultiplied", rgba, []uint8{127, 127, 255, 255, 255, 255, 255, 255}},
		{"gray", gray, []uint8{0, 0, 0, 255, 255, 255, 255, 255}},
		{"offset sub-image", nrgba.SubImage(image.Rect(1, 0, 2, 1)), []uint8{255, 255, 255, 255}},
	} {
		b := tc.img.Bounds()
		got := flatten(tc.img, b.Dx(), b.Dy())
		if got.Rect.Min != (image.Point{}) || !bytes.Equal(got.Pix[:len(tc.want)], tc.want) {
			t.Errorf("%s: got %v at %v, want %v", tc.name, got.Pix, got.Rect, tc.want)
		}
	}
}
