package pipeline

import "testing"

// TestAvatarSquareCrops: a 600×400 picture (upright or stored rotated
// with an EXIF orientation) becomes upright squares of 512 and 96 px —
// its centred 400×400 scaled, so the four coloured quadrants stay where
// they are — with a blurhash and no preview or thumbnail.
func TestAvatarSquareCrops(t *testing.T) {
	for _, name := range []string{"upright.png", "orient-6.jpg", "orient-3.jpg"} {
		t.Run(name, func(t *testing.T) {
			res := mustProcess(t, KindAvatar, corpus(t, name), Limits{})
			if res.Kind != KindAvatar || res.Blurhash == "" || res.Width != 600 || res.Height != 400 {
				t.Errorf("result: kind %s, blurhash %q, %dx%d; want avatar with a blurhash, 600x400", res.Kind, res.Blurhash, res.Width, res.Height)
			}
			for name, side := range map[string]int{OutputAvatarLarge: 512, OutputAvatarSmall: 96} {
				o := output(t, res, name)
				if o.Width != side || o.Height != side || o.ContentType != TypeJPEG {
					t.Errorf("%s: %dx%d %s, want %dx%d JPEG", name, o.Width, o.Height, o.ContentType, side, side)
				}
				checkQuadrants(t, name, readJPEG(t, o), 40)
			}
			for _, o := range res.Outputs {
				if o.Name == OutputPreview || o.Name == OutputThumbnail {
					t.Errorf("avatar has a %s output", o.Name)
				}
			}
		})
	}
}

// TestAvatarRefusesNonImages: an avatar must be a picture.
func TestAvatarRefusesNonImages(t *testing.T) {
	if Compatible(TypeMP4, KindAvatar) || !Compatible(TypePNG, KindAvatar) {
		t.Error("Compatible: avatars take images only")
	}
	if k, ok := ParseKind("avatar"); !ok || k != KindAvatar {
		t.Errorf("ParseKind(avatar) = %q, %v", k, ok)
	}
}
