package pipeline

// Names of the derived files in Result.Outputs.
const (
	OutputPreview   = "preview"   // image: JPEG q80, long side ≤ 1280 px
	OutputThumbnail = "thumbnail" // image: JPEG q80, long side ≤ 320 px
	OutputAudio     = "audio"     // voice: Ogg Opus, 24 kbit/s mono
	OutputPoster    = "poster"    // video, animated image: JPEG q80, long side ≤ 1280 px
	// OutputOriginal is the source with its metadata (EXIF, GPS, XMP, IPTC,
	// container tags) removed and the pixels or streams untouched; absent
	// when there was nothing to remove or Limits.KeepMetadata is set.
	OutputOriginal = "original"
	// OutputAnimation is an animated GIF or WebP as a silent H.264 MP4
	// (even sides, yuv420p) for clients to play muted in a loop.
	OutputAnimation = "animation"
	// OutputPlayback is a video as H.264 High (level ≤ 4.1) + AAC-LC in a
	// faststart MP4, long side ≤ 1280 px, written by Playback.
	OutputPlayback = "playback"
)

// Output is one derived file written into the output directory.
type Output struct {
	Name        string `json:"name"` // one of the Output constants
	Path        string `json:"path"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// Result is what Process learnt about its input and what it wrote.
type Result struct {
	Kind        Kind   `json:"kind"`
	ContentType string `json:"content_type"` // sniffed from the bytes, never declared
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"` // hex of the source file
	// Width and Height are as displayed: after EXIF orientation for images
	// and after rotation side data for videos.
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Blurhash   string `json:"blurhash,omitempty"` // 4×3 components
	Waveform   []int  `json:"waveform,omitempty"` // voice: 64 peaks, 0–100
	// Animated is true for an animated GIF or WebP (more than one frame);
	// FrameCount and DurationMS then describe the animation.
	Animated   bool     `json:"animated,omitempty"`
	FrameCount int      `json:"frame_count,omitempty"`
	VideoCodec string   `json:"video_codec,omitempty"`
	AudioCodec string   `json:"audio_codec,omitempty"` // of the source
	Outputs    []Output `json:"outputs"`
}
