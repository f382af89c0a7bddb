package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"

	"github.com/parley-chat/parley/pipeline/internal/turbojpeg"
)

// Sizes and quality of the image outputs.
const (
	PreviewSide   = 1280 // long side of the preview and the poster, px
	ThumbnailSide = 320  // long side of the thumbnail, px
	JPEGQuality   = 80
	blurhashSide  = 32 // long side of the copy the blurhash is computed on
)

// decoded is an image ready for resizing: opaque (flattened onto white),
// bounds at (0,0), possibly already reduced in the JPEG decoder, not yet
// oriented.
type decoded struct {
	img         *image.NRGBA
	width       int // stored size of the source, before orientation
	height      int
	orientation int // EXIF 1–8, still to apply
}

// decodeImage decodes an image of content type ct for a preview whose long
// side is at most side px. Its dimensions are checked against lim before any
// pixel is decoded. src names the file for decoders that need one (HEIF); it
// may be empty.
func decodeImage(ctx context.Context, ct string, data []byte, src string, lim Limits, side int) (*decoded, error) {
	if len(data) == 0 {
		return nil, errorf(ErrCorrupt, "empty file")
	}
	switch ct {
	case TypeJPEG:
		return decodeJPEG(data, lim, side, true)
	case TypePNG, TypeGIF, TypeWebP:
		return decodeStd(ct, data, lim)
	case TypeHEIC, TypeHEIF, TypeAVIF:
		return decodeHEIF(ctx, data, src, lim, side)
	}
	return nil, errorf(ErrUnsupported, "%s is not an image format", ct)
}

func decodeJPEG(data []byte, lim Limits, side int, useEXIF bool) (*decoded, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errorf(ErrCorrupt, "jpeg header: %w", err)
	}
	if err := lim.checkDims(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	d := &decoded{width: cfg.Width, height: cfg.Height, orientation: 1}
	if useEXIF {
		d.orientation = jpegOrientation(data)
	}
	// Decode in libjpeg-turbo's IDCT at the smallest scale that still
	// leaves the long side at least `side` px: 3/8 for a 12 MP photo.
	minW, minH := 1, 1
	if cfg.Width >= cfg.Height {
		minW = min(cfg.Width, side)
	} else {
		minH = min(cfg.Height, side)
	}
	img, err := turbojpeg.Decode(data, turbojpeg.ScaleFor(cfg.Width, cfg.Height, minW, minH))
	if err == nil {
		d.img = img
		return d, nil
	}
	// A warning (damaged data) or a colour space libjpeg-turbo will not
	// convert to RGB (CMYK): let Go's stricter decoder decide. It refuses
	// truncated files and handles CMYK/YCCK.
	std, gerr := jpeg.Decode(bytes.NewReader(data))
	if gerr != nil {
		if errors.Is(err, turbojpeg.ErrWarning) {
			return nil, errorf(ErrCorrupt, "jpeg: %v; %w", err, gerr)
		}
		return nil, errorf(ErrCorrupt, "jpeg: %w", gerr)
	}
	d.img = flatten(std, cfg.Width, cfg.Height)
	return d, nil
}

