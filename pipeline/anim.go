package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"strconv"

	"golang.org/x/image/webp"
)

// Animated GIF and WebP become a silent H.264 MP4 (the `animation` output)
// that clients play muted in a loop, as every chat app does with GIFs: a
// 3 MB GIF is typically a 300 KB MP4, and phones decode H.264 in hardware.
// The first frame still makes the preview, thumbnail, poster and blurhash.
//
// A GIF or WebP bomb (thousands of frames, or a huge canvas repeated many
// times) is refused before any frame is decoded: the frame count and the
// canvas are read from the container's own structure, which costs no
// decoding, and checked against Limits.MaxFrames and
// Limits.MaxAnimationPixels (frames × canvas pixels).

// animInfo is what the container says about an animation.
type animInfo struct {
	width, height int
	frames        int
	durationMS    int64
}

// gifAnimInfo walks a GIF's blocks (skipping the LZW data, never decoding
// it) to count its frames and add up their delays. ok is false when the
// block structure is broken before the first frame.
func gifAnimInfo(data []byte) (info animInfo, ok bool) {
	if len(data) < 13 || !(bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a"))) {
		return info, false
	}
	info.width = int(binary.LittleEndian.Uint16(data[6:]))
	info.height = int(binary.LittleEndian.Uint16(data[8:]))
	i := 13
	if data[10]&0x80 != 0 { // global colour table
		i += 3 << (data[10]&0x07 + 1)
	}
	delay := 0
	skipSubBlocks := func() bool {
		for {
			if i >= len(data) {
				return false
			}
			n := int(data[i])
			i++
			if n == 0 {
				return true
			}
			i += n
		}
	}
	for i < len(data) {
		switch data[i] {
		case 0x21: // extension
			if i+2 > len(data) {
				return info, info.frames > 0
			}
			if data[i+1] == 0xF9 && i+8 <= len(data) { // graphic control
				delay = int(binary.LittleEndian.Uint16(data[i+4:]))
			}
			i += 2
			if !skipSubBlocks() {
				return info, info.frames > 0
			}
		case 0x2C: // image descriptor
			if i+10 > len(data) {
				return info, info.frames > 0
			}
			flags := data[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&0x07 + 1)
			}
			i++ // LZW minimum code size
			if !skipSubBlocks() {
				return info, info.frames > 0
			}
			info.frames++
			// Browsers show delays under 2 cs as 10 cs; so does ffmpeg.
			if delay < 2 {
				delay = 10
			}
			info.durationMS += int64(delay) * 10
			delay = 0
		case 0x3B: // trailer
			return info, info.frames > 0
		default:
			return info, info.frames > 0
		}
	}
	return info, info.frames > 0
}

// webpFrame is one ANMF chunk of an animated WebP.
type webpFrame struct {
	x, y, w, h int
	durationMS int
	blend      bool // alpha-blend onto the canvas (else replace)
	dispose    bool // clear the frame's rectangle after showing it
	alph, data []byte
	lossless   bool
}

// webpAnimFrames reads the canvas and the frames of an animated WebP
// without decoding any.
func webpAnimFrames(data []byte, maxFrames int) (info animInfo, frames []webpFrame, err error) {
	ok := walkWebP(data, func(typ string, body []byte) bool {
		switch typ {
		case "VP8X":
			if len(body) >= 10 {
				info.width = 1 + int(uint32(body[4])|uint32(body[5])<<8|uint32(body[6])<<16)
				info.height = 1 + int(uint32(body[7])|uint32(body[8])<<8|uint32(body[9])<<16)
			}
		case "ANMF":
			info.frames++
			if info.frames > maxFrames || len(body) < 16 {
				return info.frames <= maxFrames
			}
			u24 := func(b []byte) int { return int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16) }
			f := webpFrame{
				x: 2 * u24(body[0:]), y: 2 * u24(body[3:]),
				w: 1 + u24(body[6:]), h: 1 + u24(body[9:]),
				durationMS: u24(body[12:]),
				blend:      body[15]&0x02 == 0,
				dispose:    body[15]&0x01 != 0,
			}
			sub := body[16:]
			for len(sub) >= 8 {
				n := int(binary.LittleEndian.Uint32(sub[4:]))
				if n < 0 || n > len(sub)-8 {
					break
				}
				switch string(sub[:4]) {
				case "ALPH":
					f.alph = sub[:8+n]
				case "VP8 ":
					f.data = sub[:8+n]
				case "VP8L":
					f.data, f.lossless = sub[:8+n], true
				}
				sub = sub[min(len(sub), 8+n+n&1):]
			}
			if f.durationMS < 20 { // as browsers do
				f.durationMS = 100
			}
			info.durationMS += int64(f.durationMS)
			frames = append(frames, f)
		}
		return true
	})
	switch {
	case !ok:
		return info, nil, errorf(ErrCorrupt, "webp: broken chunk structure")
	case info.width == 0:
		return info, nil, errorf(ErrCorrupt, "webp: animation without VP8X canvas")
	}
	return info, frames, nil
}

