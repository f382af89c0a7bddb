package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// probe is the part of ffprobe's JSON the pipeline reads.
type probe struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

type probeStream struct {
	Index     int    `json:"index"`
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Duration  string `json:"duration"`
	// Profile, Level, PixFmt and SampleAspectRatio are filled by ffprobe
	// only (probeISO leaves them empty); Playback reads them.
	Profile           string `json:"profile"`
	Level             int    `json:"level"`
	PixFmt            string `json:"pix_fmt"`
	SampleAspectRatio string `json:"sample_aspect_ratio"`
	Disposition       struct {
		AttachedPic int `json:"attached_pic"`
	} `json:"disposition"`
	Tags struct {
		Rotate string `json:"rotate"`
	} `json:"tags"`
	SideDataList []struct {
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// runProbe runs ffprobe on path. A file ffprobe cannot parse is ErrCorrupt:
// the caller sniffed it as an audio or video container already.
func runProbe(ctx context.Context, path string) (*probe, error) {
	var out bytes.Buffer
	err := runCommand(ctx, &out, "ffprobe", "-v", "error", "-hide_banner",
		"-show_entries", "format=format_name,duration:stream=index,codec_type,codec_name,width,height,duration,profile,level,pix_fmt,sample_aspect_ratio:stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation",
		"-of", "json", ffInput(path))
	if err != nil {
		if ctx.Err() != nil || !isExitError(err) {
			return nil, err
		}
		return nil, errorf(ErrCorrupt, "%w", err)
	}
	var p probe
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		return nil, errorf(ErrCorrupt, "ffprobe output: %w", err)
	}
	return &p, nil
}

// video returns the first real video stream: cover art in an M4A or MP3
// is a one-picture "video" stream marked attached_pic and does not count.
func (p *probe) video() *probeStream {
	for i := range p.Streams {
		s := &p.Streams[i]
		if s.CodecType == "video" && s.Disposition.AttachedPic == 0 {
			return s
		}
	}
	return nil
}

func (p *probe) audio() *probeStream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == "audio" {
			return &p.Streams[i]
		}
	}
	return nil
}

// duration is the container's duration, or the stream's when the container
// does not say (0 if neither does).
func (p *probe) duration(s *probeStream) time.Duration {
	for _, v := range []string{p.Format.Duration, streamDuration(s)} {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && !math.IsInf(f, 0) {
			return time.Duration(f * float64(time.Second))
		}
	}
	return 0
}

func streamDuration(s *probeStream) string {
	if s == nil {
		return ""
	}
	return s.Duration
}

// rotation returns the stream's display rotation in degrees, normalised to
// 0, 90, 180 or 270.
func (s *probeStream) rotation() int {
	var deg float64
	for _, sd := range s.SideDataList {
		if sd.Rotation != 0 {
			deg = sd.Rotation
		}
	}
	if deg == 0 && s.Tags.Rotate != "" {
		deg, _ = strconv.ParseFloat(s.Tags.Rotate, 64)
	}
	r := int(math.Round(deg/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

// sar returns the stream's sample aspect ratio as num/den (1/1 when unset
// or unreadable).
func (s *probeStream) sar() (num, den int) {
	var n, d int
	if _, err := fmt.Sscanf(s.SampleAspectRatio, "%d:%d", &n, &d); err != nil || n <= 0 || d <= 0 {
		return 1, 1
	}
	return n, d
}
