package pipeline

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// Content types Sniff returns.
const (
	TypeJPEG     = "image/jpeg"
	TypePNG      = "image/png"
	TypeGIF      = "image/gif"
	TypeWebP     = "image/webp"
	TypeHEIC     = "image/heic"
	TypeHEIF     = "image/heif"
	TypeAVIF     = "image/avif"
	TypeMP4      = "video/mp4"
	TypeM4A      = "audio/mp4"
	TypeMOV      = "video/quicktime"
	Type3GPP     = "video/3gpp"
	TypeOgg      = "audio/ogg"
	TypeWebM     = "video/webm"
	TypeMatroska = "video/x-matroska"
	TypeMP3      = "audio/mpeg"
	TypeAAC      = "audio/aac"
	TypeWAV      = "audio/wav"
	TypeAMR      = "audio/amr"
	TypeAMRWB    = "audio/amr-wb"
	TypeFLAC     = "audio/flac"
	TypePDF      = "application/pdf"
	TypeUnknown  = "application/octet-stream"
)

// SniffLen is how many leading bytes Sniff wants; fewer work for short files.
const SniffLen = 4096

// Sniff returns the content type of a file from its first bytes (at least
// 512, ideally SniffLen) and the kind it most likely is. It never trusts a
// name or a declared type.
//
// Containers that carry audio or video alike (MP4, 3GP, WebM, Matroska, Ogg)
// are reported as the kind their brand suggests; Process with KindAuto looks
// at their streams to decide. Use Compatible to check a declared kind.
// Anything else is application/octet-stream and KindFile.
func Sniff(head []byte) (contentType string, kind Kind) {
	b := head
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return TypeJPEG, KindImage
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG, KindImage
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return TypeGIF, KindImage
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return TypeWebP, KindImage
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return TypeWAV, KindVoice
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return sniffFtyp(b)
	case bytes.HasPrefix(b, []byte("OggS")):
		return TypeOgg, KindVoice
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// EBML: the DocType element comes within the header's first bytes.
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return TypeWebM, KindVideo
		}
		return TypeMatroska, KindVideo
	case bytes.HasPrefix(b, []byte("#!AMR-WB\n")):
		return TypeAMRWB, KindVoice
	case bytes.HasPrefix(b, []byte("#!AMR\n")):
		return TypeAMR, KindVoice
	case bytes.HasPrefix(b, []byte("fLaC")):
		return TypeFLAC, KindVoice
	case bytes.HasPrefix(b, []byte("ID3")):
		return TypeMP3, KindVoice
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return TypeAAC, KindVoice // ADTS: sync, MPEG-4/2, layer 0
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]&0x06 == 0x02 && b[1]&0x18 != 0x08:
		return TypeMP3, KindVoice // MPEG audio frame sync, layer III
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return TypePDF, KindFile
	}
	return TypeUnknown, KindFile
}

// sniffFtyp classifies an ISO base media file by its ftyp brands.
func sniffFtyp(b []byte) (string, Kind) {
	size := int(binary.BigEndian.Uint32(b[:4]))
	if size < 16 || size > len(b) {
		size = min(len(b), 64)
	}
	brands := []string{string(b[8:12])} // major brand
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	has := func(set ...string) bool {
		for _, br := range brands {
			for _, s := range set {
				if br == s {
					return true
				}
			}
		}
		return false
	}
	major := brands[0]
	switch {
	case has("heic", "heix", "heim", "heis", "hevc", "hevx"):
		return TypeHEIC, KindImage
	case major == "avif" || major == "avis":
		return TypeAVIF, KindImage
	case has("mif1", "msf1") && !has("isom", "mp41", "mp42", "qt  "):
		return TypeHEIF, KindImage
	case strings.HasPrefix(major, "3g"):
		return Type3GPP, KindVideo
	case major == "qt  ":
		return TypeMOV, KindVideo
	case major == "M4A " || major == "M4B " || major == "M4P " || major == "F4A ":
		return TypeM4A, KindVoice
	}
	return TypeMP4, KindVideo
}

// Compatible reports whether content sniffed as contentType may be processed
// as kind. Containers that carry audio or video alike are compatible with
// both KindVoice and KindVideo; every type is compatible with KindFile and
// KindAuto. Upload verification uses it to refuse a declared kind the bytes
// contradict.
func Compatible(contentType string, kind Kind) bool {
	switch kind {
	case KindFile, KindAuto, "":
		return true
	case KindImage, KindAvatar:
		switch contentType {
		case TypeJPEG, TypePNG, TypeGIF, TypeWebP, TypeHEIC, TypeHEIF, TypeAVIF:
			return true
		}
	case KindVoice:
		switch contentType {
		case TypeM4A, TypeMP4, TypeMOV, Type3GPP, TypeOgg, TypeWebM, TypeMatroska,
			TypeMP3, TypeAAC, TypeWAV, TypeAMR, TypeAMRWB, TypeFLAC:
			return true
		}
	case KindVideo:
		switch contentType {
		case TypeMP4, TypeMOV, Type3GPP, TypeWebM, TypeMatroska:
			return true
		}
	}
	return false
}
