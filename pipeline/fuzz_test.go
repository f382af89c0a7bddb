package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeImage feeds arbitrary bytes to the image decode path (sniffing,
// EXIF and HEIF box parsing, header checks, libjpeg-turbo and Go's decoders,
// resizing, orientation and blurhash). It must never panic, and every
// failure must be a permanent input error. Limits are small so that the
// fuzzer cannot make it allocate much. Run it with
//
//	go test -run '^$' -fuzz '^FuzzDecodeImage$' -fuzztime 60s ./pipeline
func FuzzDecodeImage(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed", "*.*"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && filepath.Ext(s) != ".md" {
			f.Add(data)
			f.Add(data[:len(data)/2]) // truncated
		}
	}
	for _, data := range generatedSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, _ := Sniff(data)
		jpegOrientation(data)
		parseHEIF(data)
		webpAnimated(data)
		switch ct {
		case TypeHEIC, TypeHEIF, TypeAVIF:
			return // decoded by heif-convert: a subprocess, not fuzzed here
		}
		lim := Limits{MaxPixels: 1 << 20, MaxSide: 4096}.withDefaults()
		d, err := decodeImage(context.Background(), ct, data, "", lim, 256)
		if err != nil {
			if !Permanent(err) {
				t.Fatalf("decode %s: non-permanent error %v", ct, err)
			}
			return
		}
		b := d.img.Bounds()
		if b.Min != (image.Point{}) || b.Dx() == 0 || b.Dy() == 0 || d.width*d.height > 1<<20 {
			t.Fatalf("decoded %v from %dx%d", b, d.width, d.height)
		}
		if _, err := render(d); err != nil {
			t.Fatalf("render: %v", err)
		}
	})
}

// generatedSeeds encodes small images with Go's encoders, with and without
// an EXIF orientation.
func generatedSeeds(tb testing.TB) [][]byte {
	img := image.NewNRGBA(image.Rect(0, 0, 12, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var j, p, g bytes.Buffer
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 50}); err != nil {
		tb.Fatal(err)
	}
	if err := png.Encode(&p, img); err != nil {
		tb.Fatal(err)
	}
	pal := image.NewPaletted(img.Bounds(), color.Palette{color.Black, color.White, color.Transparent})
	if err := gif.Encode(&g, pal, nil); err != nil {
		tb.Fatal(err)
	}
	return [][]byte{j.Bytes(), withEXIFOrientation(j.Bytes(), 8), p.Bytes(), g.Bytes()}
}

// withEXIFOrientation inserts an APP1 EXIF segment with orientation o after
// a JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, o byte) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	tiff[19] = o // the SHORT value, big-endian
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	return append(out, jpg[2:]...)
}

func TestEXIFOrientationParser(t *testing.T) {
	jpg := generatedSeeds(t)[0]
	for o := byte(1); o <= 8; o++ {
		if got := jpegOrientation(withEXIFOrientation(jpg, o)); got != int(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	for _, bad := range [][]byte{nil, {0xFF, 0xD8}, withEXIFOrientation(jpg, 9)[:30], withEXIFOrientation(jpg, 0)} {
		if got := jpegOrientation(bad); got != 1 {
			t.Errorf("jpegOrientation(%x) = %d, want 1", bad, got)
		}
	}
}

func TestParseHEIF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "seed", "upright.heic"))
	if err != nil {
		t.Fatal(err)
	}
	info, ok := parseHEIF(data)
	if !ok || info.Width != 600 || info.Height != 400 || info.Transformed {
		t.Errorf("parseHEIF = %+v, %v; want 600x400, no transform", info, ok)
	}
	if _, ok := parseHEIF(data[:40]); ok {
		t.Error("parseHEIF found a size in a truncated header")
	}
}

// TestParseHEIFTransform: an irot property (as iPhones write) means libheif
// rotates while decoding, so the EXIF orientation must not be applied again.
func TestParseHEIFTransform(t *testing.T) {
	bx := func(typ string, body ...[]byte) []byte {
		var b []byte
		for _, x := range body {
			b = append(b, x...)
		}
		n := 8 + len(b)
		return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), typ[0], typ[1], typ[2], typ[3]}, b...)
	}
	ispe := bx("ispe", []byte{0, 0, 0, 0, 0, 0, 0x0F, 0xC0, 0, 0, 0x0B, 0xD0}) // 4032x3024
	irot := bx("irot", []byte{1})
	file := append(bx("ftyp", []byte("heic\x00\x00\x00\x00mif1heic")),
		bx("meta", []byte{0, 0, 0, 0}, bx("iprp", bx("ipco", ispe, irot)))...)
	info, ok := parseHEIF(file)
	if !ok || info.Width != 4032 || info.Height != 3024 || !info.Transformed {
		t.Errorf("parseHEIF = %+v, %v; want 4032x3024 transformed", info, ok)
	}
}

// FuzzStripAndAnimation feeds arbitrary bytes to the metadata strippers
// (JPEG segments, PNG and WebP chunks) and the animation parsers (GIF
// blocks, WebP ANMF frames and their decoding onto a canvas). None may
// panic; a stripped file must strip to itself; an animation over small
// limits must be refused before its frames are decoded.
//
//	go test -run '^$' -fuzz '^FuzzStripAndAnimation$' -fuzztime 60s ./pipeline
func FuzzStripAndAnimation(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed", "*.*"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && filepath.Ext(s) != ".md" {
			f.Add(data)
		}
	}
	for _, data := range generatedSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, strip := range map[string]func([]byte) ([]byte, bool, bool){
			"jpeg": stripJPEG, "png": stripPNG, "webp": stripWebP,
		} {
			out, changed, ok := strip(data)
			if !ok || !changed {
				continue
			}
			again, changed2, ok2 := strip(out)
			if !ok2 || changed2 {
				t.Fatalf("%s: stripping the stripped file: ok %v changed %v", name, ok2, changed2)
			}
			_ = again
		}
		pngOrientation(data)
		webpOrientation(data)
		gifAnimInfo(data)
		lim := Limits{MaxPixels: 1 << 16, MaxSide: 512, MaxFrames: 8, MaxAnimationPixels: 1 << 18}.withDefaults()
		info, frames, err := webpAnimFrames(data, lim.MaxFrames)
		if err != nil || lim.checkAnim(info) != nil || len(frames) == 0 {
			return
		}
		if _, err := composeWebP(info, frames, frameTick(frames), io.Discard); err != nil && !Permanent(err) {
			t.Fatalf("compose: non-permanent error %v", err)
		}
	})
}
