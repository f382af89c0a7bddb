package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// exifTags reads every tag exiftool finds in a file, by group:name.
func exifTags(tb testing.TB, path string) map[string]any {
	tb.Helper()
	out, err := exec.Command("exiftool", "-j", "-G", "-a", "-n", path).Output()
	if err != nil {
		tb.Fatalf("exiftool %s: %v", path, err)
	}
	var v []map[string]any
	if err := json.Unmarshal(out, &v); err != nil || len(v) != 1 {
		tb.Fatalf("exiftool %s: %v %s", path, err, out)
	}
	return v[0]
}

// checkPrivate fails when a file still tells where or with what it was
// taken; it returns the tags.
func checkPrivate(tb testing.TB, path string) map[string]any {
	tb.Helper()
	tags := exifTags(tb, path)
	for k, v := range tags {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "gps") || strings.HasSuffix(lk, ":make") || strings.Contains(lk, "creator") ||
			strings.Contains(lk, "city") || strings.Contains(lk, "comment") || strings.Contains(lk, "location") {
			tb.Errorf("%s still has %s = %v", path, k, v)
		}
	}
	return tags
}

func TestOriginalStripped(t *testing.T) {
	for _, tc := range []struct {
		file, ct string
		// orientation the stripped file must keep (exiftool's number), 0
		// for none
		orientation float64
	}{
		{"gps-orient.jpg", TypeJPEG, 6},
		{"gps.jpg", TypeJPEG, 0},
		{"orient-6.png", TypePNG, 6},
		{"orient-6.webp", TypeWebP, 6},
		{"gps.heic", TypeHEIC, 6},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src := corpus(t, tc.file)
			before := exifTags(t, src)
			if _, ok := before["Composite:GPSPosition"]; !ok {
				t.Fatalf("corpus file has no GPS position to remove: %v", before)
			}
			res := mustProcess(t, KindImage, src, Limits{})
			o := output(t, res, OutputOriginal)
			if o.ContentType != tc.ct {
				t.Errorf("content type %s, want %s", o.ContentType, tc.ct)
			}
			if st, err := os.Stat(o.Path); err != nil || st.Size() != o.Size {
				t.Errorf("size: %v, Output says %d", err, o.Size)
			}
			tags := checkPrivate(t, o.Path)
			got, _ := tags["EXIF:Orientation"].(float64)
			if tc.ct == TypeHEIC {
				got, _ = tags["IFD0:Orientation"].(float64)
				if got == 0 {
					got, _ = tags["EXIF:Orientation"].(float64)
				}
			}
			if got != tc.orientation && !(tc.orientation == 0 && got == 1) {
				t.Errorf("orientation %v, want %v (tags %v)", got, tc.orientation, tags)
			}
			// A second pass finds the same image: decodable, same size.
			again := mustProcess(t, KindImage, o.Path, Limits{})
			if again.Width != res.Width || again.Height != res.Height || again.Blurhash != res.Blurhash {
				t.Errorf("stripped original shows %dx%d %s, the upload %dx%d %s",
					again.Width, again.Height, again.Blurhash, res.Width, res.Height, res.Blurhash)
			}
			for _, o := range again.Outputs {
				if o.Name == OutputOriginal && tc.ct != TypeHEIC {
					t.Errorf("stripping a stripped %s removed something again", tc.ct)
				}
			}
		})
	}
}

// TestOriginalJPEGNotReencoded: stripping drops segments, never touches
// the coded image: both files decode to the same pixels, and the scan data
// is there byte for byte.
func TestOriginalJPEGNotReencoded(t *testing.T) {
	src := corpus(t, "gps-orient.jpg")
	res := mustProcess(t, KindImage, src, Limits{})
	in, _ := os.ReadFile(src)
	out, _ := os.ReadFile(output(t, res, OutputOriginal).Path)
	if len(out) >= len(in) {
		t.Errorf("stripped %d bytes, upload %d: nothing removed", len(out), len(in))
	}
	sos := bytes.Index(in, []byte{0xFF, 0xDA})
	if sos < 0 || !bytes.Contains(out, in[sos:]) {
		t.Error("scan data of the upload not found in the stripped original")
	}
	a, err1 := jpeg.Decode(bytes.NewReader(in))
	b, err2 := jpeg.Decode(bytes.NewReader(out))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(a.(*image.YCbCr).Y, b.(*image.YCbCr).Y) {
		t.Error("pixels differ")
	}
}