// decodeStd decodes PNG, GIF (first frame) and still WebP with Go's decoders.
func decodeStd(ct string, data []byte, lim Limits) (*decoded, error) {
	var (
		cfg image.Config
		err error
	)
	switch ct {
	case TypePNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case TypeGIF:
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	case TypeWebP:
		if webpAnimated(data) {
			// processImage decodes animations itself; a caller that only
			// wants a still (the fuzz target) gets a clear refusal.
			return nil, errorf(ErrUnsupported, "animated WebP")
		}
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, errorf(ErrCorrupt, "%s header: %w", ct, err)
	}
	if err := lim.checkDims(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	var img image.Image
	switch ct {
	case TypePNG:
		img, err = png.Decode(bytes.NewReader(data))
	case TypeGIF:
		img, err = gif.Decode(bytes.NewReader(data)) // first frame only
	case TypeWebP:
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, errorf(ErrCorrupt, "%s: %w", ct, err)
	}
	if b := img.Bounds(); b.Max.X > cfg.Width || b.Max.Y > cfg.Height || b.Min.X < 0 || b.Min.Y < 0 {
		return nil, errorf(ErrCorrupt, "%s: frame %v outside the %dx%d canvas", ct, b, cfg.Width, cfg.Height)
	}
	o := 1
	switch ct {
	case TypePNG:
		o = pngOrientation(data)
	case TypeWebP:
		o = webpOrientation(data)
	}
	return &decoded{img: flatten(img, cfg.Width, cfg.Height), width: cfg.Width, height: cfg.Height, orientation: o}, nil
}

// webpAnimated reports whether a WebP's VP8X header sets the animation flag.
// Go's decoder reads still images only.
func webpAnimated(data []byte) bool {
	return len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0
}

func decodeHEIF(ctx context.Context, data []byte, src string, lim Limits, side int) (*decoded, error) {
	info, ok := parseHEIF(data)
	if !ok {
		return nil, errorf(ErrCorrupt, "heif: no image size (ispe) found")
	}
	if err := lim.checkDims(info.Width, info.Height); err != nil {
		return nil, err
	}
	if src == "" {
		f, err := os.CreateTemp("", "parley-*.heic")
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		src = f.Name()
	}
	jpg, err := heifToJPEG(ctx, src)
	if err != nil {
		return nil, err
	}
	return decodeJPEG(jpg, lim, side, !info.Transformed)
}

// flatten composites img onto white in a w×h canvas whose bounds start at
// (0,0): transparency becomes white (as chat clients show it) and
// go-blurhash, which assumes both, reads it right. A decoded NRGBA or RGBA
// image of the canvas' size is flattened in place, so a 50 MP PNG costs one
// pixel buffer, not two.
func flatten(img image.Image, w, h int) *image.NRGBA {
	full := image.Rect(0, 0, w, h)
	switch m := img.(type) {
	case *image.NRGBA:
		if m.Rect == full {
			for i := 0; i+3 < len(m.Pix); i += 4 {
				if a := uint32(m.Pix[i+3]); a != 0xFF {
					bg := (0xFF - a) * 0xFF
					m.Pix[i] = uint8((uint32(m.Pix[i])*a + bg + 127) / 0xFF)
					m.Pix[i+1] = uint8((uint32(m.Pix[i+1])*a + bg + 127) / 0xFF)
					m.Pix[i+2] = uint8((uint32(m.Pix[i+2])*a + bg + 127) / 0xFF)
					m.Pix[i+3] = 0xFF
				}
			}
			return m
		}
	case *image.RGBA:
		if m.Rect == full {
			for i := 0; i+3 < len(m.Pix); i += 4 {
				if a := m.Pix[i+3]; a != 0xFF {
					// Premultiplied: adding the white that shows through
					// cannot overflow, since each channel is at most alpha.
					m.Pix[i] += 0xFF - a
					m.Pix[i+1] += 0xFF - a
					m.Pix[i+2] += 0xFF - a
					m.Pix[i+3] = 0xFF
				}
			}
			return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
	}
	dst := image.NewRGBA(full)
	for i := range dst.Pix {
		dst.Pix[i] = 0xFF
	}
	b := img.Bounds()
	draw.Draw(dst, b.Sub(b.Min).Add(image.Pt(max(b.Min.X, 0), max(b.Min.Y, 0))), img, b.Min, draw.Over)
	// Every pixel is opaque now, so premultiplied and straight alpha agree.
	return &image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}
}

// fit returns w×h scaled down so that its long side is at most side,
// keeping the aspect ratio; never scaled up.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, (h*side+w/2)/w)
	}
	return max(1, (w*side+h/2)/h), side
}

// resize returns img at w×h (img itself when it is that size already).
//
// Shrinking by more than half uses CatmullRom, which matches Lanczos at SSIM
// 0.993 for ~10% less time. A milder step, like the last 1512 -> 1280 px of
// a 12 MP JPEG after libjpeg-turbo decoded it at 3/8 scale, uses Linear:
// measured on the benchmark photo it stays within 42.8 dB PSNR of Lanczos
// (CatmullRom: 49.3 dB) in 60% of the time (27 ms against 46 ms).
func resize(img *image.NRGBA, w, h int) *image.NRGBA {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return img
	}
	filter := imaging.CatmullRom
	if 2*w >= b.Dx() && 2*h >= b.Dy() {
		filter = imaging.Linear
	}
	return imaging.Resize(img, w, h, filter)
}

// orient applies EXIF orientation o to img, so it shows upright.
func orient(img *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // 90° clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img) // 90° counter-clockwise
	}
	return img
}

// swapsSides reports whether orientation o turns the image by 90°.
func swapsSides(o int) bool { return o >= 5 && o <= 8 }

// renditions are the image outputs, computed from a decoded image.
type renditions struct {
	preview, thumbnail *image.NRGBA
	blurhash           string
	width, height      int // as displayed
}

