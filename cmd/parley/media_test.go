package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/pipeline"
)

// writePNG writes a w×h opaque PNG to a temporary file.
func writePNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	path := filepath.Join(t.TempDir(), "in.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMediaProcess(t *testing.T) {
	src := writePNG(t, 640, 360)
	outDir := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{
		{"process", src, "--out", outDir},
		{"process", "--kind", "image", "--out", outDir, src},
		{"process", src, "-kind=auto", "-out=" + outDir},
	} {
		var stdout, stderr bytes.Buffer
		if err := runMedia(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("runMedia(%q): %v\n%s", args, err, stderr.String())
		}
		var res pipeline.Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("output is not a Result: %v\n%s", err, stdout.String())
		}
		if res.Kind != pipeline.KindImage || res.ContentType != "image/png" || res.Width != 640 || res.Height != 360 || res.Blurhash == "" {
			t.Errorf("got %+v", res)
		}
		if len(res.Outputs) != 2 {
			t.Fatalf("got %d outputs, want 2", len(res.Outputs))
		}
		for _, o := range res.Outputs {
			if filepath.Dir(o.Path) != outDir {
				t.Errorf("%s written to %s, want into %s", o.Name, o.Path, outDir)
			}
			if st, err := os.Stat(o.Path); err != nil || st.Size() != o.Size {
				t.Errorf("%s: %v, size %d", o.Name, err, o.Size)
			}
		}
		if !strings.Contains(stdout.String(), "\n  \"kind\": \"image\"") {
			t.Errorf("JSON is not indented:\n%s", stdout.String())
		}
	}
}

func TestMediaProcessErrors(t *testing.T) {
	text := filepath.Join(t.TempDir(), "text.jpg")
	if err := os.WriteFile(text, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want func(error) bool
	}{
		{"no subcommand", nil, func(err error) bool { return errors.Is(err, errUsage) }},
		{"help", []string{"-h"}, func(err error) bool { return errors.Is(err, flag.ErrHelp) }},
		{"unknown subcommand", []string{"convert"}, func(err error) bool { return err != nil }},
		{"no file", []string{"process", "--out", out}, func(err error) bool { return err != nil }},
		{"two files", []string{"process", text, text, "--out", out}, func(err error) bool { return err != nil }},
		{"no out", []string{"process", text}, func(err error) bool { return err != nil }},
		{"bad kind", []string{"process", text, "--kind", "sticker", "--out", out}, func(err error) bool { return err != nil }},
		{"text as image", []string{"process", text, "--kind", "image", "--out", out}, func(err error) bool {
			return errors.Is(err, pipeline.ErrUnsupported) && pipeline.Permanent(err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runMedia(context.Background(), tc.args, &stdout, &stderr)
			if !tc.want(err) {
				t.Errorf("got error %v", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q on failure", stdout.String())
			}
		})
	}
}

func TestMediaProcessFile(t *testing.T) {
	text := filepath.Join(t.TempDir(), "notes.jpg")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := runMedia(context.Background(), []string{"process", text, "--out", t.TempDir()}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var res pipeline.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	// sha256("hello")
	if res.Kind != pipeline.KindFile || res.Size != 5 || res.SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Errorf("got %+v", res)
	}
}
