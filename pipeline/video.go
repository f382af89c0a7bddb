package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"strconv"
	"time"
)

// posterAt is when the poster frame is taken: min(1 s, 10% of the duration).
func posterAt(d time.Duration) time.Duration { return min(time.Second, d/10) }

// processVideo probes a video for its duration, codecs and displayed size and
// writes a poster frame into outDir. MP4, MOV and 3GP are probed in Go
// (probeISO) before ffmpeg starts. Other containers need ffprobe: to keep
// its start-up off the critical path, the poster is extracted at the
// guessed 1 s while ffprobe runs, and taken again at 10% of the duration
// when the video turns out shorter than 10 s.
func processVideo(ctx context.Context, src, outDir string, lim Limits, res *Result, pr *probe) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type frame struct {
		img *image.NRGBA
		err error
	}
	if pr == nil {
		pr, _ = probeISO(src) // instant for MP4/MOV/3GP; nil otherwise
	}
	guess := time.Second
	specCtx, specCancel := context.WithCancel(ctx)
	defer specCancel()
	var first chan frame
	if pr == nil {
		first = make(chan frame, 1)
		go func() {
			img, err := extractFrame(specCtx, src, guess, lim)
			first <- frame{img, err}
		}()
		var err error
		pr, err = runProbe(ctx, src)
		if err != nil {
			return err
		}
	}
	v, err := checkVideoProbe(pr, lim, res)
	if err != nil {
		return err // the deferred specCancel kills the speculative ffmpeg
	}
	at := posterAt(pr.duration(v))
	var img *image.NRGBA
	if first != nil && at == guess {
		f := <-first
		img, err = f.img, f.err
	} else {
		if first != nil {
			specCancel()
			<-first
		}
		img, err = extractFrame(ctx, src, at, lim)
	}
	if errors.Is(err, errNoFrame) && at > 0 {
		img, err = extractFrame(ctx, src, 0, lim) // seek past the last frame
	}
	if err != nil {
		return err
	}
	hash, err := blurhashOf(img)
	if err != nil {
		return err
	}
	res.Blurhash = hash
	out, err := writeJPEG(outDir, OutputPoster, img)
	if err != nil {
		return err
	}
	res.Outputs = append(res.Outputs, out)
	return nil
}

// checkVideoProbe fills res from the probe and refuses what is not a video
// or is over the limits.
func checkVideoProbe(p *probe, lim Limits, res *Result) (*probeStream, error) {
	if len(p.Streams) == 0 {
		return nil, errorf(ErrCorrupt, "no streams")
	}
	v := p.video()
	if v == nil {
		return nil, errorf(ErrUnsupported, "no video stream")
	}
	if err := lim.checkDims(v.Width, v.Height); err != nil {
		return nil, err
	}
	d := p.duration(v)
	if err := lim.checkDuration(d); err != nil {
		return nil, err
	}
	res.VideoCodec = v.CodecName
	if a := p.audio(); a != nil {
		res.AudioCodec = a.CodecName
	}
	res.DurationMS = d.Milliseconds()
	res.Width, res.Height = v.Width, v.Height
	if n, d := v.sar(); n != d {
		res.Width = max(1, (v.Width*n+d/2)/d)
	}
	if r := v.rotation(); r == 90 || r == 270 {
		res.Width, res.Height = v.Height, v.Width
	}
	return v, nil
}

// squarePixels stretches a frame stored with non-square pixels (anamorphic
// DV, some screen recorders) to its displayed width; with square pixels
// the scale filter passes frames through untouched.
const squarePixels = "scale='iw*sar':'ih',setsar=1"

// errNoFrame is returned by extractFrame when ffmpeg decoded no frame at the
// requested time.
var errNoFrame = errors.New("no frame")

// extractFrame has ffmpeg seek to at (before opening the input: a keyframe
// seek, then decoding up to the exact time), rotate the frame as displayed,
// scale it to fit PreviewSide without upscaling, and hand it over as PPM.
// -max_pixels makes the decoder itself refuse frames over the limit, which
// bounds its memory even before the probe has been checked.
func extractFrame(ctx context.Context, src string, at time.Duration, lim Limits) (*image.NRGBA, error) {
	box := strconv.Itoa(PreviewSide)
	// Two decoding threads rather than ffmpeg's default (cores + 1): for the
	// few frames between a keyframe and the poster, more frame threads only
	// add overhead, and a worker runs jobs side by side anyway. Measured on
	// the 1080p benchmark: wall 1.08x a bare ffmpeg with 2 threads, 1.17x
	// with 1, 1.14–1.16x with the default.
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "2",
		"-max_pixels", strconv.FormatInt(lim.MaxPixels, 10)}
	if at > 0 {
		args = append(args, "-ss", strconv.FormatFloat(at.Seconds(), 'f', 3, 64))
	}
	args = append(args, "-i", ffInput(src), "-map", "0:V:0", "-frames:v", "1", "-an", "-sn", "-dn",
		"-vf", squarePixels+",scale='min("+box+",iw)':'min("+box+",ih)':force_original_aspect_ratio=decrease",
		"-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1")
	cmd, stderr := command(ctx, "ffmpeg", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, commandError(ctx, "ffmpeg", err, stderr)
	}
	img, perr := readPPM(bufio.NewReaderSize(stdout, 256<<10), PreviewSide)
	if perr != nil {
		_ = cmd.Process.Kill()
	}
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, ctxError(ctx, fmt.Errorf("poster: %w", ctx.Err()))
	case werr != nil:
		err := commandError(ctx, "ffmpeg", werr, stderr)
		if isExitError(werr) {
			return nil, errorf(ErrCorrupt, "poster: %w", err)
		}
		return nil, err
	case errors.Is(perr, io.EOF):
		return nil, errNoFrame
	case perr != nil:
		return nil, fmt.Errorf("poster: %w", perr)
	}
	return img, nil
}

// readPPM reads one binary PPM (P6, maxval 255) whose sides are at most
// maxSide into an opaque NRGBA image. An empty stream is io.EOF.
func readPPM(r *bufio.Reader, maxSide int) (*image.NRGBA, error) {
	var fields [4]int
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return nil, err
	}
	if !bytes.Equal(magic, []byte("P6")) {
		return nil, fmt.Errorf("ppm: bad magic %q", magic)
	}
	for i := 1; i < 4; i++ {
		n, err := ppmInt(r)
		if err != nil {
			return nil, err
		}
		fields[i] = n
	}
	w, h, maxval := fields[1], fields[2], fields[3]
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide || maxval != 255 {
		return nil, fmt.Errorf("ppm: %dx%d maxval %d", w, h, maxval)
	}
	rgb := make([]byte, 3*w*h)
	if _, err := io.ReadFull(r, rgb); err != nil {
		return nil, fmt.Errorf("ppm: %w", err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(rgb); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = rgb[i], rgb[i+1], rgb[i+2], 0xFF
	}
	return img, nil
}

// ppmInt reads a decimal header field after whitespace and # comments, and
// consumes the one whitespace byte after it.
func ppmInt(r *bufio.Reader) (int, error) {
	n, digits := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("ppm header: %w", err)
		}
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits > 6 {
				return 0, errors.New("ppm header: number too long")
			}
			n = n*10 + int(c-'0')
		case digits > 0:
			return n, nil
		case c == '#':
			if _, err := r.ReadString('\n'); err != nil {
				return 0, fmt.Errorf("ppm header: %w", err)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			return 0, fmt.Errorf("ppm header: unexpected %q", c)
		}
	}
}
