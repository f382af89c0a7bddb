package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
)

// maxMoov bounds the moov box probeISO reads into memory. A 15 min phone
// video's is a few MB; a bigger one goes to ffprobe.
const maxMoov = 32 << 20

// errNotISO means probeISO cannot answer; ffprobe should.
var errNotISO = errors.New("not a plain ISO base media file")

// probeFile describes the streams of an audio or video file. MP4, MOV, M4A
// and 3GP are read in Go from their moov box, which saves starting ffprobe
// (~0.1 s of CPU, as much as the poster frame's whole decode); anything
// else, and any ISO file probeISO does not fully understand (fragmented
// MP4, no duration), is handed to ffprobe.
func probeFile(ctx context.Context, path string) (*probe, error) {
	if p, err := probeISO(path); err == nil {
		return p, nil
	}
	return runProbe(ctx, path)
}

// probeISO reads the moov box of an ISO base media / QuickTime file into the
// same shape ffprobe's JSON has: codec names as ffprobe spells them, coded
// width and height, display rotation from the track matrix, duration from
// mvhd.
func probeISO(path string) (*probe, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var moov []byte
	var hdr [16]byte
	for off := int64(0); ; {
		if _, err := f.ReadAt(hdr[:8], off); err != nil {
			break
		}
		size, typ, hlen := int64(binary.BigEndian.Uint32(hdr[:])), string(hdr[4:8]), int64(8)
		if off == 0 && typ != "ftyp" {
			return nil, errNotISO
		}
		if size == 1 {
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil {
				return nil, errNotISO
			}
			size, hlen = int64(binary.BigEndian.Uint64(hdr[8:])), 16
		}
		if size == 0 || size < hlen {
			break // to the end of the file, or broken
		}
		if typ == "moov" {
			if size > maxMoov {
				return nil, errNotISO
			}
			moov = make([]byte, size-hlen)
			if _, err := f.ReadAt(moov, off+hlen); err != nil {
				return nil, errNotISO
			}
		}
		if typ == "moof" {
			return nil, errNotISO // fragmented: durations live in the fragments
		}
		off += size
	}
	if moov == nil {
		return nil, errNotISO
	}
	p := &probe{Streams: []probeStream{}}
	p.Format.FormatName = "mov,mp4,m4a,3gp,3g2,mj2"
	var dur float64
	for _, b := range boxes(moov) {
		switch b.typ {
		case "mvhd":
			dur = mvhdDuration(b.body)
		case "trak":
			if s, ok := parseTrak(b.body); ok {
				s.Index = len(p.Streams)
				p.Streams = append(p.Streams, s)
			}
		}
	}
	if dur <= 0 || math.IsNaN(dur) || math.IsInf(dur, 0) || len(p.Streams) == 0 {
		return nil, errNotISO
	}
	p.Format.Duration = strconv.FormatFloat(dur, 'f', 6, 64)
	return p, nil
}

type box struct {
	typ  string
	body []byte
}

// boxes splits b into its child boxes, stopping at the first malformed one.
func boxes(b []byte) []box {
	var out []box
	for len(b) >= 8 {
		size, hlen := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		if size == 1 {
			if len(b) < 16 {
				break
			}
			size, hlen = binary.BigEndian.Uint64(b[8:]), 16
		} else if size == 0 {
			size = uint64(len(b))
		}
		if size < hlen || size > uint64(len(b)) {
			break
		}
		out = append(out, box{string(b[4:8]), b[hlen:size]})
		b = b[size:]
	}
	return out
}

func child(b []byte, typ string) []byte {
	for _, c := range boxes(b) {
		if c.typ == typ {
			return c.body
		}
	}
	return nil
}

// mvhdDuration returns the movie's duration in seconds.
func mvhdDuration(b []byte) float64 {
	if len(b) < 4 {
		return 0
	}
	var scale, dur uint64
	switch b[0] {
	case 0:
		if len(b) < 20 {
			return 0
		}
		scale, dur = uint64(binary.BigEndian.Uint32(b[12:])), uint64(binary.BigEndian.Uint32(b[16:]))
		if dur == math.MaxUint32 {
			return 0 // "unknown"
		}
	case 1:
		if len(b) < 32 {
			return 0
		}
		scale, dur = uint64(binary.BigEndian.Uint32(b[20:])), binary.BigEndian.Uint64(b[24:])
	default:
		return 0
	}
	if scale == 0 {
		return 0
	}
	return float64(dur) / float64(scale)
}

