#!/usr/bin/env bash
# Generates the test media with ffmpeg into tests/fixtures/gen/ (git-ignored) and the demo's
# default sample into www/media/. Idempotent: existing files are kept unless FORCE=1.
# Everything is synthesized (no downloads) and deterministic except for encoder metadata.
# Ends by checking that every file the Rust tests use (tests/fixtures/manifest.txt) exists.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || source scripts/bootstrap.sh
gen=tests/fixtures/gen
mkdir -p "$gen/bad" "$gen/pcm" www/media
made=() kept=0

# fresh OUT: true when OUT must be (re)made.
fresh() { if [ -s "$1" ] && [ "${FORCE:-0}" != 1 ]; then kept=$((kept + 1)); return 1; fi; made+=("$1"); }
# media OUT ARGS...: ffmpeg ARGS OUT, unless OUT exists.
media() {
  local out=$1; shift
  fresh "$out" || return 0
  ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$out.tmp.${out##*.}" && mv "$out.tmp.${out##*.}" "$out"
}

declare -A codec=(
  [wav]="-c:a pcm_s16le" [flac]="-c:a flac" [mp3]="-c:a libmp3lame -b:a 192k"
  [m4a]="-c:a aac -b:a 192k" [aac]="-c:a aac -b:a 192k -f adts" [ogg]="-c:a libvorbis -q:a 6"
)
# A 440 Hz sine of amplitude 0.5 on both channels (RMS 0.354): exactly 1 s at 48 kHz.
sine='0.5*sin(2*PI*440*t)'
tone="aevalsrc='$sine|$sine':s=48000:d=1"
# A 10 ms 1 kHz burst at every whole second over a quiet 220 Hz bed: sync marks you can hear.
click='0.1*sin(2*PI*220*t)+if(lt(mod(t\,1)\,0.01)\,0.8*sin(2*PI*1000*t)\,0)'
clicks="aevalsrc='$click|$click':s=48000:d=10"

for ext in wav flac mp3 m4a aac ogg; do
  # shellcheck disable=SC2086 # the codec options are meant to split
  media "$gen/tone-1s.$ext" -f lavfi -i "$tone" ${codec[$ext]}
  # shellcheck disable=SC2086
  media "$gen/clicks-10s.$ext" -f lavfi -i "$clicks" ${codec[$ext]}
done
media "$gen/tone-44k-1s.wav" -f lavfi -i "aevalsrc='$sine|$sine':s=44100:d=1" -c:a pcm_s16le
media "$gen/tone-mono-1s.flac" -f lavfi -i "aevalsrc='$sine':s=48000:d=1" -c:a flac
media "$gen/tone-30s.m4a" -f lavfi -i "aevalsrc='$sine|$sine':s=48000:d=30" -c:a aac -b:a 128k -movflags +faststart
media "$gen/long-30s.m4a" -f lavfi -i "aevalsrc='$click|$click':s=48000:d=30" -c:a aac -b:a 128k -movflags +faststart
# moov at the end (ffmpeg's default without +faststart): the player must fetch the end first.
media "$gen/moov-at-end.m4a" -f lavfi -i "$clicks" -c:a aac -b:a 128k

# Video fixtures: every frame shows its own index as a 16-bit binary code in 8x2 blocks (bit b
# at column b%8, row b/8; white Y=235 is 1, black Y=16 is 0), 30 fps, with the click track
# (a burst at every whole second). Page tests read the canvas back and decode the index.
index_video() { # index_video WxH SECONDS [FPS]
  echo "color=c=black:s=$1:r=${3:-30}:d=$2,format=yuv420p,geq=lum='if(mod(floor(N/pow(2\,floor(X*8/W)+8*floor(Y*2/H)))\,2)\,235\,16)':cb=128:cr=128"
}
v10=$(index_video 320x180 10)
media "$gen/h264-aac.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k -movflags +faststart
# x264's default B-frames: ctts composition offsets, and the edit list that hides their delay.
media "$gen/h264-bframes.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 3 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k
media "$gen/fragmented.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 2 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k -movflags frag_keyframe+empty_moov+default_base_moof
media "$gen/vp9-opus.webm" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libvpx-vp9 -deadline realtime \
  -cpu-used 8 -g 30 -b:v 300k -c:a libopus -b:a 96k
media "$gen/av1-aac.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libaom-av1 -cpu-used 8 -g 30 \
  -b:v 200k -c:a aac -b:a 128k -movflags +faststart
# 10-bit video (issue 15): decoders hand these out in 16-bit-per-sample formats (WebCodecs
# I420P10) that the GPU path cannot upload as 8-bit planes. H.264 High 10 and VP9 profile 2.
media "$gen/h264-high10.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p10le -profile:v high10 -c:a aac -b:a 128k -movflags +faststart
media "$gen/vp9-profile2.webm" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libvpx-vp9 \
  -deadline realtime -cpu-used 8 -g 30 -b:v 300k -pix_fmt yuv420p10le -c:a libopus -b:a 96k
# 10-bit in MP4 (issue 15): VP9 profile 2 with Opus (vp09 + vpcC, Opus + dOps) and AV1 10-bit
# (av01, high bit depth in av1C) with AAC.
media "$gen/vp9-profile2.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libvpx-vp9 \
  -deadline realtime -cpu-used 8 -g 30 -b:v 300k -pix_fmt yuv420p10le -c:a libopus -b:a 96k -movflags +faststart
media "$gen/av1-10bit.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libaom-av1 -cpu-used 8 -g 30 \
  -b:v 200k -pix_fmt yuv420p10le -c:a aac -b:a 128k -movflags +faststart
# H.265 in MP4 (hvc1), 10 s: plays where a platform decoder has it (Firefox's MSE here), a
# typed `unsupported` where none has (Chromium here).
media "$gen/hevc-aac.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx265 -x265-params log-level=error:bframes=0 \
  -g 30 -pix_fmt yuv420p -tag:v hvc1 -c:a aac -b:a 128k -movflags +faststart
# 4K at 60 fps (issue 15), 10 s: the index code drawn at 320x180 and scaled up (drawing it at
# 3840x2160 would take minutes), x264 ultrafast (level 5.2), with the click track.
media "$gen/h264-4k60.mp4" -f lavfi -i "$(index_video 320x180 10 60),scale=3840:2160:flags=neighbor" \
  -f lavfi -i "$clicks" -c:v libx264 -preset ultrafast -bf 0 -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k \
  -movflags +faststart
# The same H.265 in MPEG-TS (Annex B, no hvcC: the MSE path builds one from the first IRAP).
media "$gen/hevc-aac.ts" -i "$gen/hevc-aac.mp4" -c copy -f mpegts
# Video only (no audio track): the player runs on the host clock.
media "$gen/video-only.mp4" -f lavfi -i "$v10" -c:v libx264 -bf 0 -g 30 -pix_fmt yuv420p -movflags +faststart
# H.265: valid, but Chromium's WebCodecs has no HEVC decoder here.
media "$gen/bad/hevc.mp4" -f lavfi -i "$(index_video 320x180 2)" -c:v libx265 -x265-params log-level=error \
  -pix_fmt yuv420p -tag:v hvc1

# Progressive MPEG-TS (issue 15): the same 10 s sources through ffmpeg's mpegts muxer (H.264 with
# B-frames, timestamps from 1.4 s), with AAC or MP3 audio, and as M2TS (192-byte packets: a
# 4-byte arrival timestamp before each) without audio: in M2TS mode ffmpeg 5.1 muxes AAC and MP3
# as private data (stream type 0x06), which it cannot name again without probing the payload.
media "$gen/h264-aac.ts" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 2 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k -f mpegts
media "$gen/h264-mp3.ts" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 2 -g 30 \
  -pix_fmt yuv420p -c:a libmp3lame -b:a 128k -f mpegts
media "$gen/h264.m2ts" -f lavfi -i "$v10" -c:v libx264 -bf 2 -g 30 -pix_fmt yuv420p \
  -f mpegts -mpegts_m2ts_mode 1
# VBR MP3 without a Xing/Info header (issue 15): 4 s of pink noise, then 26 s of a plain tone, so
# the first frames' bitrate (~300 kb/s) is far from the mean (~100 kb/s) and a duration
# estimated from them is less than half the real 30 s.
media "$gen/vbr-no-xing.mp3" -f lavfi -i "anoisesrc=d=4:c=pink:a=0.4:r=44100:seed=7" \
  -f lavfi -i "sine=f=440:r=44100:d=26" \
  -filter_complex "[0:a][1:a]concat=n=2:v=0:a=1,aformat=channel_layouts=stereo" \
  -c:a libmp3lame -q:a 2 -write_xing 0
# QuickTime as iPhones write it (ffmpeg -f mov): the AAC esds sits inside a `wave` atom of a
# version-1 sound description, followed by a `chan` box; moov after the mdat.
media "$gen/h264-aac.mov" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k -f mov
# PCM in QuickTime: sowt (s16le), twos (s16be), lpcm (version-2 entry, ffmpeg's choice above
# 65535 Hz), in24 and fl32 (little-endian, signalled by `enda` in `wave`).
media "$gen/pcm/sowt.mov" -f lavfi -i "$tone" -c:a pcm_s16le -f mov
media "$gen/pcm/twos.mov" -f lavfi -i "$tone" -c:a pcm_s16be -f mov
media "$gen/pcm/lpcm.mov" -f lavfi -i "aevalsrc='$sine|$sine':s=96000:d=1" -c:a pcm_s16le -f mov
media "$gen/pcm/in24.mov" -f lavfi -i "$tone" -c:a pcm_s24le -f mov
media "$gen/pcm/fl32.mov" -f lavfi -i "$tone" -c:a pcm_f32le -f mov
# Big-endian in24 (`enda` 0): symphonia would read it little-endian, so the player refuses it.
media "$gen/pcm/in24-be.mov" -f lavfi -i "$tone" -c:a pcm_s24be -f mov
# Surround and Opus (issue 15). A steady sine of amplitude 0.2 in every channel, each its own
# frequency (FL 300, FR 500, FC 700, LFE 60, BL 900, BR 1100, SL 1300, SR 1500 Hz), 6 s: the
# level of a stereo mix is known from the layout (tests/page/parity.test.mjs). AAC 5.1 and 7.1
# (symphonia decodes neither: the platform does), Ogg Opus stereo and 5.1 (mapping family 1),
# Opus in MP4, and H.264 with 5.1 AAC.
surround() { # surround LAYOUT SECONDS
  local f="FL=300 FR=500 FC=700 LFE=60 BL=900 BR=1100 SL=1300 SR=1500" ch expr=()
  local -A hz; for kv in $f; do hz[${kv%=*}]=${kv#*=}; done
  case $1 in 5.1) ch="FL FR FC LFE BL BR" ;; 7.1) ch="FL FR FC LFE BL BR SL SR" ;; *) ch="FL FR" ;; esac
  for c in $ch; do expr+=("0.2*sin(2*PI*${hz[$c]}*t)"); done
  local IFS='|'; echo "aevalsrc='${expr[*]}':s=48000:d=$2:channel_layout=$1"
}
media "$gen/aac-5.1.m4a" -f lavfi -i "$(surround 5.1 6)" -c:a aac -b:a 384k -movflags +faststart
media "$gen/aac-7.1.m4a" -f lavfi -i "$(surround 7.1 6)" -c:a aac -b:a 512k -movflags +faststart
media "$gen/opus-5.1.opus" -f lavfi -i "$(surround 5.1 6)" -c:a libopus -b:a 256k
media "$gen/opus-stereo.opus" -f lavfi -i "$(surround stereo 6)" -c:a libopus -b:a 128k
media "$gen/opus-stereo.mp4" -f lavfi -i "$(surround stereo 6)" -c:a libopus -b:a 128k -movflags +faststart
media "$gen/clicks-10s.opus" -f lavfi -i "$clicks" -c:a libopus -b:a 96k
# Dolby: H.264 with 5.1 AC-3 and E-AC-3. Played where the platform decodes them; elsewhere the
# video plays without sound and a typed `unsupported` warning says why (as <video> plays them).
media "$gen/h264-ac3.mp4" -f lavfi -i "$v10" -f lavfi -i "$(surround 5.1 10)" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p -c:a ac3 -b:a 384k -movflags +faststart
media "$gen/h264-eac3.mp4" -f lavfi -i "$v10" -f lavfi -i "$(surround 5.1 10)" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p -c:a eac3 -b:a 384k -movflags +faststart
media "$gen/h264-aac-5.1.mp4" -f lavfi -i "$v10" -f lavfi -i "$(surround 5.1 10)" -c:v libx264 -bf 0 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 384k -movflags +faststart
# Cover art (issue 15): the 10 s click track with a 300x300 PNG attached as ffmpeg writes it:
# an ID3v2 APIC frame (MP3), a `covr` item (M4A), a PICTURE block (FLAC). ffprobe lists the
# picture as a video stream; the file is audio and must play as such.
if fresh "$gen/cover-art.png"; then
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "testsrc2=s=300x300:d=1" -frames:v 1 -f image2 "$gen/cover-art.png"
fi
for ext in mp3 m4a flac; do
  media "$gen/cover.$ext" -i "$gen/clicks-10s.$ext" -i "$gen/cover-art.png" -map 0 -map 1 -c:a copy -c:v png \
    -disposition:v attached_pic
