package pipeline

import (
	"fmt"
	"image"

	"github.com/buckket/go-blurhash"

	"github.com/parley-chat/parley/pipeline/internal/resample"
)

// Blurhash components: 4 across, 3 down, as chat clients expect.
const blurhashX, blurhashY = 4, 3

// blurhashOf hashes an opaque image from a ≤32 px box-averaged copy: the hash
// of a 32 px copy decodes within a few levels of the full-size one at ~1/1000
// the cost, and averaging touches each pixel of a 1280 px poster only once.
func blurhashOf(img *image.NRGBA) (string, error) {
	b := img.Bounds()
	w, h := fit(b.Dx(), b.Dy(), blurhashSide)
	small := img
	if w != b.Dx() || h != b.Dy() {
		small = resample.Box(img, w, h)
	}
	hash, err := blurhash.Encode(blurhashX, blurhashY, small)
	if err != nil {
		return "", fmt.Errorf("blurhash: %w", err)
	}
	return hash, nil
}
