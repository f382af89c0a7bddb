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
	playback := flag.Bool("playback", false, "run pipeline.Playback (a video's playback and stripped original) instead of Process")
	keep := flag.Bool("keep-metadata", false, "write no stripped original (Limits.KeepMetadata)")
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
	lim := pipeline.Limits{KeepMetadata: *keep}
	var res any
	var err error
	if *playback {
		res, err = pipeline.Playback(context.Background(), flag.Arg(0), *out, lim)
	} else {
		res, err = pipeline.Process(context.Background(), k, flag.Arg(0), *out, lim)
	}
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
