package pipeline

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
)

// heifInfo is what the pipeline reads from a HEIF file's boxes before
// handing it to heif-convert.
type heifInfo struct {
	// Width and Height are the largest ispe (image spatial extents) of any
	// item: the primary image's, or its grid's, or larger. Checking the
	// limits against them refuses a bomb before anything is decoded.
	Width, Height int
	// Transformed is true when the file carries irot or imir properties.
	// libheif applies those when decoding, and then the EXIF orientation it
	// copies into its output must be ignored (iPhones write both).
	Transformed bool
}

// parseHEIF walks ftyp/meta/iprp/ipco. It returns ok=false when no ispe box
// is found.
func parseHEIF(data []byte) (info heifInfo, ok bool) {
	var walk func(b []byte, depth int)
	walk = func(b []byte, depth int) {
		for len(b) >= 8 && depth < 8 {
			size := uint64(binary.BigEndian.Uint32(b))
			typ := string(b[4:8])
			hdr := uint64(8)
			switch size {
			case 0:
				size = uint64(len(b))
			case 1:
				if len(b) < 16 {
					return
				}
				size, hdr = binary.BigEndian.Uint64(b[8:]), 16
			}
			if size < hdr || size > uint64(len(b)) {
				return
			}
			body := b[hdr:size]
			switch typ {
			case "meta":
				if len(body) >= 4 {
					walk(body[4:], depth+1) // full box: skip version and flags
				}
			case "iprp", "ipco":
				walk(body, depth+1)
			case "ispe":
				if len(body) >= 12 {
					w := int(binary.BigEndian.Uint32(body[4:]))
					h := int(binary.BigEndian.Uint32(body[8:]))
					info.Width, info.Height = max(info.Width, w), max(info.Height, h)
					ok = true
				}
			case "irot", "imir":
				info.Transformed = true
			}
			b = b[size:]
		}
	}
	walk(data, 0)
	return info, ok
}

// heifToJPEG decodes the primary image of a HEIF file with heif-convert
// (Debian's libheif-examples; ffmpeg cannot read HEIC) into a high-quality
// JPEG in a temporary directory, and returns its bytes.
func heifToJPEG(ctx context.Context, src string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "parley-heif-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out.jpg")
	if err := runCommand(ctx, nil, "heif-convert", "-q", "92", argPath(src), out); err != nil {
		if ctx.Err() != nil || !isExitError(err) {
			return nil, err
		}
		return nil, errorf(ErrCorrupt, "%w", err)
	}
	// With several top-level images heif-convert numbers its outputs
	// (out-1.jpg, ...); depth maps and other auxiliary images get suffixes.
	if _, err := os.Stat(out); err != nil {
		matches, _ := filepath.Glob(filepath.Join(tmp, "out-[0-9]*.jpg"))
		if len(matches) == 0 {
			return nil, errorf(ErrCorrupt, "heif-convert wrote no image")
		}
		sort.Strings(matches)
		out = matches[0]
	}
	return readFileLimit(out, MaxImageBytes)
}