// parseTrak describes an audio or video track; ok is false for others.
func parseTrak(trak []byte) (s probeStream, ok bool) {
	mdia := child(trak, "mdia")
	hdlr := child(mdia, "hdlr")
	if len(hdlr) < 12 {
		return s, false
	}
	switch string(hdlr[8:12]) {
	case "vide":
		s.CodecType = "video"
	case "soun":
		s.CodecType = "audio"
	default:
		return s, false
	}
	stsd := child(child(child(mdia, "minf"), "stbl"), "stsd")
	if len(stsd) < 8+16 {
		return s, false
	}
	entry := stsd[8:]
	fourcc := string(entry[4:8])
	s.CodecName = isoCodec(fourcc)
	if s.CodecType == "video" {
		if len(entry) < 36 {
			return s, false
		}
		s.Width = int(binary.BigEndian.Uint16(entry[32:]))
		s.Height = int(binary.BigEndian.Uint16(entry[34:]))
		// The visual sample entry's fixed fields end at 86; pasp, the
		// pixel aspect ratio, and avcC are among the boxes after them.
		if size := int(binary.BigEndian.Uint32(entry)); size > 86 && size <= len(entry) {
			if avcC := child(entry[86:size], "avcC"); len(avcC) >= 4 && s.CodecName == "h264" {
				s.Profile, s.PixFmt = avcProfile(avcC[1], avcC[2])
				s.Level = int(avcC[3])
			}
			if pasp := child(entry[86:size], "pasp"); len(pasp) >= 8 {
				h, v := binary.BigEndian.Uint32(pasp), binary.BigEndian.Uint32(pasp[4:])
				if h > 0 && v > 0 && h <= 1<<16 && v <= 1<<16 {
					s.SampleAspectRatio = fmt.Sprintf("%d:%d", h, v)
				}
			}
		}
		if rot, ok := tkhdRotation(child(trak, "tkhd")); ok && rot != 0 {
			s.SideDataList = append(s.SideDataList, struct {
				Rotation float64 `json:"rotation"`
			}{rot})
		}
	}
	if s.CodecType == "audio" && fourcc == "mp4a" {
		// The audio sample entry's fixed fields end at 36 (version 0).
		if size := int(binary.BigEndian.Uint32(entry)); size > 36 && size <= len(entry) {
			if oti, aot, ok := esdsAudio(child(entry[36:size], "esds")); ok {
				switch {
				case oti == 0x69 || oti == 0x6B:
					s.CodecName = "mp3"
				case oti == 0x40 && aot == 2:
					s.Profile = "LC"
				}
			}
		}
	}
	return s, true
}

// avcProfile names an H.264 profile_idc as ffprobe does, with the pixel
// format it implies: Baseline, Main and High are 8-bit 4:2:0 by definition;
// for the others the SPS would have to be read, and "" says unknown.
func avcProfile(idc, constraints byte) (profile, pixFmt string) {
	switch idc {
	case 66:
		if constraints&0x40 != 0 {
			return "Constrained Baseline", "yuv420p"
		}
		return "Baseline", "yuv420p"
	case 77:
		return "Main", "yuv420p"
	case 100:
		return "High", "yuv420p"
	}
	return "", ""
}

// esdsAudio reads an esds box's object type indication and, for MPEG-4
// audio, the audio object type (2 is AAC-LC).
func esdsAudio(b []byte) (oti, aot byte, ok bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	b = b[4:] // version, flags
	// descriptor reads a tag and its variable-length size.
	descriptor := func() (tag byte, body []byte) {
		if len(b) < 2 {
			return 0, nil
		}
		tag = b[0]
		n, i := 0, 1
		for ; i < 5 && i < len(b); i++ {
			n = n<<7 | int(b[i]&0x7F)
			if b[i]&0x80 == 0 {
				i++
				break
			}
		}
		if n > len(b)-i {
			return 0, nil
		}
		body, b = b[i:i+n], b[i+n:]
		return tag, body
	}
	tag, es := descriptor()
	if tag != 0x03 || len(es) < 3 {
		return 0, 0, false
	}
	flags := es[2]
	es = es[3:]
	if flags&0x80 != 0 { // stream dependence
		es = es[min(2, len(es)):]
	}
	if flags&0x40 != 0 && len(es) > 0 { // URL
		es = es[min(1+int(es[0]), len(es)):]
	}
	if flags&0x20 != 0 { // OCR stream
		es = es[min(2, len(es)):]
	}
	b = es
	tag, dc := descriptor()
	if tag != 0x04 || len(dc) < 13 {
		return 0, 0, false
	}
	oti = dc[0]
	b = dc[13:]
	if tag, dsi := descriptor(); tag == 0x05 && len(dsi) >= 1 {
		aot = dsi[0] >> 3
	}
	return oti, aot, true
}

// tkhdRotation returns the rotation of a track's display matrix in degrees.
func tkhdRotation(b []byte) (float64, bool) {
	off := 0
	switch {
	case len(b) >= 4 && b[0] == 0:
		off = 40 // version, flags, ctime, mtime, id, reserved, duration, reserved[2], layer, group, volume, reserved
	case len(b) >= 4 && b[0] == 1:
		off = 52
	default:
		return 0, false
	}
	if len(b) < off+36 {
		return 0, false
	}
	a := float64(int32(binary.BigEndian.Uint32(b[off:])))
	c := float64(int32(binary.BigEndian.Uint32(b[off+4:])))
	deg := math.Atan2(c, a) * 180 / math.Pi
	return math.Round(deg), true
}

// isoCodec names a sample entry's codec as ffprobe does.
func isoCodec(fourcc string) string {
	switch fourcc {
	case "avc1", "avc3":
		return "h264"
	case "hvc1", "hev1":
		return "hevc"
	case "mp4v":
		return "mpeg4"
	case "s263", "h263":
		return "h263"
	case "vp09":
		return "vp9"
	case "vp08":
		return "vp8"
	case "av01":
		return "av1"
	case "mp4a":
		return "aac"
	case "samr":
		return "amr_nb"
	case "sawb":
		return "amr_wb"
	case "Opus":
		return "opus"
	case "alac":
		return "alac"
	case "fLaC":
		return "flac"
	case "ac-3":
		return "ac3"
	case "ec-3":
		return "eac3"
	case ".mp3":
		return "mp3"
	case "sowt":
		return "pcm_s16le"
	case "twos":
		return "pcm_s16be"
	case "jpeg", "mjpa":
		return "mjpeg"
	case "apcn", "apch", "apcs", "apco", "ap4h":
		return "prores"
	}
	return fourcc
}
