package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Settings of the playback output. Level 4.1 is what every phone of the
// last ten years and every browser decodes in hardware; 2 Mbit/s is
// plenty for 720p chat video.
const (
	PlaybackSide    = 1280
	playbackBitrate = "2M"
	playbackMaxRate = "2500k"
	playbackBufSize = "5M"
	playbackAudio   = "128k"
	playbackMaxFPS  = "60"
	playbackLevel   = 41 // ffprobe's spelling of level 4.1
	// Remuxed inputs may keep up to 1080p: H.264 High at level ≤ 4.1 is
	// already playable everywhere, and re-encoding it would cost minutes to
	// save bytes, not to gain compatibility.
	remuxMaxLong, remuxMaxShort = 1920, 1080
)

// Playback writes what a video needs besides its poster: the `playback`
// output (H.264 High + AAC-LC in a faststart MP4) and, unless
// lim.KeepMetadata, the `original` output (the source remuxed without its
// container metadata: location, device, creation time). Process writes the
// poster at once; workers run Playback afterwards, so members see the
// poster while a long video transcodes.
//
// An input that already is H.264 (Baseline, Main or High, level ≤ 4.1,
// 8-bit 4:2:0, square pixels, at most 1920×1080) with AAC-LC or no audio
// is remuxed, not re-encoded: seconds instead of minutes. Anything else
// ffmpeg reads (HEVC, VP9, AV1, MPEG-4, H.263; MP4, MOV, WebM, Matroska,
// 3GP) is transcoded: rotation applied, non-square pixels stretched, long
// side ≤ PlaybackSide, at most 60 frames per second, about 2 Mbit/s.
// Errors are as Process's.
func Playback(ctx context.Context, src, outDir string, lim Limits) ([]Output, error) {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	outs, err := playback(ctx, src, outDir, lim)
	if err != nil {
		for _, o := range outs {
			os.Remove(o.Path)
		}
		return nil, fmt.Errorf("playback %s: %w", src, ctxError(ctx, err))
	}
	return outs, nil
}

func playback(ctx context.Context, src, outDir string, lim Limits) ([]Output, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	// MP4, MOV and 3GP are read in Go (codecs, H.264 profile and level,
	// AAC object type, pixel aspect ratio): on the remux path, ffprobe's
	// start-up would be a third of the whole job.
	pr, err := probeFile(ctx, src)
	if err != nil {
		return nil, err
	}
	var res Result
	v, err := checkVideoProbe(pr, lim, &res)
	if err != nil {
		return nil, err
	}
	var outs []Output
	if !lim.KeepMetadata {
		o, err := stripVideo(ctx, src, outDir)
		if err != nil {
			return outs, err
		}
		outs = append(outs, o)
	}
	args := transcodeArgs
	if remuxable(pr, v) {
		args = remuxArgs
	}
	path, size, err := ffmpegToOutput(ctx, outDir, OutputPlayback+".mp4", func(dst string) []string {
		return args(src, dst, v)
	})
	if err != nil {
		return outs, err
	}
	o := Output{Name: OutputPlayback, Path: path, ContentType: TypeMP4, Size: size}
	if p, err := probeISO(path); err == nil && p.video() != nil {
		o.Width, o.Height = p.video().Width, p.video().Height
		if r := p.video().rotation(); r == 90 || r == 270 {
			o.Width, o.Height = o.Height, o.Width
		}
	}
	return append(outs, o), nil
}

// remuxable reports whether the playback output can be the input's own
// streams in a new MP4.
func remuxable(p *probe, v *probeStream) bool {
	if !strings.Contains(p.Format.FormatName, "mp4") { // mov,mp4,m4a,3gp,3g2,mj2
		return false
	}
	switch v.Profile {
	case "Constrained Baseline", "Baseline", "Main", "High":
	default:
		return false
	}
	long, short := max(v.Width, v.Height), min(v.Width, v.Height)
	if v.CodecName != "h264" || v.Level <= 0 || v.Level > playbackLevel || v.PixFmt != "yuv420p" ||
		long > remuxMaxLong || short > remuxMaxShort {
		return false
	}
	if n, d := v.sar(); n != d {
		return false
	}
	audio := 0
	for _, s := range p.Streams {
		if s.CodecType != "audio" {
			continue
		}
		if audio++; audio > 1 || s.CodecName != "aac" || s.Profile != "LC" {
			return false
		}
	}
	return true
}

// commonArgs start every playback command: one video and at most one
// audio stream, nothing else (no data tracks, which in iPhone videos carry
// per-frame location), no metadata, no chapters.
func commonArgs(src string) []string {
	return []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-i", ffInput(src),
		"-map", "0:V:0", "-map", "0:a:0?", "-sn", "-dn",
		"-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"}
}

func remuxArgs(src, dst string, _ *probeStream) []string {
	return append(commonArgs(src), "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", ffOutput(dst))
}

// transcodeArgs is the command docs/benchmarks.md times against itself.
func transcodeArgs(src, dst string, v *probeStream) []string {
	box := strconv.Itoa(PlaybackSide)
	vf := "scale='min(" + box + ",iw)':'min(" + box + ",ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p"
	if n, d := v.sar(); n != d {
		vf = squarePixels + "," + vf
	}
	return append(commonArgs(src), "-vf", vf, "-fpsmax", playbackMaxFPS,
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-level:v", "4.1",
		"-b:v", playbackBitrate, "-maxrate", playbackMaxRate, "-bufsize", playbackBufSize,
		"-c:a", "aac", "-b:a", playbackAudio, "-ac", "2",
		"-movflags", "+faststart", "-f", "mp4", "-y", ffOutput(dst))
}

// stripVideo remuxes the source into its own container without metadata:
// QuickTime location (com.apple.quicktime.location.ISO6709, ©xyz), device
// make and model, creation time. Streams are copied, never re-encoded;
// data tracks (timecode, per-frame metadata) are dropped; the display
// rotation, which is stream side data, survives.
func stripVideo(ctx context.Context, src, outDir string) (Output, error) {
	head, err := readHead(src)
	if err != nil {
		return Output{}, err
	}
	ct, _ := Sniff(head)
	format, ext := map[string]string{
		TypeMP4: "mp4", TypeMOV: "mov", Type3GPP: "3gp", TypeWebM: "webm", TypeMatroska: "matroska",
	}[ct], map[string]string{
		TypeMP4: ".mp4", TypeMOV: ".mov", Type3GPP: ".3gp", TypeWebM: ".webm", TypeMatroska: ".mkv",
	}[ct]
	if format == "" {
		return Output{}, errorf(ErrUnsupported, "content is %s, not a video container", ct)
	}
	path, size, err := ffmpegToOutput(ctx, outDir, OutputOriginal+ext, func(dst string) []string {
		return []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-i", ffInput(src),
			"-map", "0:V", "-map", "0:a?", "-sn", "-dn", "-c", "copy",
			"-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1", "-fflags", "+bitexact",
			"-f", format, "-y", ffOutput(dst)}
	})
	if err != nil {
		return Output{}, err
	}
	return Output{Name: OutputOriginal, Path: path, ContentType: ct, Size: size}, nil
}

// readHead reads the first SniffLen bytes of a file.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}