// checkAnim applies the animation limits to what the container says.
func (l Limits) checkAnim(info animInfo) error {
	if err := l.checkDims(info.width, info.height); err != nil {
		return err
	}
	if info.frames > l.MaxFrames {
		return errorf(ErrTooLarge, "animation of %d frames, over %d", info.frames, l.MaxFrames)
	}
	if px := int64(info.width) * int64(info.height) * int64(info.frames); px > l.MaxAnimationPixels {
		return errorf(ErrTooLarge, "animation of %d frames of %dx%d: %d pixels in all, over %d",
			info.frames, info.width, info.height, px, l.MaxAnimationPixels)
	}
	return nil
}

// animScale is the filter that fits an animation's frames into PreviewSide
// without upscaling, on even dimensions as yuv420p needs.
func animScale() string {
	box := strconv.Itoa(PreviewSide)
	return "scale='min(" + box + ",iw)':'min(" + box + ",ih)':force_original_aspect_ratio=decrease:force_divisible_by=2"
}

// x264Animation are the encoder settings of the animation output: a
// constant-quality H.264 High stream in a faststart MP4, no audio.
func x264Animation() []string {
	return []string{"-an", "-sn", "-dn", "-map_metadata", "-1",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-level:v", "4.1",
		"-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"}
}

// gifToMP4 converts an animated GIF with ffmpeg, keeping each frame's delay.
// Transparency is flattened onto white, as the previews are: the negate,
// premultiply, negate sequence computes c·a + 255·(1−a).
func gifToMP4(ctx context.Context, src, dst string) error {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "2",
		"-f", "gif", "-i", ffInput(src), "-map", "0:v:0", "-fps_mode", "vfr",
		"-vf", "format=rgba,negate,premultiply=inplace=1,negate," + animScale()}
	args = append(args, x264Animation()...)
	return ffmpegOut(ctx, append(args, "-y", ffOutput(dst)))
}

// webpToMP4 decodes an animated WebP frame by frame in Go (ffmpeg 5.1 reads
// only still WebP), composes each frame on the canvas as the format says
// (blend or replace, dispose or keep), and pipes the canvas flattened onto
// white into ffmpeg at a fixed rate: each frame is repeated for as many
// ticks as its duration lasts. It returns the first frame for the poster.
func webpToMP4(ctx context.Context, info animInfo, frames []webpFrame, dst string) (*image.NRGBA, error) {
	tick := frameTick(frames)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "2",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", info.width, info.height),
		"-framerate", fmt.Sprintf("1000/%d", tick), "-i", "pipe:0", "-vf", animScale()}
	args = append(args, x264Animation()...)
	cmd, stderr := command(ctx, "ffmpeg", append(args, "-y", ffOutput(dst))...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, commandError(ctx, "ffmpeg", err, stderr)
	}
	first, werr := composeWebP(info, frames, tick, stdin)
	stdin.Close()
	if werr != nil {
		_ = cmd.Process.Kill()
	}
	err = commandError(ctx, "ffmpeg", cmd.Wait(), stderr)
	if werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, fmt.Errorf("animation: %w", err)
	}
	return first, nil
}

// frameTick is the frame duration (ms) of the fixed-rate stream: the
// greatest common divisor of the frame durations, at least 20 ms (50 fps).
func frameTick(frames []webpFrame) int {
	g := 0
	for _, f := range frames {
		a, b := f.durationMS, g
		for b != 0 {
			a, b = b, a%b
		}
		g = a
	}
	return max(20, g)
}

