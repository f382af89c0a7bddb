// Command mediaprocess runs pipeline.Process on one file and prints the
// Result as JSON. It exists for whole-process benchmarks (start-up
// included) side by side with vipsthumbnail and ffmpeg, before and apart
// from `parley media process`, which does the same inside the parley binary:
//
//	go build -o /tmp/mediaprocess ./pipeline/internal/mediaprocess
//	/usr/bin/time -v /tmp/mediaprocess -kind image -out /tmp/out photo.jpg
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/parley-chat/parley/pipeline"
)

func main() {
	kind := flag.String("kind", "auto", "auto, image, voice, video or file")
	out := flag.String("out", ".", "directory for the derived files")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mediaprocess [-kind KIND] [-out DIR] FILE")
		os.Exit(2)
	}
	k, ok := pipeline.ParseKind(*kind)
	if !ok {
		fmt.Fprintf(os.Stderr, "mediaprocess: unknown kind %q\n", *kind)
		os.Exit(2)
	}
	res, err := pipeline.Process(context.Background(), k, flag.Arg(0), *out, pipeline.Limits{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mediaprocess:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "mediaprocess:", err)
		os.Exit(1)
	}
}
