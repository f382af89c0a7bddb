#!/usr/bin/env bash
# mkcorpus.sh DIR [bench] writes the pipeline's test corpus into DIR.
#
# The pipeline tests run it (through corpus_test.go) so that no large media
# files live in the repository. With "bench" it also writes the inputs the
# benchmarks and docs/benchmarks.md use: a 12 MP photo-like JPEG, 60 s of
# AAC voice and a 5 s 1080p H.264 video. Needs ffmpeg, exiftool, heif-enc and
# perl (exiftool's own dependency): run deploy/deps.sh first.
set -euo pipefail

dir=${1:?usage: mkcorpus.sh DIR [bench]}
mode=${2:-test}
mkdir -p "$dir"
cd "$dir"

for tool in ffmpeg ffprobe exiftool heif-enc perl; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "mkcorpus: $tool not found; run deploy/deps.sh" >&2
		exit 1
	}
done

ff() { ffmpeg -hide_banner -nostdin -loglevel error -y "$@"; }

# Speech-like mono audio: a vowel-ish tone whose pitch and loudness wobble,
# over a little noise, so that Opus VBR spends about its target bitrate.
speech() { # seconds
	echo "aevalsrc=exprs='(0.5+0.4*sin(2*PI*3*t))*(0.5*sin(2*PI*(180+40*sin(2*PI*0.7*t))*t)+0.25*sin(2*PI*(720+90*sin(2*PI*1.3*t))*t)+0.1*sin(2*PI*2400*t))':s=44100:d=$1,volume=0.8[a];anoisesrc=d=$1:c=pink:r=44100:a=0.05:seed=7[n];[a][n]amix=inputs=2:normalize=0"
}

if [ "$mode" = playback ]; then
	# 60 s 1080p30 phone-like videos with stereo AAC: HEVC (transcoded for
	# playback) and H.264 High 4.0 (remuxed). Encoding them takes a few
	# minutes on 2 cores, so only the playback benchmarks ask for them.
	src="testsrc2=s=1920x1080:r=30:d=60,noise=alls=6:allf=t"
	ff -f lavfi -i "$src" -f lavfi -i "sine=f=440:d=60" -ac 2 -c:v libx265 -preset ultrafast \
		-x265-params log-level=error -b:v 8M -tag:v hvc1 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest hevc1080p60s.mp4 &
	ff -f lavfi -i "$src" -f lavfi -i "sine=f=440:d=60" -ac 2 -c:v libx264 -preset ultrafast -profile:v high \
		-b:v 8M -pix_fmt yuv420p -c:a aac -b:a 128k -shortest h264-1080p60s.mp4 &
	wait
	exit 0
fi

if [ "$mode" = bench ]; then
	# 4032x3024 photo-like JPEG (~3 MB, baseline, 4:2:0) like a phone camera's.
	ff -f lavfi -i "testsrc2=s=4032x3024:r=1,noise=alls=12:allf=t" -frames:v 1 -q:v 3 photo12mp.jpg
	ff -f lavfi -i "$(speech 60)" -c:a aac -b:a 64k -ac 1 voice60s.m4a
	ff -f lavfi -i "testsrc2=s=1920x1080:r=30:d=5" -f lavfi -i "sine=f=440:d=5" \
		-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -shortest video1080p.mp4
	exit 0
fi

# Images. upright.png has four coloured quadrants (red, green / blue, yellow)
# so a test can tell which way up an output is.
ff -f lavfi -i "color=c=red:s=300x200[a];color=c=lime:s=300x200[b];color=c=blue:s=300x200[c];color=c=yellow:s=300x200[d];[a][b]hstack[t];[c][d]hstack[u];[t][u]vstack" -frames:v 1 upright.png
# orient-N.jpg stores the pixels so that EXIF orientation N shows upright.png.
declare -A stored=([1]="null" [2]="hflip" [3]="hflip,vflip" [4]="vflip"
	[5]="transpose=cclock_flip" [6]="transpose=cclock" [7]="transpose=clock_flip" [8]="transpose=clock")
for n in 1 2 3 4 5 6 7 8; do
	ff -i upright.png -vf "${stored[$n]}" -q:v 2 "orient-$n.jpg" &