// render resizes, orients, thumbnails and hashes a decoded image. The
// orientation is applied to the preview rather than the full image: rotating
// 1280 px costs a fraction of rotating 12 MP.
func render(d *decoded) (*renditions, error) {
	pw, ph := fit(d.width, d.height, PreviewSide)
	preview := orient(resize(d.img, pw, ph), d.orientation)
	r := &renditions{preview: preview, width: d.width, height: d.height}
	if swapsSides(d.orientation) {
		r.width, r.height = d.height, d.width
	}
	b := preview.Bounds()
	tw, th := fit(b.Dx(), b.Dy(), ThumbnailSide)
	r.thumbnail = resize(preview, tw, th)
	hash, err := blurhashOf(r.thumbnail)
	if err != nil {
		return nil, err
	}
	r.blurhash = hash
	return r, nil
}

// processImage writes the preview and thumbnail of an image into outDir.
// An animated GIF or WebP also gets its animation and a poster (both of
// the first frame, like the preview); unless lim.KeepMetadata, an image
// whose metadata could be removed gets its stripped original.
func processImage(ctx context.Context, ct string, data []byte, src, outDir string, lim Limits, res *Result) error {
	var d *decoded
	anim, frames, err := animationOf(ct, data, lim)
	if err != nil {
		return err
	}
	if anim != nil {
		out, first, err := processAnimation(ctx, ct, data, src, outDir, *anim, frames)
		if err != nil {
			return err
		}
		res.Outputs = append(res.Outputs, out)
		res.Animated, res.FrameCount, res.DurationMS = true, anim.frames, anim.durationMS
		if first != nil {
			d = &decoded{img: first, width: anim.width, height: anim.height, orientation: 1}
		}
	}
	if d == nil {
		if d, err = decodeImage(ctx, ct, data, src, lim, PreviewSide); err != nil {
			return err
		}
	}
	r, err := render(d)
	if err != nil {
		return err
	}
	res.Width, res.Height, res.Blurhash = r.width, r.height, r.blurhash
	outs := []namedImage{{OutputPreview, r.preview}, {OutputThumbnail, r.thumbnail}}
	if anim != nil {
		outs = append(outs, namedImage{OutputPoster, r.preview})
	}
	return writeImageOutputs(ctx, ct, data, src, outDir, lim, res, outs)
}

// namedImage is one JPEG output of an image job: its output name and pixels.
type namedImage struct {
	name string
	img  *image.NRGBA
}

// writeImageOutputs writes outs as JPEGs and, unless lim keeps metadata,
// the stripped original, appending each to res.Outputs.
func writeImageOutputs(ctx context.Context, ct string, data []byte, src, outDir string, lim Limits, res *Result, outs []namedImage) error {
	for _, o := range outs {
		out, err := writeJPEG(outDir, o.name, o.img)
		if err != nil {
			return err
		}
		res.Outputs = append(res.Outputs, out)
	}
	if !lim.KeepMetadata {
		out, ok, err := stripImage(ctx, ct, data, src, outDir)
		if err != nil {
			return err
		}
		if ok {
			out.Width, out.Height = res.Width, res.Height
			res.Outputs = append(res.Outputs, out)
		}
	}
	return nil
}

// animationOf returns the animation an image holds, checked against lim,
// or nil for a still image (a one-frame GIF or WebP included).
func animationOf(ct string, data []byte, lim Limits) (*animInfo, []webpFrame, error) {
	switch {
	case ct == TypeGIF:
		info, ok := gifAnimInfo(data)
		if !ok || info.frames < 2 {
			return nil, nil, nil // decodeImage says what is wrong with it
		}
		return &info, nil, lim.checkAnim(info)
	case ct == TypeWebP && webpAnimated(data):
		info, frames, err := webpAnimFrames(data, lim.MaxFrames)
		if err != nil {
			return nil, nil, err
		}
		if err := lim.checkAnim(info); err != nil {
			return nil, nil, err
		}
		if len(frames) == 0 {
			return nil, nil, errorf(ErrCorrupt, "animated webp without frames")
		}
		return &info, frames, nil
	}
	return nil, nil, nil
}

// writeJPEG encodes img at JPEGQuality into outDir/name.jpg. The encoder
// writes no metadata: nothing of the source's EXIF (GPS) reaches an output.
func writeJPEG(outDir, name string, img *image.NRGBA) (Output, error) {
	buf, err := turbojpeg.Encode(img, JPEGQuality)
	if err != nil {
		return Output{}, fmt.Errorf("encode %s: %w", name, err)
	}
	path, err := writeOutput(outDir, name+".jpg", buf)
	if err != nil {
		return Output{}, err
	}
	b := img.Bounds()
	return Output{Name: name, Path: path, ContentType: TypeJPEG, Size: int64(len(buf)), Width: b.Dx(), Height: b.Dy()}, nil
}
