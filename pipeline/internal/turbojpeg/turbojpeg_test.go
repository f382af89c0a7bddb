package turbojpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScaleFor(t *testing.T) {
	for _, tc := range []struct {
		w, h, minW, minH int
		want             Scale
	}{
		{4032, 3024, 1280, 1, Scale{3, 8}}, // 1512x1134
		{3024, 4032, 1, 1280, Scale{3, 8}},
		{2000, 1500, 1280, 1, Scale{3, 4}}, // 1500x1125
		{1000, 800, 1000, 1, Scale{1, 1}},
		{8000, 6000, 320, 1, Scale{1, 8}},
	} {
		got := ScaleFor(tc.w, tc.h, tc.minW, tc.minH)
		if got.Num*tc.want.Denom != tc.want.Num*got.Denom {
			t.Errorf("ScaleFor(%d, %d, %d, %d) = %v, want %v", tc.w, tc.h, tc.minW, tc.minH, got, tc.want)
		}
		if got.Scaled(tc.w) < tc.minW || got.Scaled(tc.h) < tc.minH {
			t.Errorf("ScaleFor(%d, %d, ...) = %v gives %dx%d", tc.w, tc.h, got, got.Scaled(tc.w), got.Scaled(tc.h))
		}
	}
}

func TestDecodeEncode(t *testing.T) {
	data := testJPEG(t, 400, 300)
	hdr, err := ReadHeader(data)
	if err != nil || hdr.Width != 400 || hdr.Height != 300 {
		t.Fatalf("ReadHeader = %+v, %v", hdr, err)
	}
	img, err := Decode(data, Scale{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 150 {
		t.Fatalf("decoded at 1/2: %v", b)
	}
	c := img.NRGBAAt(199, 149)
	if c.A != 255 || c.R < 230 || c.G < 230 {
		t.Errorf("bottom-right pixel %v, want opaque yellow-ish", c)
	}
	out, err := Encode(img, 80)
	if err != nil {
		t.Fatal(err)
	}
	back, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Go cannot read our JPEG: %v", err)
	}
	if b := back.Bounds(); b.Dx() != 200 || b.Dy() != 150 {
		t.Errorf("re-decoded %v", b)
	}
	if bytes.Contains(out, []byte("Exif")) {
		t.Error("encoder wrote EXIF")
	}
}

func TestDecodeDamaged(t *testing.T) {
	data := testJPEG(t, 400, 300)
	if _, err := Decode(data[:len(data)/2], Scale{1, 1}); !errors.Is(err, ErrWarning) {
		t.Errorf("truncated: got %v, want ErrWarning", err)
	}
	if _, err := Decode([]byte("not a jpeg"), Scale{1, 1}); err == nil || errors.Is(err, ErrWarning) {
		t.Errorf("garbage: got %v, want a fatal error", err)
	}
	if _, err := ReadHeader(nil); err == nil {
		t.Error("empty input accepted")
	}
	if _, err := Encode(image.NewNRGBA(image.Rect(0, 0, 0, 0)), 80); err == nil {
		t.Error("empty image encoded")
	}
}
