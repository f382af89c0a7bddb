package pipeline

// Names of the derived files in Result.Outputs.
const (
	OutputPreview   = "preview"   // image: JPEG q80, long side ≤ 1280 px
	OutputThumbnail = "thumbnail" // image: JPEG q80, long side ≤ 320 px
	OutputAudio     = "audio"     // voice: Ogg Opus, 24 kbit/s mono
	OutputPoster    = "poster"    // video: JPEG q80, long side ≤ 1280 px
)

// Output is one derived file written into the output directory.
type Output struct {
	Name        string `json:"name"` // "preview", "thumbnail", "audio" or "poster"
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
	Width      int      `json:"width,omitempty"`
	Height     int      `json:"height,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
	Blurhash   string   `json:"blurhash,omitempty"` // 4×3 components
	Waveform   []int    `json:"waveform,omitempty"` // voice: 64 peaks, 0–100
	VideoCodec string   `json:"video_codec,omitempty"`
	AudioCodec string   `json:"audio_codec,omitempty"` // of the source
	Outputs    []Output `json:"outputs"`
}
