// Package oggopus writes Opus packets into an Ogg Opus file (RFC 7845): the
// OpusHead and OpusTags header pages, then audio pages of about one second
// each with granule positions, and an end-of-stream page whose granule
// position trims the encoder's padding. hraban/opus has no Ogg writer, and
// pion's puts every 20 ms packet on its own page (32% overhead at 24 kbit/s)
// with a wrong pre-skip; one-second pages cost about 2.6%.
package oggopus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// SampleRate is the rate Opus granule positions and pre-skip count in.
const SampleRate = 48000

// Page flags.
const (
	flagContinued = 0x01
	flagBOS       = 0x02
	flagEOS       = 0x04
)

// pageSamples is how much audio one page holds before it is written.
const pageSamples = SampleRate

// Writer writes one logical Ogg Opus stream.
type Writer struct {
	w       io.Writer
	serial  uint32
	seq     uint32
	preSkip int64

	// The page being filled.
	segs    []byte
	body    []byte
	samples int64 // decoded samples of all packets written so far, pre-skip included

	lastGranule int64 // granule position of the last page written

	closed bool
	err    error
}

// Header describes the stream for the OpusHead packet.
type Header struct {
	Channels        int    // 1 or 2
	PreSkip         uint16 // samples at 48 kHz to drop at the start: the encoder's lookahead
	InputSampleRate uint32 // informational; 0 if unknown
	Vendor          string // OpusTags vendor string
	Serial          uint32 // stream serial number
}

// NewWriter writes the two header pages and returns a Writer for the audio.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Channels != 1 && h.Channels != 2 {
		return nil, fmt.Errorf("oggopus: %d channels", h.Channels)
	}
	ow := &Writer{w: w, serial: h.Serial, preSkip: int64(h.PreSkip)}
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = byte(h.Channels)
	binary.LittleEndian.PutUint16(head[10:], h.PreSkip)
	binary.LittleEndian.PutUint32(head[12:], h.InputSampleRate)
	// output gain 0, channel mapping family 0
	if err := ow.writePage(flagBOS, 0, lacing(nil, len(head)), head); err != nil {
		return nil, err
	}
	tags := make([]byte, 0, 16+len(h.Vendor))
	tags = append(tags, "OpusTags"...)
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(h.Vendor)))
	tags = append(tags, h.Vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0) // no user comments
	if err := ow.writePage(0, 0, lacing(nil, len(tags)), tags); err != nil {
		return nil, err
	}
	return ow, nil
}

// WritePacket adds one Opus packet that decodes to samples samples (at
// 48 kHz; 960 for a 20 ms frame).
func (ow *Writer) WritePacket(pkt []byte, samples int) error {
	if ow.err != nil {
		return ow.err
	}
	if ow.closed {
		return errors.New("oggopus: write after close")
	}
	if len(pkt) > 255*255 {
		return fmt.Errorf("oggopus: packet of %d bytes", len(pkt))
	}
	if len(ow.segs)+len(pkt)/255+1 > 255 {
		if err := ow.flush(0, ow.samples); err != nil {
			return err
		}
	}
	ow.segs = lacing(ow.segs, len(pkt))
	ow.body = append(ow.body, pkt...)
	ow.samples += int64(samples)
	if ow.samples-ow.lastGranule >= pageSamples {
		return ow.flush(0, ow.samples)
	}
	return nil
}

// Close writes the last page with the end-of-stream flag. total is the
// number of real input samples (at 48 kHz): its granule position is
// pre-skip + total, which tells players to drop the encoder's padding.
// total must not exceed the samples written minus the pre-skip.
func (ow *Writer) Close(total int64) error {
	if ow.err != nil {
		return ow.err
	}
	if ow.closed {
		return nil
	}
	ow.closed = true
	end := ow.preSkip + total
	if end > ow.samples || end < ow.lastGranule {
		return fmt.Errorf("oggopus: end at %d samples, outside %d–%d", end, ow.lastGranule, ow.samples)
	}
	return ow.flush(flagEOS, end)
}

// flush writes the page being filled (even an empty one, for the EOS).
func (ow *Writer) flush(flags byte, granule int64) error {
	err := ow.writePage(flags, granule, ow.segs, ow.body)
	ow.segs, ow.body = ow.segs[:0], ow.body[:0]
	ow.lastGranule = granule
	return err
}

func (ow *Writer) writePage(flags byte, granule int64, segs, body []byte) error {
	if ow.err != nil {
		return ow.err
	}
	page := make([]byte, 27+len(segs)+len(body))
	copy(page, "OggS")
	page[5] = flags
	binary.LittleEndian.PutUint64(page[6:], uint64(granule))
	binary.LittleEndian.PutUint32(page[14:], ow.serial)
	binary.LittleEndian.PutUint32(page[18:], ow.seq)
	page[26] = byte(len(segs))
	copy(page[27:], segs)
	copy(page[27+len(segs):], body)
	binary.LittleEndian.PutUint32(page[22:], crc(page))
	ow.seq++
	if _, err := ow.w.Write(page); err != nil {
		ow.err = fmt.Errorf("oggopus: %w", err)
	}
	return ow.err
}

// lacing appends the segment table entries of an n-byte packet.
func lacing(segs []byte, n int) []byte {
	for ; n >= 255; n -= 255 {
		segs = append(segs, 255)
	}
	return append(segs, byte(n))
}

// crcTable is Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial 0.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func crc(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
