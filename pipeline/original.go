package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// stripImage writes the `original` output of an image: the source without
// its metadata. JPEG, PNG and WebP are rewritten in Go, segment by segment;
// HEIC, HEIF and AVIF go through exiftool, which rewrites their meta box
// (item locations included) without touching the coded image. GIF is served
// as uploaded: it carries no EXIF or location. ok is false when nothing was
// removed, so the upload itself is served.
func stripImage(ctx context.Context, ct string, data []byte, src, outDir string) (Output, bool, error) {
	var (
		out     []byte
		changed bool
		ok      bool
		ext     string
	)
	switch ct {
	case TypeJPEG:
		out, changed, ok = stripJPEG(data)
		ext = ".jpg"
	case TypePNG:
		out, changed, ok = stripPNG(data)
		ext = ".png"
	case TypeWebP:
		out, changed, ok = stripWebP(data)
		ext = ".webp"
	case TypeHEIC, TypeHEIF, TypeAVIF:
		return stripWithExiftool(ctx, ct, data, src, outDir)
	default:
		return Output{}, false, nil
	}
	if !ok {
		// The decoders accepted the image; a structure the strippers do not
		// follow must not make it served with its metadata.
		return Output{}, false, errorf(ErrCorrupt, "%s: cannot remove metadata: unexpected structure", ct)
	}
	if !changed {
		return Output{}, false, nil
	}
	path, err := writeOutput(outDir, OutputOriginal+ext, out)
	if err != nil {
		return Output{}, false, err
	}
	return Output{Name: OutputOriginal, Path: path, ContentType: ct, Size: int64(len(out))}, true, nil
}

// stripWithExiftool removes every tag exiftool can write from a HEIF-family
// file but the orientation and the colour profile.
func stripWithExiftool(ctx context.Context, ct string, data []byte, src, outDir string) (Output, bool, error) {
	ext := map[string]string{TypeHEIC: ".heic", TypeHEIF: ".heif", TypeAVIF: ".avif"}[ct]
	tmp, err := os.CreateTemp(outDir, ".original-*"+ext)
	if err != nil {
		return Output{}, false, err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = runCommand(ctx, nil, "exiftool", "-q", "-q", "-m", "-overwrite_original",
			"-all=", "-tagsFromFile", "@", "-Orientation", "-ICC_Profile", argPath(tmp.Name()))
		if err != nil && isExitError(err) && ctx.Err() == nil {
			err = errorf(ErrCorrupt, "remove metadata: %w", err)
		}
	}
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(tmp.Name()); err == nil {
			size = st.Size()
		}
	}
	path, err := commitOutput(tmp.Name(), outDir, OutputOriginal+ext, err)
	if err != nil {
		return Output{}, false, err
	}
	return Output{Name: OutputOriginal, Path: path, ContentType: ct, Size: size}, true, nil
}

// ffOutput names an output file for ffmpeg, like ffInput.
func ffOutput(path string) string { return ffInput(path) }

// playbackNice is the niceness of the long ffmpeg runs behind Playback
// (transcode, remux). A video transcode keeps both cores busy for about
// the video's duration; at the lowest priority it takes the CPU a photo or
// a voice note in the same worker leaves idle, and yields it while they
// run, so their latency holds while a video transcodes. At niceness 10 the
// scheduler still gave x264 about a tenth of the cores against a photo, and
// a photo's p99 grew 1.23–1.61× on a quiet machine; at 19, 1.09–1.17×
// (docs/benchmarks.md). Alone, the transcode runs as fast at either.
const playbackNice = "19"

// ffmpegNiceOut is ffmpegOut at niceness playbackNice, through nice(1)
// when the machine has it.
func ffmpegNiceOut(ctx context.Context, args []string) error {
	if _, err := exec.LookPath("nice"); err != nil {
		return ffmpegOut(ctx, args)
	}
	return exitCorrupt(ctx, runCommand(ctx, nil, "nice", append([]string{"-n", playbackNice, "ffmpeg"}, args...)...))
}

// ffmpegOut runs ffmpeg for its output file; an exit failure on an input
// the probe accepted is ErrCorrupt.
func ffmpegOut(ctx context.Context, args []string) error {
	return exitCorrupt(ctx, runCommand(ctx, nil, "ffmpeg", args...))
}

// exitCorrupt makes a subprocess's exit failure ErrCorrupt.
func exitCorrupt(ctx context.Context, err error) error {
	if err != nil && isExitError(err) && ctx.Err() == nil {
		return errorf(ErrCorrupt, "%w", err)
	}
	return err
}

// ffmpegToOutput runs ffmpeg (niced: these are Playback's long runs)
// writing into a temporary file in outDir and renames it to outDir/file
// when it succeeded.
func ffmpegToOutput(ctx context.Context, outDir, file string, args func(dst string) []string) (string, int64, error) {
	f, err := os.CreateTemp(outDir, "."+file+"-*")
	if err != nil {
		return "", 0, err
	}
	tmp := f.Name()
	f.Close()
	err = ffmpegNiceOut(ctx, args(tmp))
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(tmp); err == nil {
			size = st.Size()
		}
	}
	path, err := commitOutput(tmp, outDir, file, err)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return path, size, nil
}
