package pipeline

import (
	"os"
	"testing"
)

func TestSniff(t *testing.T) {
	ftyp := func(major string, compat ...string) []byte {
		b := []byte{0, 0, 0, byte(16 + 4*len(compat)), 'f', 't', 'y', 'p'}
		b = append(b, major...)
		b = append(b, 0, 0, 0, 0)
		for _, c := range compat {
			b = append(b, c...)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		head []byte
		ct   string
		kind Kind
	}{
		{"jpeg", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF"), TypeJPEG, KindImage},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), TypePNG, KindImage},
		{"gif", []byte("GIF89a\x01\x00"), TypeGIF, KindImage},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), TypeWebP, KindImage},
		{"heic", ftyp("heic", "mif1", "heic"), TypeHEIC, KindImage},
		{"heif mif1", ftyp("mif1", "mif1", "miaf"), TypeHEIF, KindImage},
		{"avif", ftyp("avif", "mif1", "avif"), TypeAVIF, KindImage},
		{"m4a", ftyp("M4A ", "M4A ", "isom"), TypeM4A, KindVoice},
		{"mp4", ftyp("isom", "isom", "avc1"), TypeMP4, KindVideo},
		{"mov", ftyp("qt  ", "qt  "), TypeMOV, KindVideo},
		{"3gp", ftyp("3gp4", "isom", "3gp4"), Type3GPP, KindVideo},
		{"ogg", []byte("OggS\x00\x02"), TypeOgg, KindVoice},
		{"webm", []byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm"), TypeWebM, KindVideo},
		{"mkv", []byte("\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\x82\x88matroska"), TypeMatroska, KindVideo},
		{"mp3 id3", []byte("ID3\x04\x00"), TypeMP3, KindVoice},
		{"mp3 frame", []byte("\xFF\xFB\x90\x64"), TypeMP3, KindVoice},
		{"aac adts", []byte("\xFF\xF1\x50\x80"), TypeAAC, KindVoice},
		{"wav", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), TypeWAV, KindVoice},
		{"amr", []byte("#!AMR\n\x3c"), TypeAMR, KindVoice},
		{"amr-wb", []byte("#!AMR-WB\n"), TypeAMRWB, KindVoice},
		{"pdf", []byte("%PDF-1.7\n"), TypePDF, KindFile},
		{"text", []byte("hello, world"), TypeUnknown, KindFile},
		{"empty", nil, TypeUnknown, KindFile},
		{"short ftyp", []byte("\x00\x00\x00\x08ftyp"), TypeUnknown, KindFile},
		{"ftyp with a lying size", append([]byte{0xFF, 0xFF, 0xFF, 0xFF}, []byte("ftypheic")...), TypeHEIC, KindImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct, kind := Sniff(tc.head)
			if ct != tc.ct || kind != tc.kind {
				t.Errorf("Sniff = %s, %s; want %s, %s", ct, kind, tc.ct, tc.kind)
			}
		})
	}
}

func TestSniffCorpus(t *testing.T) {
	for file, want := range map[string]string{
		"orient-1.jpg": TypeJPEG, "alpha.png": TypePNG, "anim.gif": TypeGIF, "image.webp": TypeWebP,
		"anim.webp": TypeWebP, "image.heic": TypeHEIC, "voice.m4a": TypeM4A, "voice.ogg": TypeOgg,
		"voice.webm": TypeWebM, "voice.mp3": TypeMP3, "voice.wav": TypeWAV, "voice.amr": TypeAMR,
		"voice.3gp": Type3GPP, "video.mp4": TypeMP4, "video.webm": TypeWebM, "video.3gp": Type3GPP,
		"rotated.mov": TypeMOV, "text.jpg": TypeUnknown, "bomb.png": TypePNG,
	} {
		data, err := os.ReadFile(corpus(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if ct, _ := Sniff(data[:min(len(data), SniffLen)]); ct != want {
			t.Errorf("Sniff(%s) = %s, want %s", file, ct, want)
		}
	}
}

func TestCompatible(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		kind Kind
		want bool
	}{
		{TypeJPEG, KindImage, true},
		{TypeJPEG, KindVoice, false},
		{TypeJPEG, KindFile, true},
		{TypeWebM, KindVoice, true}, // browsers record voice notes in WebM
		{TypeWebM, KindVideo, true},
		{TypeM4A, KindVoice, true},
		{TypeM4A, KindVideo, false},
		{TypeMP3, KindVideo, false},
		{TypeUnknown, KindImage, false},
		{TypeUnknown, KindFile, true},
		{TypePDF, KindAuto, true},
	} {
		if got := Compatible(tc.ct, tc.kind); got != tc.want {
			t.Errorf("Compatible(%s, %s) = %v, want %v", tc.ct, tc.kind, got, tc.want)
		}
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"": KindAuto, "auto": KindAuto, "image": KindImage, "voice": KindVoice, "video": KindVideo, "file": KindFile} {
		if got, ok := ParseKind(in); !ok || got != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseKind("audio"); ok {
		t.Error(`ParseKind("audio") ok`)
	}
}
