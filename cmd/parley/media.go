package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/parley-chat/parley/pipeline"
)

const mediaUsage = `usage: parley media process FILE [--kind auto|image|voice|video|file] --out DIR

Runs the media pipeline on FILE as a worker would: writes the derived files
(preview.jpg and thumbnail.jpg, audio.ogg, poster.jpg) into DIR and prints the
result (sniffed type, size, sha256, dimensions, duration, blurhash, waveform,
outputs) as JSON. Needs ffmpeg, ffprobe and heif-convert (deploy/deps.sh).
`

// runMedia implements `parley media process`, the operators' and debuggers'
// way into the pipeline.
func runMedia(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "process" {
		fmt.Fprint(stderr, mediaUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		if len(args) == 0 {
			return errUsage
		}
		return fmt.Errorf("media: unknown subcommand %q", args[0])
	}
	fs := flag.NewFlagSet("media process", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mediaUsage); fs.PrintDefaults() }
	kind := fs.String("kind", "auto", "process as `KIND`: auto, image, voice, video or file")
	out := fs.String("out", "", "write the derived files into `DIR` (created if missing)")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: the pipeline's default, 5m)")
	// Flags may come before or after FILE.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		files = append(files, rest[0])
		rest = rest[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return fmt.Errorf("media process: want one FILE, got %d", len(files))
	}
	if *out == "" {
		fs.Usage()
		return errors.New("media process: --out DIR is required")
	}
	k, ok := pipeline.ParseKind(strings.ToLower(*kind))
	if !ok {
		return fmt.Errorf("media process: unknown kind %q (want auto, image, voice, video or file)", *kind)
	}
	res, err := pipeline.Process(ctx, k, files[0], *out, pipeline.Limits{Timeout: *timeout})
	if err != nil {
		return fmt.Errorf("media process: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
