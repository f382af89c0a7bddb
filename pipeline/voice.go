package pipeline

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"gopkg.in/hraban/opus.v2"

	"github.com/parley-chat/parley/pipeline/internal/oggopus"
)

// Voice output settings.
const (
	VoiceBitrate = 24000 // bit/s
	voiceRate    = oggopus.SampleRate
	voiceFrame   = voiceRate / 50 // 20 ms
	WaveformLen  = 64
	// voiceComplexity and opus.AppAudio (in encodePCM) are what
	// `ffmpeg -c:a libopus` uses: the same libopus work, so the pipeline's
	// edge comes from decoding in ffmpeg while libopus encodes here.
	voiceComplexity = 10
	// opusPreSkip is libopus's lookahead at 48 kHz for the VoIP and audio
	// applications (hraban/opus has no getter); opusenc and ffmpeg write the
	// same.
	opusPreSkip = 312
	// TypeOggOpus is the content type of the audio output.
	TypeOggOpus = "audio/ogg; codecs=opus"
)

// processVoice decodes any audio ffmpeg reads to 48 kHz mono PCM, encodes it
// with libopus at 24 kbit/s in 20 ms frames into outDir/audio.ogg, and
// measures its duration and waveform. ffprobe runs alongside the decoder
// (pr is nil) unless the caller has probed already; its verdict (no audio,
// too long) stops the decoder early.
func processVoice(ctx context.Context, src, outDir string, lim Limits, res *Result, pr *probe) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	probed := make(chan error, 1)
	if pr != nil {
		probed <- checkVoiceProbe(pr, lim, res)
	} else {
		go func() {
			p, err := probeFile(ctx, src)
			if err == nil {
				err = checkVoiceProbe(p, lim, res)
			}
			if err != nil {
				cancel() // no point decoding what will be refused
			}
			probed <- err
		}()
	}

	out, err := os.CreateTemp(outDir, ".audio.ogg-*")
	if err != nil {
		return err
	}
	tmp := out.Name()
	enc, encErr := encodeVoice(ctx, src, out, lim)
	if cerr := out.Close(); encErr == nil {
		encErr = cerr
	}
	if perr := <-probed; perr != nil {
		os.Remove(tmp)
		return perr // the probe's reason beats a killed decoder's
	}
	if encErr != nil {
		os.Remove(tmp)
		return encErr
	}
	path, err := commitOutput(tmp, outDir, "audio.ogg", nil)
	if err != nil {
		return err
	}
	res.DurationMS = enc.samples * 1000 / voiceRate
	res.Waveform = enc.waveform()
	res.Outputs = append(res.Outputs, Output{Name: OutputAudio, Path: path, ContentType: TypeOggOpus, Size: enc.bytes})
	return nil
}

// checkVoiceProbe refuses a file with no audio or a duration over the limit.
func checkVoiceProbe(p *probe, lim Limits, res *Result) error {
	if len(p.Streams) == 0 {
		return errorf(ErrCorrupt, "no streams")
	}
	a := p.audio()
	if a == nil {
		return errorf(ErrUnsupported, "no audio stream")
	}
	res.AudioCodec = a.CodecName
	return lim.checkDuration(p.duration(a))
}

// voiceEncoding is what encodeVoice measured.
type voiceEncoding struct {
	samples int64    // real input samples at 48 kHz
	bytes   int64    // size of the Ogg file
	peaks   []uint16 // peak amplitude of each 20 ms frame
}

// encodeVoice streams PCM from ffmpeg through libopus into w.
func encodeVoice(ctx context.Context, src string, w io.Writer, lim Limits) (*voiceEncoding, error) {
	maxSamples := int64(lim.MaxDuration / time.Second * voiceRate)
	maxSamples += int64(lim.MaxDuration%time.Second) * voiceRate / int64(time.Second)
	// -t stops ffmpeg a frame past the limit, which is enough to tell that
	// the input is over it without decoding a three-hour "voice note".
	limit := strconv.FormatFloat((lim.MaxDuration + 40*time.Millisecond).Seconds(), 'f', 3, 64)
	cmd, stderr := command(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", ffInput(src), "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", strconv.Itoa(voiceRate),
		"-t", limit, "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, commandError(ctx, "ffmpeg", err, stderr)
	}
	ve, encErr := encodePCM(bufio.NewReaderSize(stdout, 64<<10), w, maxSamples)
	if encErr != nil {
		// Stop ffmpeg before waiting for it: it may be blocked writing.
		_ = cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, ctxError(ctx, fmt.Errorf("decode audio: %w", ctx.Err()))
	case encErr != nil:
		return nil, encErr
	case waitErr != nil:
		err := commandError(ctx, "ffmpeg", waitErr, stderr)
		if isExitError(waitErr) {
			return nil, errorf(ErrCorrupt, "decode audio: %w", err)
		}
		return nil, err
	}
	return ve, nil
}

