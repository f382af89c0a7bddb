package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// Process processes the file at srcPath as kind (KindAuto or "" detects it
// from the content), writes the derived files into outDir (created if
// missing) and returns what it learnt. Zero fields of lim take their
// defaults.
//
// Errors wrap ErrUnsupported, ErrCorrupt or ErrTooLarge when the input is at
// fault (see Permanent), ErrTimeout when lim.Timeout passed, and the
// context's error when ctx was cancelled. On error no output is left behind.
func Process(ctx context.Context, kind Kind, srcPath, outDir string, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	if kind == "" {
		kind = KindAuto
	}
	if _, ok := ParseKind(string(kind)); !ok {
		return nil, fmt.Errorf("process %s: %w", srcPath, errorf(ErrUnsupported, "unknown kind %q", kind))
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()

	res, err := process(ctx, kind, srcPath, outDir, lim)
	if err != nil {
		if res != nil {
			for _, o := range res.Outputs {
				os.Remove(o.Path)
			}
		}
		return nil, fmt.Errorf("process %s: %w", srcPath, ctxError(ctx, err))
	}
	return res, nil
}

func process(ctx context.Context, kind Kind, src, outDir string, lim Limits) (*Result, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	res := &Result{Size: st.Size(), Outputs: []Output{}}
	if res.Size == 0 {
		return nil, errorf(ErrCorrupt, "empty file")
	}
	if res.Size > lim.MaxInputBytes {
		return nil, errorf(ErrTooLarge, "%d bytes, over %d", res.Size, lim.MaxInputBytes)
	}
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	ct, sniffed := Sniff(head[:n])
	auto := kind == KindAuto
	if auto {
		kind = sniffed
	} else if !Compatible(ct, kind) {
		return nil, errorf(ErrUnsupported, "content is %s, not %s", ct, kind)
	}
	res.ContentType = ct
	if kind != KindFile {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, err
		}
	}

	if kind == KindImage || kind == KindAvatar {
		if res.Size > MaxImageBytes {
			return nil, errorf(ErrTooLarge, "image of %d bytes, over %d", res.Size, MaxImageBytes)
		}
		data, err := readFileLimit(src, MaxImageBytes)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		res.SHA256 = hex.EncodeToString(sum[:])
		res.Kind = kind
		if kind == KindAvatar {
			return res, processAvatar(ctx, ct, data, src, outDir, lim, res)
		}
		return res, processImage(ctx, ct, data, src, outDir, lim, res)
	}

	// Hash while ffmpeg works: on a video that is most of the file I/O.
	hashed := make(chan error, 1)
	go func() {
		sum, err := hashFile(ctx, src)
		res.SHA256 = sum
		hashed <- err
	}()
	err = nil
	switch kind {
	case KindVoice, KindVideo:
		err = processAV(ctx, kind, auto, src, outDir, lim, res)
	default:
		res.Kind = KindFile
	}
	if herr := <-hashed; err == nil {
		err = herr
	}
	return res, err
}

// processAV processes an audio/video container as a voice note or a video.
// With KindAuto, a container that may hold either (MP4, 3GP, WebM,
// Matroska, Ogg) is probed first and its streams decide: no video stream
// (cover art does not count) makes it a voice note.
func processAV(ctx context.Context, kind Kind, auto bool, src, outDir string, lim Limits, res *Result) error {
	var pr *probe
	if auto && ambiguous(res.ContentType) {
		var err error
		if pr, err = probeFile(ctx, src); err != nil {
			return err
		}
		switch {
		case pr.video() != nil:
			kind = KindVideo
		case pr.audio() != nil:
			kind = KindVoice
		}
	}
	res.Kind = kind
	if kind == KindVoice {
		res.ContentType = audioType(res.ContentType)
		return processVoice(ctx, src, outDir, lim, res, pr)
	}
	return processVideo(ctx, src, outDir, lim, res, pr)
}

// ambiguous reports whether a container type may hold audio only or video.
func ambiguous(ct string) bool {
	switch ct {
	case TypeMP4, TypeM4A, TypeMOV, Type3GPP, TypeWebM, TypeMatroska, TypeOgg:
		return true
	}
	return false
}

// audioType names an audio-only file in a container type that says video.
func audioType(ct string) string {
	switch ct {
	case TypeMP4:
		return TypeM4A
	case Type3GPP:
		return "audio/3gpp"
	case TypeWebM:
		return "audio/webm"
	case TypeMatroska:
		return "audio/x-matroska"
	}
	return ct
}

// readFileLimit reads a whole file of at most max bytes.
func readFileLimit(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errorf(ErrTooLarge, "%s is over %d bytes", path, max)
	}
	return data, nil
}

// hashFile returns the hex SHA-256 of a file, stopping early if ctx ends.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeOutput writes data to outDir/name through a temporary file, so a
// reader never sees half an output.
func writeOutput(outDir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(outDir, "."+name+"-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return commitOutput(tmp, outDir, name, err)
}

// commitOutput renames a finished temporary file to outDir/name, or removes
// it when err is not nil.
func commitOutput(tmp, outDir, name string, err error) (string, error) {
	path := outDir + string(os.PathSeparator) + name
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return path, nil
}