done
# Rotated video: rotate-N.mp4 is displayed turned N degrees clockwise (tkhd matrix). This
# ffmpeg (5.1) has no -display_rotation; the legacy `rotate` tag works when stream-copying but
# writes a counter-clockwise matrix (its own autorotate turns a rotate=90 file's top-left
# corner to the bottom-left), so the tag is 360 - N.
for deg in 90 180 270; do
  media "$gen/rotate-$deg.mp4" -i "$gen/h264-aac.mp4" -c copy -metadata:s:v:0 rotate=$(((360 - deg) % 360))
done
# Mirrored (a matrix with a negative determinant; ffmpeg cannot write one): flip.mp4 is mirrored
# left to right, flip-90.mp4 mirrored then turned 90 degrees clockwise.
for f in "flip -1 0 0 1" "flip-90 0 -1 -1 0"; do
  set -- $f
  if fresh "$gen/$1.mp4"; then python3 scripts/mp4-matrix.py "$gen/h264-aac.mp4" "$gen/$1.mp4" "$2" "$3" "$4" "$5"; fi
done
# Edit lists that start late: the video shifted by 0.5 s (an empty edit first), without and
# with B-frames (empty edit, then an edit whose media_time hides the B-frame delay).
media "$gen/itsoffset.mp4" -itsoffset 0.5 -i "$gen/h264-aac.mp4" -i "$gen/h264-aac.mp4" \
  -map 0:v -map 1:a -c copy