func TestOriginalJPEGKeepsICC(t *testing.T) {
	icc := append([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte{7}, 100)...)
	seg := func(marker byte, body []byte) []byte {
		return append([]byte{0xFF, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	}
	in, err := os.ReadFile(corpus(t, "gps.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	withICC := append(append(append([]byte{}, in[:2]...), seg(0xE2, icc)...), in[2:]...)
	withICC = append(withICC, []byte("trailer with secrets")...)
	out, changed, ok := stripJPEG(withICC)
	if !ok || !changed {
		t.Fatalf("ok %v changed %v", ok, changed)
	}
	if !bytes.Contains(out, icc) {
		t.Error("ICC profile dropped")
	}
	if bytes.Contains(out, []byte("ParleyCam")) || bytes.Contains(out, []byte("trailer")) {
		t.Error("metadata or trailer kept")
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Error(err)
	}
}

func TestOriginalKeepMetadata(t *testing.T) {
	res := mustProcess(t, KindImage, corpus(t, "gps-orient.jpg"), Limits{KeepMetadata: true})
	for _, o := range res.Outputs {
		if o.Name == OutputOriginal {
			t.Errorf("KeepMetadata: got an %s output", o.Name)
		}
	}
}

// TestOrientationPNGWebP: PNG eXIf and WebP EXIF orientation is applied to
// the preview like JPEG's.
func TestOrientationPNGWebP(t *testing.T) {
	for _, f := range []string{"orient-6.png", "orient-6.webp"} {
		t.Run(f, func(t *testing.T) {
			res := mustProcess(t, KindImage, corpus(t, f), Limits{})
			if res.Width != 600 || res.Height != 400 {
				t.Errorf("displayed %dx%d, want 600x400", res.Width, res.Height)
			}
			checkQuadrants(t, "preview", readJPEG(t, output(t, res, OutputPreview)), 60)
		})
	}
}

// TestOriginalVideoStripped: a MOV or MP4 with QuickTime location is
// remuxed without it; streams and rotation survive.
func TestOriginalVideoStripped(t *testing.T) {
	for _, tc := range []struct {
		file, ct string
		rotation int
	}{{"location.mov", TypeMOV, 90}, {"location.mp4", TypeMP4, 0}} {
		t.Run(tc.file, func(t *testing.T) {
			src := corpus(t, tc.file)
			if _, ok := exifTags(t, src)["Composite:GPSPosition"]; !ok {
				t.Fatal("corpus file has no location to remove")
			}
			outs, err := Playback(context.Background(), src, t.TempDir(), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			o := outputOf(t, outs, OutputOriginal)
			if o.ContentType != tc.ct {
				t.Errorf("content type %s, want %s", o.ContentType, tc.ct)
			}
			checkPrivate(t, o.Path)
			pin, err := runProbe(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			pout, err := runProbe(context.Background(), o.Path)
			if err != nil {
				t.Fatal(err)
			}
			if r := pout.video().rotation(); r != tc.rotation {
				t.Errorf("rotation %d, want %d", r, tc.rotation)
			}
			if pout.video().CodecName != pin.video().CodecName || len(pout.Streams) != len(pin.Streams) {
				t.Errorf("streams %+v, upload %+v", pout.Streams, pin.Streams)
			}
		})
	}
}

func outputOf(tb testing.TB, outs []Output, name string) Output {
	tb.Helper()
	return output(tb, &Result{Outputs: outs}, name)
}
