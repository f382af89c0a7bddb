package oggopus

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestCRC(t *testing.T) {
	// Ogg's CRC (CRC-32/MPEG-2 polynomial, initial 0, no final xor) of
	// "123456789" is 0x89a1897f.
	if got := crc([]byte("123456789")); got != 0x89a1897f {
		t.Errorf("crc = %#x, want 0x89a1897f", got)
	}
}

type page struct {
	flags    byte
	granule  int64
	seq      uint32
	packets  [][]byte
	complete bool // last packet ends on this page
}

// parsePages splits an Ogg stream into pages, checking capture patterns
// and CRCs.
func parsePages(t *testing.T, b []byte) []page {
	t.Helper()
	var pages []page
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			t.Fatalf("page %d: bad capture pattern", len(pages))
		}
		n := int(b[26])
		segs := b[27 : 27+n]
		size := 27 + n
		for _, s := range segs {
			size += int(s)
		}
		raw := append([]byte(nil), b[:size]...)
		want := binary.LittleEndian.Uint32(raw[22:])
		binary.LittleEndian.PutUint32(raw[22:], 0)
		if got := crc(raw); got != want {
			t.Fatalf("page %d: crc %#x, header says %#x", len(pages), got, want)
		}
		p := page{flags: b[5], granule: int64(binary.LittleEndian.Uint64(b[6:])), seq: binary.LittleEndian.Uint32(b[18:])}
		body := b[27+n : size]
		var cur []byte
		for _, s := range segs {
			cur = append(cur, body[:s]...)
			body = body[s:]
			if s < 255 {
				p.packets = append(p.packets, cur)
				cur = nil
			}
		}
		p.complete = cur == nil
		pages = append(pages, p)
		b = b[size:]
	}
	return pages
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Channels: 1, PreSkip: 312, InputSampleRate: 44100, Vendor: "test", Serial: 7})
	if err != nil {
		t.Fatal(err)
	}
	// 130 packets of 20 ms (2.6 s), sizes crossing the 255-byte lacing edge.
	sizes := []int{0, 1, 254, 255, 256, 510, 60}
	for i := 0; i < 130; i++ {
		pkt := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
		if err := w.WritePacket(pkt, 960); err != nil {
			t.Fatal(err)
		}
	}
	total := int64(130*960 - 312 - 100) // the last 100 samples are padding
	if err := w.Close(total); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket([]byte{1}, 960); err == nil {
		t.Error("write after close succeeded")
	}
	pages := parsePages(t, buf.Bytes())
	if len(pages) != 5 { // head, tags, 1 s, 1 s, 0.6 s + EOS
		t.Fatalf("got %d pages, want 5", len(pages))
	}
	head := pages[0].packets[0]
	if pages[0].flags != flagBOS || string(head[:8]) != "OpusHead" || head[9] != 1 ||
		binary.LittleEndian.Uint16(head[10:]) != 312 || binary.LittleEndian.Uint32(head[12:]) != 44100 {
		t.Errorf("bad OpusHead page: flags %d %q", pages[0].flags, head)
	}
	if tags := pages[1].packets[0]; string(tags[:8]) != "OpusTags" || pages[1].granule != 0 {
		t.Errorf("bad OpusTags page: %q", tags)
	}
	var n int
	for i, p := range pages[2:] {
		if p.seq != uint32(i+2) || !p.complete {
			t.Errorf("page %d: seq %d complete %v", i+2, p.seq, p.complete)
		}
		for _, pkt := range p.packets {
			if want := sizes[n%len(sizes)]; len(pkt) != want || (want > 0 && pkt[0] != byte(n)) {
				t.Fatalf("packet %d: %d bytes, want %d", n, len(pkt), want)
			}
			n++
		}
	}
	if n != 130 {
		t.Errorf("got %d packets, want 130", n)
	}
	if g := pages[2].granule; g != 50*960 {
		t.Errorf("first audio page granule %d, want %d", g, 50*960)
	}
	last := pages[len(pages)-1]
	if last.flags != flagEOS || last.granule != 312+total {
		t.Errorf("last page flags %d granule %d, want EOS and %d", last.flags, last.granule, 312+total)
	}
}

func TestWriterRefuses(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, Header{Channels: 3}); err == nil {
		t.Error("3 channels accepted")
	}
	w, _ := NewWriter(&bytes.Buffer{}, Header{Channels: 1, PreSkip: 312})
	_ = w.WritePacket([]byte{1}, 960)
	if err := w.Close(960); err == nil { // 312+960 > 960 samples written
		t.Error("Close past the written samples accepted")
	}
	w2, _ := NewWriter(&bytes.Buffer{}, Header{Channels: 1})
	if err := w2.WritePacket(make([]byte, 255*255+1), 960); err == nil {
		t.Error("oversized packet accepted")
	}
}