media "$gen/itsoffset-bframes.mp4" -itsoffset 0.5 -i "$gen/h264-bframes.mp4" \
  -i "$gen/h264-bframes.mp4" -map 0:v -map 1:a -c copy
# Audio that starts 0.5 s after the video (an empty edit in the audio track), and MP3 or FLAC
# inside MP4, with the index video and alone (FLAC in MP4 is "experimental" to ffmpeg 5.1).
media "$gen/audio-late.mp4" -itsoffset 0.5 -i "$gen/h264-aac.mp4" -i "$gen/h264-aac.mp4" \
  -map 1:v -map 0:a -c copy
media "$gen/h264-mp3.mp4" -i "$gen/h264-aac.mp4" -i "$gen/clicks-10s.mp3" -map 0:v -map 1:a -c copy \
  -movflags +faststart
media "$gen/h264-flac.mp4" -i "$gen/h264-aac.mp4" -i "$gen/clicks-10s.flac" -map 0:v -map 1:a -c copy \
  -strict -2 -movflags +faststart
media "$gen/flac-in.mp4" -i "$gen/clicks-10s.flac" -c copy -strict -2 -movflags +faststart
# An AC-3 elementary stream file (symphonia has no AC-3: the host's decoder, issue 16).
media "$gen/clicks-10s.ac3" -f lavfi -i "$clicks" -c:a ac3 -b:a 192k -f ac3
# Fragmented without a duration in mvhd (empty_moov writes 0): with a global sidx per track
# after the moov (default_base_moof: ffmpeg 5.1 moves the fragments to make room for the sidx
# without fixing absolute tfhd base offsets); and fragmented.mp4 with an mehd box added to its mvex (ffmpeg 5.1 writes
# none; the trun offsets are relative to each moof; the mfra, whose offsets are absolute, goes).
media "$gen/frag-sidx.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 2 -g 30 \
  -pix_fmt yuv420p -c:a aac -b:a 128k -movflags frag_keyframe+empty_moov+default_base_moof+global_sidx
