package pipeline

import "time"

// Kind is what an attachment is processed as.
type Kind string

// The kinds Process understands. KindAuto ("" works too) detects the kind
// from the content.
const (
	KindImage Kind = "image"
	KindVoice Kind = "voice"
	KindVideo Kind = "video"
	KindFile  Kind = "file"
	KindAuto  Kind = "auto"
	// KindAvatar is a profile picture: an image cropped square (avatar.go).
	KindAvatar Kind = "avatar"
)

// ParseKind parses "image", "voice", "video", "file", "avatar", "auto" or "".
func ParseKind(s string) (Kind, bool) {
	switch k := Kind(s); k {
	case KindImage, KindVoice, KindVideo, KindFile, KindAvatar, KindAuto:
		return k, true
	case "":
		return KindAuto, true
	}
	return "", false
}

// Defaults used for zero fields of Limits.
const (
	DefaultMaxPixels     = 50_000_000       // 50 MP: above any phone camera's full resolution
	DefaultMaxSide       = 16384            // px, either side, image or video frame
	DefaultMaxDuration   = 15 * time.Minute // voice notes and videos
	DefaultMaxInputBytes = 2 << 30          // 2 GiB
	DefaultTimeout       = 5 * time.Minute  // a 15 min voice note takes about 12 s here

	// DefaultMaxFrames bounds the frames of an animated GIF or WebP.
	DefaultMaxFrames = 1000
	// DefaultMaxAnimationPixels bounds frames × canvas pixels of an
	// animation: what decoding it costs. 500 M is 1,000 frames of 720×690,
	// or 10 frames of a 50 MP canvas; a real GIF is a few tens of M.
	DefaultMaxAnimationPixels = 500_000_000

	// MaxImageBytes caps the size of an image file, which is read into memory
	// whole; no real photo comes near it.
	MaxImageBytes = 256 << 20
)

// Limits bound what Process accepts. Each zero field means its Default
// constant. Inputs over a limit fail with ErrTooLarge before being decoded.
type Limits struct {
	MaxPixels     int64         // width×height of an image or video frame
	MaxSide       int           // longest side of an image or video frame, px
	MaxDuration   time.Duration // voice notes and videos
	MaxInputBytes int64         // size of the source file
	Timeout       time.Duration // the whole Process call, subprocesses included

	MaxFrames          int   // frames of an animated image
	MaxAnimationPixels int64 // frames × canvas pixels of an animated image

	// KeepMetadata, when true, skips the `original` output: the
	// deployment serves originals as uploaded, location and all. It is not
	// a limit, but like them it is a setting the caller passes through.
	KeepMetadata bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = DefaultMaxInputBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.MaxAnimationPixels <= 0 {
		l.MaxAnimationPixels = DefaultMaxAnimationPixels
	}
	return l
}

// checkDims returns ErrTooLarge when a w×h frame is over the limits.
func (l Limits) checkDims(w, h int) error {
	if w <= 0 || h <= 0 {
		return errorf(ErrCorrupt, "dimensions %dx%d", w, h)
	}
	if w > l.MaxSide || h > l.MaxSide {
		return errorf(ErrTooLarge, "%dx%d: a side is over %d px", w, h, l.MaxSide)
	}
	if int64(w)*int64(h) > l.MaxPixels {
		return errorf(ErrTooLarge, "%dx%d: %d pixels, over %d", w, h, int64(w)*int64(h), l.MaxPixels)
	}
	return nil
}

func (l Limits) checkDuration(d time.Duration) error {
	if d > l.MaxDuration {
		return errorf(ErrTooLarge, "duration %v is over %v", d.Round(time.Millisecond), l.MaxDuration)
	}
	return nil
}
