#!/usr/bin/env bash
# Generates the MPEG-TS test media with ffmpeg into tests/fixtures/gen/ts/ (git-ignored):
# single .ts files (H.264 + AAC with B-frames, several profiles/sizes/field coding, H.265, MP3,
# AC-3/E-AC-3 (ATSC, DVB, M2TS), timestamps across the 33-bit wrap) and an HLS rendition cut into 2 s segments.
# Idempotent: existing files are kept unless FORCE=1. core/tests/ts_demux.rs runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || { echo "ffmpeg is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
out=tests/fixtures/gen/ts
mkdir -p "$out/hls"
made=0 kept=0

# ts OUT ARGS...: ffmpeg ARGS -f mpegts OUT, unless OUT exists.
ts() {
  local dst=$1; shift
  if [ -s "$dst" ] && [ "${FORCE:-0}" != 1 ]; then kept=$((kept + 1)); return 0; fi
  ffmpeg -nostdin -hide_banner -loglevel error -y "$@" -f mpegts "$dst.tmp" && mv "$dst.tmp" "$dst"
  made=$((made + 1))
}

# Moving test pattern (a different picture every frame) and a 440 Hz tone at 48 kHz, so AAC
# frames are exactly 1920 ticks of the 90 kHz clock.
video() { echo "testsrc2=s=$1:r=30:d=$2"; }
audio() { echo "sine=f=440:r=48000:d=$1"; }
x264=(-c:v libx264 -preset veryfast -x264-params log-level=error)
aac=(-c:a aac -b:a 96k -ac 2)

ts "$out/h264-aac-320.ts" -f lavfi -i "$(video 320x180 4)" -f lavfi -i "$(audio 4)" \
  "${x264[@]}" -bf 2 -g 30 -pix_fmt yuv420p "${aac[@]}"
ts "$out/h264-aac-720.ts" -f lavfi -i "$(video 1280x720 2)" -f lavfi -i "$(audio 2)" \
  "${x264[@]}" -bf 2 -g 30 -pix_fmt yuv420p "${aac[@]}"
# 1080 lines are coded as 1088 (68 macroblock rows) and cropped by 8.
ts "$out/h264-1080.ts" -f lavfi -i "$(video 1920x1080 0.5)" "${x264[@]}" -preset ultrafast -bf 2 -pix_fmt yuv420p
ts "$out/h264-baseline.ts" -f lavfi -i "$(video 352x288 1)" "${x264[@]}" -profile:v baseline -pix_fmt yuv420p
# Odd sizes: cropping in 2-pixel chroma units on both axes.
ts "$out/h264-odd.ts" -f lavfi -i "$(video 202x118 1)" "${x264[@]}" -pix_fmt yuv420p
# High 4:2:2 and High 4:4:4 Predictive (chroma_format_idc 2 and 3), High 10 (bit depth fields).
ts "$out/h264-422.ts" -f lavfi -i "$(video 320x240 1)" "${x264[@]}" -pix_fmt yuv422p
ts "$out/h264-444.ts" -f lavfi -i "$(video 320x240 1)" "${x264[@]}" -pix_fmt yuv444p
ts "$out/h264-10bit.ts" -f lavfi -i "$(video 320x240 1)" "${x264[@]}" -pix_fmt yuv420p10le
# Interlaced (frame_mbs_only_flag 0: heights in field macroblock pairs).
ts "$out/h264-interlaced.ts" -f lavfi -i "$(video 720x576 1)" "${x264[@]}" -flags +ildct+ilme -pix_fmt yuv420p
ts "$out/hevc-aac.ts" -f lavfi -i "$(video 320x180 2)" -f lavfi -i "$(audio 2)" \
  -c:v libx265 -x265-params log-level=error -bf 2 -g 30 -pix_fmt yuv420p "${aac[@]}"
ts "$out/h264-mp3.ts" -f lavfi -i "$(video 320x180 2)" -f lavfi -i "$(audio 2)" \
  "${x264[@]}" -g 30 -pix_fmt yuv420p -c:a libmp3lame -b:a 128k -ac 2
# Dolby audio (issue 15), 5.1: AC-3 as ATSC writes it (stream type 0x81), as DVB does (private
# data 0x06 with an AC-3 descriptor: -mpegts_flags system_b), in M2TS (192-byte packets, as
# AVCHD camcorders record it), and E-AC-3 (0x87).
dolby=(-f lavfi -i "$(video 320x180 2)" -f lavfi -i "$(audio 2)" "${x264[@]}" -g 30 -pix_fmt yuv420p -ac 6 -b:a 384k)
ts "$out/h264-ac3.ts" "${dolby[@]}" -c:a ac3
ts "$out/h264-ac3-dvb.ts" "${dolby[@]}" -c:a ac3 -mpegts_flags system_b
ts "$out/h264-ac3.m2ts" "${dolby[@]}" -c:a ac3 -mpegts_m2ts_mode 1
ts "$out/h264-eac3.ts" "${dolby[@]}" -c:a eac3
# Starts 2.3 s before the 33-bit PTS wrap (2^33 / 90000 = 95443.7176 s, minus the muxer's 1.4 s).
ts "$out/wrap.ts" -f lavfi -i "$(video 320x180 4)" -f lavfi -i "$(audio 4)" \
  "${x264[@]}" -bf 2 -g 30 -pix_fmt yuv420p "${aac[@]}" -output_ts_offset 95440

# An HLS rendition: 6 s in 2 s MPEG-TS segments (a keyframe every second).
if [ -s "$out/hls/index.m3u8" ] && [ "${FORCE:-0}" != 1 ]; then
  kept=$((kept + 1))
else
  rm -f "$out"/hls/*
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "$(video 320x180 6)" -f lavfi -i "$(audio 6)" \
    "${x264[@]}" -bf 2 -g 30 -pix_fmt yuv420p "${aac[@]}" \
    -f hls -hls_time 2 -hls_segment_type mpegts -hls_playlist_type vod \
    -hls_segment_filename "$out/hls/seg%03d.ts" "$out/hls/index.m3u8"
  made=$((made + 1))
fi
echo "ts fixtures: $made made, $kept kept (FORCE=1 remakes all) in $out/"