# frag_keyframe without empty_moov: the first fragment's samples sit in the moov, whose mvhd
# duration (1 s) covers only them.
media "$gen/frag-moov-samples.mp4" -f lavfi -i "$v10" -f lavfi -i "$clicks" -c:v libx264 -bf 2 \
  -g 30 -pix_fmt yuv420p -c:a aac -b:a 128k -movflags frag_keyframe
if fresh "$gen/frag-mehd.mp4"; then
  python3 - "$gen/fragmented.mp4" "$gen/frag-mehd.mp4" <<'PY'
import os, struct, sys
data = open(sys.argv[1], 'rb').read()
def boxes(b):
    i = 0
    while i + 8 <= len(b):
        size, kind = struct.unpack('>I4s', b[i:i + 8])
        yield kind, b[i:i + size]
        i += size
out = b''
for kind, box in boxes(data):
    if kind == b'mfra':
        continue  # its tfra offsets are absolute: 16 bytes off now
    if kind == b'moov':
        new = b''
        for k, child in boxes(box[8:]):
            if k == b'mvex':
                # mehd version 0: fragment_duration 10067 in the movie timescale (1000).
                mehd = struct.pack('>I4sII', 16, b'mehd', 0, 10067)
                child = struct.pack('>I4s', len(child) + 16, b'mvex') + mehd + child[8:]
            new += child
        box = struct.pack('>I4s', 8 + len(new), b'moov') + new
    out += box
