// Package pipeline turns one uploaded media file into what a chat bubble
// needs: for a photo a 1280 px JPEG preview, a 320 px thumbnail and a
// blurhash; for a voice note a 24 kbit/s Ogg Opus file, its duration and a
// 64-value waveform; for a video its duration, codecs and a poster frame; for
// any file its sniffed type, size and SHA-256.
//
// It is pure media processing: a file in, derived files and metadata out. It
// imports no queue, database or network code, so workers, tests and the
// `parley media process` command all run the same code.
//
//	res, err := pipeline.Process(ctx, pipeline.KindAuto, "in.heic", outDir, pipeline.Limits{})
//	if err != nil {
//		if pipeline.Permanent(err) {
//			// unsupported, corrupt or too large: retrying cannot help
//		}
//		return err
//	}
//	for _, o := range res.Outputs {
//		upload(o.Name, o.Path, o.ContentType)
//	}
//
// Decoding that Go does badly is handed to native code: JPEG goes through
// libjpeg-turbo (decoded at reduced scale when only a preview is needed),
// HEIC/HEIF through heif-convert, audio and video through ffmpeg and
// ffprobe, Opus encoding through libopus. Every subprocess runs under the
// context with the Limits' timeout and is killed on cancel; dimensions and
// durations are checked against Limits before anything is decoded, so
// memory stays bounded whatever the input claims.
package pipeline