done
wait
for n in 1 2 3 4 5 6 7 8; do
	exiftool -q -overwrite_original "-Orientation#=$n" "orient-$n.jpg" &
done
wait
# A 2000x1500 JPEG with GPS position and camera make: outputs must drop them.
ff -f lavfi -i "testsrc2=s=2000x1500:r=1" -frames:v 1 -q:v 4 gps.jpg
exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N \
	-GPSLongitude=2.2945 -GPSLongitudeRef=E -Make=ParleyCam gps.jpg
# Left half opaque blue, right half fully transparent: must come out white.
ff -f lavfi -i "color=c=blue:s=400x300,format=rgba,geq=r=0:g=0:b=255:a='if(lt(X,W/2),255,0)'" -frames:v 1 alpha.png
ff -f lavfi -i "testsrc2=s=320x240:r=5:d=1" -vf "split[a][b];[a]palettegen[p];[b][p]paletteuse" anim.gif
ff -i upright.png -c:v libwebp -quality 80 image.webp
ff -f lavfi -i "testsrc2=s=160x120:r=5:d=1" -c:v libwebp_anim -loop 0 anim.webp
heif-enc -q 60 -o image.heic orient-1.jpg >/dev/null
# heif-enc keeps the EXIF orientation and adds no irot: it must still apply.
heif-enc -q 60 -o orient-6.heic orient-6.jpg >/dev/null
# Progressive grayscale JPEG (another decoder path).
ff -i upright.png -vf format=gray -q:v 3 gray.jpg

# Hostile images.
: >empty.bin
head -c 3000 gps.jpg >truncated.jpg
printf 'this is not a picture, just text named .jpg\n' >text.jpg
# 30000x30000 1-bit grayscale PNG whose pixel data deflates to ~110 KB.
perl -MCompress::Zlib -e '
	binmode STDOUT;
	sub chunk { my ($t, $d) = @_; print pack("N", length $d), $t, $d, pack("N", crc32($t . $d)) }
	my ($w, $h) = (30000, 30000);
	print "\x89PNG\r\n\x1a\n";
	chunk("IHDR", pack("NNCCCCC", $w, $h, 1, 0, 0, 0, 0));
	my ($z) = deflateInit(-Level => Z_BEST_COMPRESSION);
	my $row = "\0" x (1 + $w / 8);
	my $out = "";
	for (1 .. $h) { $out .= $z->deflate($row) }
	$out .= $z->flush();
	chunk("IDAT", $out);
	chunk("IEND", "");
' >bomb.png

# Voice notes, 5 s each, in every container phones and browsers send.
ff -f lavfi -i "$(speech 5)" -ac 1 -c:a aac -b:a 64k voice.m4a &
ff -f lavfi -i "$(speech 5)" -ac 1 -c:a libopus -b:a 32k voice.ogg &
ff -f lavfi -i "$(speech 5)" -ac 1 -c:a libopus -b:a 32k voice.webm &
ff -f lavfi -i "$(speech 5)" -ac 1 -c:a libmp3lame -b:a 64k voice.mp3 &
wait
ff -f lavfi -i "$(speech 5)" -ac 1 -c:a pcm_s16le voice.wav
# AMR-NB 12.2 kbit/s frames: any payload bits decode, so ffmpeg (which has no
# AMR encoder here) is not needed to make them; 250 frames of 20 ms = 5 s.
perl -e 'binmode STDOUT; print "#!AMR\n"; srand(1);
	for (1 .. 250) { print chr(0x3c), map { chr(int(rand(256))) } 1 .. 31 }' >voice.amr
ff -i voice.amr -c:a copy voice.3gp
# Voice notes of 0 s: a WAV header with no samples, an MP4 with no stream.
ff -f lavfi -i "anullsrc=r=44100:cl=mono" -t 0 -c:a pcm_s16le silence.wav
ff -f lavfi -i "anullsrc=r=44100:cl=mono" -t 0 -c:a aac silence.m4a