open(sys.argv[2] + '.tmp', 'wb').write(out)
os.replace(sys.argv[2] + '.tmp', sys.argv[2])
PY
fi

# Broken inputs: each must end in a declared error (or, for truncated.mp3, a clean end).
# The first 40% of an MP3: probes fine, the data stops at ~4 s of 10.
if fresh "$gen/bad/truncated.mp3"; then
  size=$(wc -c < "$gen/clicks-10s.mp3")
  head -c $((size * 4 / 10)) "$gen/clicks-10s.mp3" > "$gen/bad/truncated.mp3"
fi
# The first 500 bytes of an MP4 whose moov is at the end: no moov at all, cannot be probed.
if fresh "$gen/bad/truncated-header.m4a"; then
  head -c 500 "$gen/moov-at-end.m4a" > "$gen/bad/truncated-header.m4a"
fi
# 64 KiB of seeded pseudo-random bytes (the same on every machine).
if fresh "$gen/bad/random.mp3"; then
  python3 -c 'import random, sys; r = random.Random(1234); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(65536)))' \
    > "$gen/bad/random.mp3"
fi
# What a misconfigured server sends instead of audio: an HTML error page.
if fresh "$gen/bad/text.mp3"; then
  cat > "$gen/bad/text.mp3" <<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>404 Not Found</title>
