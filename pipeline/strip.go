package pipeline

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Stripping metadata from originals without re-encoding them. A phone photo
// carries its GPS position, the camera's serial number and often a
// thumbnail of the uncropped picture in EXIF, XMP and IPTC; the `original`
// members download must not. The pixels are left byte for byte as they
// were: only metadata containers are dropped, colour profiles are kept, and
// a non-trivial EXIF orientation is written back as a minimal EXIF block
// holding that one tag, so viewers still show the picture upright.

// stripJPEG returns data without APPn segments other than JFIF (APP0), ICC
// profiles (APP2 "ICC_PROFILE") and Adobe (APP14, which says how to read the
// colour channels), without comments and without anything after the end of
// the image (MPF secondary images, vendor trailers). When the EXIF
// orientation was not 1 a minimal EXIF segment with only that tag is
// written after the JFIF header. ok is false when data is not a JPEG this
// walker understands; changed is false when there was nothing to drop.
func stripJPEG(data []byte) (out []byte, changed, ok bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, false, false
	}
	orientation := jpegOrientation(data)
	var b bytes.Buffer
	b.Grow(len(data))
	b.Write(data[:2])
	wroteExif := orientation == 1
	i := 2
	for {
		if i+2 > len(data) || data[i] != 0xFF {
			return nil, false, false
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD9 { // end of image
			b.Write(data[i : i+2])
			if i+2 != len(data) {
				changed = true // trailer dropped
			}
			break
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) { // no length
			b.Write(data[i : i+2])
			i += 2
			continue
		}
		if i+4 > len(data) {
			return nil, false, false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		end := i + 2 + n
		if n < 2 || end > len(data) {
			return nil, false, false
		}
		seg := data[i+4 : end]
		keep := true
		switch {
		case marker == 0xE0: // APP0 JFIF/JFXX
		case marker == 0xE2 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")):
		case marker == 0xEE: // APP14 Adobe
		case marker >= 0xE1 && marker <= 0xEF, marker == 0xFE: // other APPn, COM
			keep = false
			if bytes.Equal(data[i:end], minimalExifSegment(orientation)) {
				wroteExif = true // already what would be written
				keep = true
			}
		}
		if !wroteExif && marker != 0xE0 {
			b.Write(minimalExifSegment(orientation))
			wroteExif = true
		}
		if keep {
			b.Write(data[i:end])
		} else {
			changed = true
		}
		i = end
		if marker == 0xDA { // start of scan: entropy-coded data follows
			j, ok := skipEntropy(data, i)
			if !ok {
				return nil, false, false
			}
			b.Write(data[i:j])
			i = j
		}
	}
	if !changed {
		return data, false, true
	}
	return b.Bytes(), changed, true
}

// skipEntropy returns the offset of the first marker after the entropy-coded
// data starting at i: 0xFF followed by neither a stuffed 0x00 nor a restart
// marker.
func skipEntropy(data []byte, i int) (int, bool) {
	for {
		k := bytes.IndexByte(data[i:], 0xFF)
		if k < 0 || i+k+1 >= len(data) {
			return 0, false
		}
		i += k
		next := data[i+1]
		if next == 0x00 || next == 0xFF || (next >= 0xD0 && next <= 0xD7) {
			i++
			continue
		}
		return i, true
	}
}

// minimalTIFF is a big-endian TIFF header with one IFD holding only the
// Orientation tag.
func minimalTIFF(orientation int) []byte {
	t := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(orientation), 0, 0, // Orientation SHORT 1
		0, 0, 0, 0} // no next IFD
	return t
}

func minimalExifSegment(orientation int) []byte {
	body := append([]byte("Exif\x00\x00"), minimalTIFF(orientation)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	return append(seg, body...)
}

// pngOrientation returns the orientation in a PNG's eXIf chunk (1 if none).
func pngOrientation(data []byte) int {
	o := 1
	walkPNG(data, func(typ string, body []byte) bool {
		if typ == "eXIf" {
			if v := tiffOrientation(trimExifPrefix(body)); v != 0 {
				o = v
			}
			return false
		}
		return typ != "IDAT"
	})
	return o
}

// walkPNG calls fn for each chunk until fn returns false; it returns false
// when the chunk structure is broken.
func walkPNG(data []byte, fn func(typ string, body []byte) bool) bool {
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return false
	}
	for i := 8; i < len(data); {
		if i+12 > len(data) {
			return false
		}
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data)-i-12 {
			return false
		}
		if !fn(string(data[i+4:i+8]), data[i+8:i+8+n]) {
			return true
		}
		i += 12 + n
	}
	return true
}

