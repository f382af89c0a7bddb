package pipeline

import (
	"context"
	"image"

	"github.com/disintegration/imaging"
)

// Avatar outputs: square JPEG crops of the middle of the picture.
const (
	OutputAvatarLarge = "avatar_512" // avatar: JPEG q80, 512×512 px
	OutputAvatarSmall = "avatar_96"  // avatar: JPEG q80, 96×96 px
	AvatarLargeSide   = 512
	AvatarSmallSide   = 96
)

// processAvatar writes the square crops of a profile picture (the largest
// centred square, upright, scaled to 512 and 96 px; smaller pictures are
// scaled up) and its blurhash, and, unless lim.KeepMetadata, the stripped
// original. An animated GIF or WebP gives its first frame.
func processAvatar(ctx context.Context, ct string, data []byte, src, outDir string, lim Limits, res *Result) error {
	// Decode for the short side to reach 512 px after cropping: asking
	// for a long side of 4×512 keeps any sane aspect ratio above it.
	d, err := decodeImage(ctx, ct, data, src, lim, 4*AvatarLargeSide)
	if err != nil {
		return err
	}
	img := d.img
	if b := img.Bounds(); b.Dx() > 4*AvatarLargeSide || b.Dy() > 4*AvatarLargeSide {
		w, h := fit(b.Dx(), b.Dy(), 4*AvatarLargeSide)
		img = resize(img, w, h)
	}
	img = orient(img, d.orientation)
	res.Width, res.Height = d.width, d.height
	if swapsSides(d.orientation) {
		res.Width, res.Height = d.height, d.width
	}
	large := square(img, AvatarLargeSide)
	small := square(large, AvatarSmallSide)
	if res.Blurhash, err = blurhashOf(small); err != nil {
		return err
	}
	return writeImageOutputs(ctx, ct, data, src, outDir, lim, res,
		[]namedImage{{OutputAvatarLarge, large}, {OutputAvatarSmall, small}})
}

// square returns the centred square of img scaled to side×side.
func square(img *image.NRGBA, side int) *image.NRGBA {
	return imaging.Fill(img, side, side, imaging.Center, imaging.CatmullRom)
}