<style>body { font-family: sans-serif; margin: 4em auto; max-width: 40em; color: #333; }</style>
</head>
<body>
<h1>Not Found</h1>
<p>The requested URL /media/episode-12.mp3 was not found on this server.</p>
<p>If you entered the URL manually please check your spelling and try again.</p>
<hr>
<address>Example HTTP server at media.example.invalid Port 443</address>
</body>
</html>
HTML
fi
# An MP4 with the moov removed (ftyp + mdat only).
if fresh "$gen/bad/no-moov.mp4"; then
  python3 - "$gen/h264-aac.mp4" "$gen/bad/no-moov.mp4" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out, i = b'', 0
while i + 8 <= len(data):
    size, kind = struct.unpack('>I4s', data[i:i + 8])
    if kind != b'moov':
        out += data[i:i + size]
    i += size
open(sys.argv[2], 'wb').write(out)
PY
fi
# Valid boxes, garbage frames: the second half of every video sample is overwritten, so the
# platform decoder fails (or shows corrupt pictures) mid-stream.
if fresh "$gen/bad/corrupt-frames.mp4"; then
  python3 - "$gen/h264-aac.mp4" "$gen/bad/corrupt-frames.mp4" <<'PY'
import random, sys
data = bytearray(open(sys.argv[1], 'rb').read())
i = data.find(b'mdat') + 4
r = random.Random(7)
# Past the first 2 s of the mdat: garbage in 4 KiB stripes.
start = i + len(data[i:]) // 5
for off in range(start, len(data) - 4096, 8192):
    data[off:off + 4096] = bytes(r.getrandbits(8) for _ in range(4096))
open(sys.argv[2], 'wb').write(bytes(data))
PY
fi
# Ogg Speex: no browser and no decoder of the core or the host has it: a typed `unsupported`
# (Ogg Opus plays, through the core's Ogg demuxer and the platform's decoder).
media "$gen/bad/unsupported.spx" -f lavfi -i "sine=f=440:d=1:sample_rate=16000" -c:a libspeex -f ogg

# The demo's default sample: 32 s of slow chords (A minor, F, C, G) with soft attacks over a
# steady bass, faded in and out. AAC 48 kHz stereo in MP4 with the moov first.
chord() { # chord ROOT THIRD FIFTH → three sines
  echo "(sin(2*PI*$1*t)+0.8*sin(2*PI*$2*t)+0.7*sin(2*PI*$3*t))"
}
env='(min(mod(t\,4)*4\,1)*exp(-0.35*mod(t\,4)))'
prog="if(lt(mod(t\,16)\,4)\,$(chord 220 261.63 329.63)\,if(lt(mod(t\,16)\,8)\,$(chord 174.61 220 261.63)\,if(lt(mod(t\,16)\,12)\,$(chord 130.81 164.81 196)\,$(chord 196 246.94 293.66))))"
bass='0.5*sin(2*PI*(if(lt(mod(t\,16)\,4)\,110\,if(lt(mod(t\,16)\,8)\,87.31\,if(lt(mod(t\,16)\,12)\,65.41\,98))))*t)'
media www/media/sample.m4a -f lavfi -i "aevalsrc='0.18*$env*$prog+0.12*$bass|0.16*$env*$prog+0.14*$bass':s=48000:d=32" \
  -af "afade=t=in:d=0.5,afade=t=out:st=30:d=2" -c:a aac -b:a 160k -movflags +faststart
# The demo's default video: ffmpeg's moving test pattern (with its frame counter) over the
# sample's music, H.264 640x360 30 fps with B-frames.
media www/media/sample.mp4 -f lavfi -i "testsrc2=s=640x360:r=30:d=32" -i www/media/sample.m4a \
  -map 0:v -map 1:a -c:v libx264 -preset veryfast -crf 26 -g 60 -pix_fmt yuv420p -c:a copy -movflags +faststart
# WebVTT files and HLS subtitle segments (their own script).
bash scripts/fixtures-vtt.sh
# HLS and DASH presentations for core/tests/manifests.rs.
bash scripts/manifests.sh
for f in "${made[@]}"; do printf 'made %-44s %8s bytes\n' "$f" "$(wc -c < "$f")"; done
echo "fixtures: ${#made[@]} made, $kept kept (FORCE=1 remakes all) in $gen/ and www/media/"
# The adaptive-streaming fixtures (HLS, DASH) in $gen/streams/.
bash scripts/streams.sh
# The MPEG-TS fixtures (their own script; core/tests/ts_demux.rs runs it too), so that the check
# below covers every entry of the manifest.
bash scripts/ts-fixtures.sh
# Every generated file the Rust tests use is listed in tests/fixtures/manifest.txt (`PATH  WHAT`,
# a folder's PATH ends in /): each must exist now, not empty.
missing=() listed=0
while read -r path _; do
  case $path in '' | '#'*) continue ;; esac
  listed=$((listed + 1))
  if [[ $path == */ ]]; then
    [ -n "$(ls -A "$gen/$path" 2>/dev/null)" ] || missing+=("$path")
  else
    [ -s "$gen/$path" ] || missing+=("$path")
  fi
done < tests/fixtures/manifest.txt
if [ ${#missing[@]} -gt 0 ]; then
  echo "fixtures: ${#missing[@]} of the $listed entries of tests/fixtures/manifest.txt are missing from $gen/:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "fixtures: all $listed entries of tests/fixtures/manifest.txt are in $gen/"