// stripPNG drops the eXIf, tEXt, iTXt, zTXt and tIME chunks (keeping iCCP,
// sRGB, gAMA, cHRM and the pixels) and writes a minimal eXIf chunk when the
// orientation was not 1.
func stripPNG(data []byte) (out []byte, changed, ok bool) {
	orientation := pngOrientation(data)
	var b bytes.Buffer
	b.Grow(len(data))
	b.Write(data[:min(8, len(data))])
	wrote := orientation == 1
	ok = walkPNG(data, func(typ string, body []byte) bool {
		switch typ {
		case "eXIf":
			if !wrote && bytes.Equal(body, minimalTIFF(orientation)) {
				wrote = true // already what would be written
				break
			}
			changed = true
			return true
		case "tEXt", "iTXt", "zTXt", "tIME":
			changed = true
			return true
		case "IDAT", "IEND":
			if !wrote { // eXIf must come before the first IDAT
				writePNGChunk(&b, "eXIf", minimalTIFF(orientation))
				wrote = true
			}
		}
		writePNGChunk(&b, typ, body)
		return typ != "IEND"
	})
	if !ok {
		return nil, false, false
	}
	return b.Bytes(), changed, true
}

func writePNGChunk(b *bytes.Buffer, typ string, body []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(body)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(body)
	b.WriteString(typ)
	b.Write(body)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// trimExifPrefix drops the "Exif\0\0" some writers put before the TIFF
// header of a PNG eXIf or WebP EXIF chunk.
func trimExifPrefix(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
}

// walkWebP calls fn for each chunk after the RIFF/WEBP header; it returns
// false when the structure is broken.
func walkWebP(data []byte, fn func(typ string, body []byte) bool) bool {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return false
	}
	end := min(len(data), 8+int(binary.LittleEndian.Uint32(data[4:])))
	for i := 12; i < end; {
		if i+8 > end {
			return false
		}
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > end-i-8 {
			return false
		}
		if !fn(string(data[i:i+4]), data[i+8:i+8+n]) {
			return true
		}
		i += 8 + n + n&1
	}
	return true
}

// webpOrientation returns the orientation in a WebP's EXIF chunk (1 if none).
func webpOrientation(data []byte) int {
	o := 1
	walkWebP(data, func(typ string, body []byte) bool {
		if typ == "EXIF" {
			if v := tiffOrientation(trimExifPrefix(body)); v != 0 {
				o = v
			}
			return false
		}
		return true
	})
	return o
}

// stripWebP drops the EXIF and XMP chunks of an extended WebP (a simple one
// has none), clears their VP8X flags, and keeps a minimal EXIF chunk when
// the orientation was not 1.
func stripWebP(data []byte) (out []byte, changed, ok bool) {
	orientation := webpOrientation(data)
	var b bytes.Buffer
	b.Grow(len(data))
	b.Write(data[:min(12, len(data))])
	flags, kept := -1, false
	ok = walkWebP(data, func(typ string, body []byte) bool {
		switch typ {
		case "EXIF":
			if orientation != 1 && bytes.Equal(body, minimalTIFF(orientation)) {
				kept = true // already what would be written
				break
			}
			changed = true
			return true
		case "XMP ":
			changed = true
			return true
		case "VP8X":
			if len(body) >= 1 {
				flags = b.Len() + 8
			}
		}
		writeWebPChunk(&b, typ, body)
		return true
	})
	if !ok {
		return nil, false, false
	}
	if !changed {
		return data, false, true
	}
	out = b.Bytes()
	if flags >= 0 {
		out[flags] &^= 0x08 | 0x04 // EXIF, XMP
		if orientation != 1 {
			out[flags] |= 0x08
		}
		if orientation != 1 && !kept {
			var nb bytes.Buffer
			nb.Write(out)
			writeWebPChunk(&nb, "EXIF", minimalTIFF(orientation))
			out = nb.Bytes()
		}
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, true, true
}

func writeWebPChunk(b *bytes.Buffer, typ string, body []byte) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(body)))
	b.WriteString(typ)
	b.Write(n[:])
	b.Write(body)
	if len(body)&1 == 1 {
		b.WriteByte(0)
	}
}
