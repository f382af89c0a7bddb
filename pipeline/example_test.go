package pipeline_test

import (
	"errors"
	"fmt"

	"github.com/parley-chat/parley/pipeline"
)

func ExampleSniff() {
	for _, head := range [][]byte{
		[]byte("\xFF\xD8\xFF\xE1\x00\x18Exif"),
		[]byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom"),
		[]byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm"),
		[]byte("just some text"),
	} {
		ct, kind := pipeline.Sniff(head)
		fmt.Println(ct, kind, pipeline.Compatible(ct, pipeline.KindVoice))
	}
	// Output:
	// image/jpeg image false
	// audio/mp4 voice true
	// video/webm video true
	// application/octet-stream file false
}

func ExamplePermanent() {
	err := fmt.Errorf("process in.jpg: %w: 30000x30000: a side is over 16384 px", pipeline.ErrTooLarge)
	fmt.Println(pipeline.Permanent(err), errors.Is(err, pipeline.ErrTooLarge))
	fmt.Println(pipeline.Permanent(fmt.Errorf("process in.ogg: %w", pipeline.ErrTimeout)))
	// Output:
	// true true
	// false
}