// encodePCM encodes 16-bit little-endian mono 48 kHz PCM from r into an Ogg
// Opus stream on w. More than maxSamples samples is ErrTooLarge; none at all
// is ErrCorrupt.
func encodePCM(r io.Reader, w io.Writer, maxSamples int64) (*voiceEncoding, error) {
	enc, err := opus.NewEncoder(voiceRate, 1, opus.AppAudio)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	if err := enc.SetBitrate(VoiceBitrate); err != nil {
		return nil, fmt.Errorf("opus bitrate: %w", err)
	}
	if err := enc.SetComplexity(voiceComplexity); err != nil {
		return nil, fmt.Errorf("opus complexity: %w", err)
	}
	cw := &countWriter{w: w}
	ow, err := oggopus.NewWriter(cw, oggopus.Header{
		Channels: 1, PreSkip: opusPreSkip, InputSampleRate: voiceRate,
		Vendor: "parley pipeline (libopus)", Serial: 0x5061726C, // "Parl"
	})
	if err != nil {
		return nil, err
	}
	ve := &voiceEncoding{}
	raw := make([]byte, 2*voiceFrame)
	pcm := make([]int16, voiceFrame)
	packet := make([]byte, 1500)
	encodeFrame := func() error {
		n, err := enc.Encode(pcm, packet)
		if err != nil {
			return fmt.Errorf("opus encode: %w", err)
		}
		return ow.WritePacket(packet[:n], voiceFrame)
	}
	var fed int64 // samples given to the encoder, padding included
	for {
		n, rerr := io.ReadFull(r, raw)
		if n%2 == 1 {
			n-- // half a sample at the very end: drop it
		}
		if n > 0 {
			var peak uint16
			for i := 0; i < n/2; i++ {
				s := int16(binary.LittleEndian.Uint16(raw[2*i:]))
				pcm[i] = s
				if a := absInt16(s); a > peak {
					peak = a
				}
			}
			clear(pcm[n/2:])
			ve.samples += int64(n / 2)
			ve.peaks = append(ve.peaks, peak)
			if ve.samples > maxSamples {
				return nil, errorf(ErrTooLarge, "audio is longer than %v", time.Duration(maxSamples)*time.Second/voiceRate)
			}
			if err := encodeFrame(); err != nil {
				return nil, err
			}
			fed += voiceFrame
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("read pcm: %w", rerr)
		}
	}
	if ve.samples == 0 {
		return nil, errorf(ErrCorrupt, "no audio samples")
	}
	// Push the last real samples out of the encoder's lookahead.
	clear(pcm)
	for fed < ve.samples+opusPreSkip {
		if err := encodeFrame(); err != nil {
			return nil, err
		}
		fed += voiceFrame
	}
	if err := ow.Close(ve.samples); err != nil {
		return nil, err
	}
	ve.bytes = cw.n
	return ve, nil
}

func absInt16(s int16) uint16 {
	if s < 0 {
		return uint16(-int32(s))
	}
	return uint16(s)
}

// waveform reduces the per-frame peaks to WaveformLen values from 0 to 100,
// relative to the loudest frame, as chat clients draw them.
func (ve *voiceEncoding) waveform() []int {
	out := make([]int, WaveformLen)
	n := len(ve.peaks)
	if n == 0 {
		return out
	}
	var top uint16
	for _, p := range ve.peaks {
		top = max(top, p)
	}
	if top == 0 {
		return out
	}
	for i := range out {
		lo, hi := i*n/WaveformLen, (i+1)*n/WaveformLen
		hi = max(hi, lo+1)
		var p uint16
		for _, v := range ve.peaks[lo:min(hi, n)] {
			p = max(p, v)
		}
		out[i] = int((uint32(p)*100 + uint32(top)/2) / uint32(top))
	}
	return out
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
