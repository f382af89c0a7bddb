package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// ffprobeInfo runs ffprobe on a file and returns its first stream and
// container duration.
func ffprobeInfo(tb testing.TB, path string) (stream map[string]any, duration float64) {
	tb.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
		Streams []map[string]any `json:"streams"`
		Format  struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		tb.Fatal(err)
	}
	if len(p.Streams) == 0 {
		tb.Fatalf("ffprobe %s: no streams", path)
	}
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return p.Streams[0], d
}

var playbackRE = regexp.MustCompile(`Playback length: (\d+)m:(\d+\.\d+)s`)

func TestVoiceFormats(t *testing.T) {
	for _, tc := range []struct {
		file, ct, codec string
		dur             float64 // input duration, s; 0: ask ffprobe
	}{
		{"voice.m4a", TypeM4A, "aac", 0},
		{"voice.ogg", TypeOgg, "opus", 0},
		{"voice.webm", "audio/webm", "opus", 0},
		{"voice.mp3", TypeMP3, "mp3", 0},
		{"voice.wav", TypeWAV, "pcm_s16le", 0},
		{"voice.amr", TypeAMR, "amr_nb", 5.0}, // 250 frames; ffprobe only estimates raw AMR
		{"voice.3gp", "audio/3gpp", "amr_nb", 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src := corpus(t, tc.file)
			res := mustProcess(t, KindAuto, src, Limits{})
			if res.Kind != KindVoice || res.ContentType != tc.ct || res.AudioCodec != tc.codec {
				t.Errorf("got %s %s %s, want voice %s %s", res.Kind, res.ContentType, res.AudioCodec, tc.ct, tc.codec)
			}
			// The duration matches the input's within 50 ms.
			inDur := tc.dur
			if inDur == 0 {
				_, inDur = ffprobeInfo(t, src)
			}
			if d := float64(res.DurationMS)/1000 - inDur; d > 0.05 || d < -0.05 {
				t.Errorf("duration %d ms, input %.3f s", res.DurationMS, inDur)
			}
			checkWaveform(t, res.Waveform)

			o := output(t, res, "audio")
			if o.ContentType != TypeOggOpus {
				t.Errorf("audio content type %q", o.ContentType)
			}
			// ffprobe accepts it as 48 kHz mono Opus in Ogg.
			st, _ := ffprobeInfo(t, o.Path)
			if st["codec_name"] != "opus" || st["sample_rate"] != "48000" || st["channels"] != float64(1) {
				t.Errorf("ffprobe: codec %v rate %v channels %v, want opus 48000 1", st["codec_name"], st["sample_rate"], st["channels"])
			}
			// opusinfo accepts it: pre-skip, granule positions, end of stream.
			info, err := exec.Command("opusinfo", o.Path).CombinedOutput()
			if err != nil || bytes.Contains(info, []byte("WARNING")) || bytes.Contains(info, []byte("ERROR")) {
				t.Fatalf("opusinfo: %v\n%s", err, info)
			}
			for _, want := range []string{"Pre-skip: 312", "Channels: 1", "Logical stream 1 ended"} {
				if !bytes.Contains(info, []byte(want)) {
					t.Errorf("opusinfo lacks %q:\n%s", want, info)
				}
			}
			m := playbackRE.FindSubmatch(info)
			if m == nil {
				t.Fatalf("opusinfo: no playback length:\n%s", info)
			}
			mins, _ := strconv.Atoi(string(m[1]))
			secs, _ := strconv.ParseFloat(string(m[2]), 64)
			if d := float64(mins*60) + secs - inDur; d > 0.05 || d < -0.05 {
				t.Errorf("Ogg playback length %s:%s, input %.3f s", m[1], m[2], inDur)
			}
			// 24 kbit/s ±15%, Ogg overhead included.
			kbps := float64(o.Size) * 8 / (float64(res.DurationMS) / 1000) / 1000
			if kbps < 24*0.85 || kbps > 24*1.15 {
				t.Errorf("bitrate %.1f kbit/s, want 24 ±15%%", kbps)
			}
		})
	}
}

func checkWaveform(tb testing.TB, w []int) {
	tb.Helper()
	if len(w) != 64 {
		tb.Fatalf("waveform has %d values, want 64", len(w))
	}
	top := 0
	for _, v := range w {
		if v < 0 || v > 100 {
			tb.Fatalf("waveform value %d outside 0–100: %v", v, w)
		}
		top = max(top, v)
	}
	if top != 100 {
		tb.Errorf("waveform peaks at %d, want 100 (relative to the loudest frame): %v", top, w)
	}
}

func TestVoiceLimits(t *testing.T) {
	src := corpus(t, "voice.m4a")
	_, err := Process(context.Background(), KindVoice, src, t.TempDir(), Limits{MaxDuration: 2 * time.Second})
	wantErr(t, err, ErrTooLarge)

	// The decoder's own cut-off works without the probe's verdict too.
	var out bytes.Buffer
	_, err = encodeVoice(context.Background(), src, &out, Limits{MaxDuration: 2 * time.Second}.withDefaults())
	wantErr(t, err, ErrTooLarge)
}

func TestVoiceZeroSeconds(t *testing.T) {
	for _, f := range []string{"silence.wav", "silence.m4a"} {
		t.Run(f, func(t *testing.T) {
			for _, kind := range []Kind{KindAuto, KindVoice} {
				dir := t.TempDir()
				_, err := Process(context.Background(), kind, corpus(t, f), dir, Limits{})
				wantErr(t, err, ErrCorrupt)
				checkEmptyDir(t, dir)
			}
		})
	}
}

func TestWaveform(t *testing.T) {
	ve := &voiceEncoding{peaks: []uint16{0, 1000, 32767, 500}}
	w := ve.waveform()
	if len(w) != 64 || w[0] != 0 || w[63] != 2 || w[32] != 100 || w[16] != 3 {
		t.Errorf("waveform of 4 frames: %v", w)
	}
	long := &voiceEncoding{peaks: make([]uint16, 45000)}
	for i := range long.peaks {
		long.peaks[i] = uint16(i % 300)
	}
	checkWaveform(t, long.waveform())
	if w := (&voiceEncoding{peaks: make([]uint16, 10)}).waveform(); len(w) != 64 || w[0] != 0 {
		t.Errorf("waveform of silence: %v", w)
	}
}