// composeWebP decodes the frames onto the canvas and writes each shown
// canvas to w as rgb24 rows, once per tick of its duration.
func composeWebP(info animInfo, frames []webpFrame, tick int, w io.Writer) (*image.NRGBA, error) {
	canvas := image.NewNRGBA(image.Rect(0, 0, info.width, info.height))
	bw := bufio.NewWriterSize(w, 1<<20)
	row := make([]byte, 3*info.width)
	var first *image.NRGBA
	for n, f := range frames {
		img, err := decodeWebPFrame(f)
		if err != nil {
			return nil, errorf(ErrCorrupt, "webp frame %d: %w", n, err)
		}
		r := image.Rect(f.x, f.y, f.x+f.w, f.y+f.h)
		if !r.In(canvas.Rect) || img.Bounds().Size() != r.Size() {
			return nil, errorf(ErrCorrupt, "webp frame %d: %v outside the %dx%d canvas", n, r, info.width, info.height)
		}
		op := draw.Src
		if f.blend {
			op = draw.Over
		}
		draw.Draw(canvas, r, img, img.Bounds().Min, op)
		flat := flatten(cloneNRGBA(canvas), info.width, info.height)
		if first == nil {
			first = flat
		}
		for k := max(1, (f.durationMS+tick/2)/tick); k > 0; k-- {
			for y := 0; y < info.height; y++ {
				p := flat.Pix[y*flat.Stride:]
				for x := 0; x < info.width; x++ {
					row[3*x], row[3*x+1], row[3*x+2] = p[4*x], p[4*x+1], p[4*x+2]
				}
				if _, err := bw.Write(row); err != nil {
					return nil, fmt.Errorf("animation: write frame: %w", err)
				}
			}
		}
		if f.dispose {
			draw.Draw(canvas, r, image.Transparent, image.Point{}, draw.Src)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("animation: write frame: %w", err)
	}
	return first, nil
}

func cloneNRGBA(m *image.NRGBA) *image.NRGBA {
	c := *m
	c.Pix = append([]byte(nil), m.Pix...)
	return &c
}

// decodeWebPFrame wraps one frame's bitstream in a still WebP file that
// x/image/webp decodes: VP8L alone, VP8 alone, or VP8X+ALPH+VP8 for lossy
// frames with alpha.
func decodeWebPFrame(f webpFrame) (image.Image, error) {
	if f.data == nil {
		return nil, fmt.Errorf("no image data")
	}
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WEBP")
	if f.alph != nil && !f.lossless {
		vp8x := make([]byte, 10)
		vp8x[0] = 0x10 // alpha
		putU24 := func(p []byte, v int) { p[0], p[1], p[2] = byte(v), byte(v>>8), byte(v>>16) }
		putU24(vp8x[4:], f.w-1)
		putU24(vp8x[7:], f.h-1)
		writeWebPChunk(&b, "VP8X", vp8x)
		b.Write(f.alph)
		if len(f.alph)&1 == 1 {
			b.WriteByte(0)
		}
	}
	b.Write(f.data)
	if len(f.data)&1 == 1 {
		b.WriteByte(0)
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	// The bitstream states its own size: check it is the frame's (and so
	// within the checked canvas) before decoding a pixel.
	cfg, err := webp.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	if cfg.Width != f.w || cfg.Height != f.h {
		return nil, fmt.Errorf("bitstream is %dx%d, frame %dx%d", cfg.Width, cfg.Height, f.w, f.h)
	}
	return webp.Decode(bytes.NewReader(out))
}

// processAnimation writes the animation output of an animated GIF or WebP
// (info already checked) and returns the first frame for the poster. GIF's
// first frame comes from decodeImage like any still GIF.
func processAnimation(ctx context.Context, ct string, data []byte, src, outDir string, info animInfo, frames []webpFrame) (Output, *image.NRGBA, error) {
	f, err := os.CreateTemp(outDir, ".animation-*")
	if err != nil {
		return Output{}, nil, err
	}
	tmp := f.Name()
	f.Close()
	var first *image.NRGBA
	if ct == TypeGIF {
		if src == "" {
			return Output{}, nil, fmt.Errorf("animation: gif needs a source file")
		}
		err = gifToMP4(ctx, src, tmp)
	} else {
		first, err = webpToMP4(ctx, info, frames, tmp)
	}
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(tmp); err == nil {
			size = st.Size()
		}
	}
	path, err := commitOutput(tmp, outDir, OutputAnimation+".mp4", err)
	if err != nil {
		return Output{}, nil, err
	}
	w, h := fit(info.width, info.height, PreviewSide)
	return Output{Name: OutputAnimation, Path: path, ContentType: TypeMP4, Size: size, Width: w &^ 1, Height: h &^ 1}, first, nil
}