# Videos.
ff -f lavfi -i "testsrc2=s=640x360:r=25:d=3" -f lavfi -i "sine=f=440:d=3" \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest video.mp4 &
# Portrait phone video: stored 640x180 with 90-degree rotation side data.
{ ff -f lavfi -i "color=c=red:s=320x180[a];color=c=blue:s=320x180[b];[a][b]hstack,fps=25,trim=duration=2" \
		-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1 -pix_fmt yuv420p rotated-raw.mov &&
		ff -i rotated-raw.mov -c copy -metadata:s:v:0 rotate=90 rotated.mov && rm rotated-raw.mov; } &
ff -f lavfi -i "testsrc2=s=320x240:r=25:d=2" -f lavfi -i "sine=f=440:d=2" \
	-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -c:a libopus -shortest video.webm &
ff -f lavfi -i "testsrc2=s=176x144:r=15:d=2" -f lavfi -i "sine=f=440:d=2:sample_rate=8000" \
	-c:v h263 -c:a aac -ac 1 -shortest video.3gp &
wait
ff -f lavfi -i "$(speech 3)" -c:a aac audio-only.mp4

# Private originals (issue 13): photos with GPS, camera make and a
# non-trivial orientation in every format that carries EXIF; videos with
# QuickTime location.
gps=(-GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E -Make=ParleyCam)
cp orient-6.jpg gps-orient.jpg
exiftool -q -overwrite_original "${gps[@]}" -XMP:Creator=Someone -IPTC:City=Paris gps-orient.jpg
ff -i upright.png -vf "${stored[6]}" orient-6.png
ff -i upright.png -vf "${stored[6]}" -c:v libwebp -quality 80 orient-6.webp
for f in orient-6.png orient-6.webp; do
	exiftool -q -overwrite_original "${gps[@]}" -Orientation#=6 -XMP:Creator=Someone "$f"
done
exiftool -q -overwrite_original -PNG:Comment=secret orient-6.png
heif-enc -q 60 -o gps.heic gps-orient.jpg >/dev/null
exiftool -q -overwrite_original "-Make=ParleyCam" gps.heic
ff -i rotated.mov -map 0 -c copy -movflags use_metadata_tags \
	-metadata "com.apple.quicktime.location.ISO6709=+48.8584+002.2945+035.000/" \
	-metadata "com.apple.quicktime.make=ParleyCam" location.mov
ff -i video.mp4 -c copy -metadata "location=+48.8584+002.2945/" -metadata "make=ParleyCam" location.mp4

# Playback inputs: HEVC with audio and non-square pixels (stored 360x360,
# shown 640x360), and a 4K-ish H.264 that must be transcoded, not remuxed.
ff -f lavfi -i "testsrc2=s=360x360:r=25:d=2,setsar=16/9" -f lavfi -i "sine=f=440:d=2" \
	-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1 -pix_fmt yuv420p \
	-c:a aac -shortest anamorphic.mp4 &
ff -f lavfi -i "testsrc2=s=2560x1440:r=25:d=1" -c:v libx264 -preset ultrafast -pix_fmt yuv420p big-h264.mp4 &
# Animations: a transparent animated WebP (alpha, blending) and GIF bombs:
# 1,001 frames of 2x2; a 5000x5000 canvas with 21 one-pixel frames.
ff -f lavfi -i "color=c=red@0.0:s=64x48:r=10:d=1,format=rgba[bg];color=c=blue:s=16x16:r=10:d=1,format=rgba[fg];[bg][fg]overlay=x='t*40':y=10:format=rgb" \
	-c:v libwebp_anim -lossless 0 -loop 0 alpha-anim.webp &
ff -f lavfi -i "testsrc=s=2x2:r=100:d=10.01" -vf "split[a][b];[a]palettegen[p];[b][p]paletteuse" many-frames.gif &
wait
perl -e 'binmode STDOUT;
	print "GIF89a", pack("vv", 5000, 5000), "\x80\x00\x00", "\x00\x00\x00\xff\xff\xff";
	for (1 .. 21) {
		print "\x21\xf9\x04\x00\x0a\x00\x00\x00";
		print "\x2c", pack("vvvv", 0, 0, 1, 1), "\x00", "\x02\x02\x44\x01\x00";
	}
	print "\x3b"' >canvas-bomb.gif
