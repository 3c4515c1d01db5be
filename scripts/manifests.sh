#!/usr/bin/env bash
# Generates HLS and DASH test presentations with ffmpeg into tests/fixtures/gen/manifests/
# (git-ignored), for core/tests/manifests.rs. Idempotent: a directory is kept when its manifest
# exists, unless FORCE=1. Called by scripts/fixtures.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || source scripts/bootstrap.sh
out=tests/fixtures/gen/manifests
mkdir -p "$out"
made=0 kept=0

# 12 s of ffmpeg's test pattern at 30 fps and a 440 Hz tone: key frames every 30 frames, so
# 2 s segments cut exactly on whole seconds.
src=(-f lavfi -i "testsrc2=s=640x360:r=30:d=12" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=12")
x264=(-c:v libx264 -preset ultrafast -g 30 -keyint_min 30 -sc_threshold 0 -pix_fmt yuv420p)
ladder=(-s:v:0 320x180 -b:v:0 200k -s:v:1 480x270 -b:v:1 400k -s:v:2 640x360 -b:v:2 800k)

# gen DIR MANIFEST ARGS...: runs ffmpeg in a fresh DIR unless DIR/MANIFEST exists.
gen() {
  local dir=$out/$1 manifest=$2; shift 2
  if [ -s "$dir/$manifest" ] && [ "${FORCE:-0}" != 1 ]; then kept=$((kept + 1)); return 0; fi
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && ffmpeg -nostdin -hide_banner -loglevel error -y "$@")
  made=$((made + 1))
}

# HLS, fMP4: three video renditions sharing one audio group (a separate audio playlist).
gen hls-fmp4 master.m3u8 "${src[@]}" -map 0:v -map 0:v -map 0:v -map 1:a "${x264[@]}" "${ladder[@]}" \
  -c:a aac -b:a 64k -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 \
  -master_pl_name master.m3u8 \
  -var_stream_map "v:0,agroup:aud v:1,agroup:aud v:2,agroup:aud a:0,agroup:aud,language:en,name:English,default:yes" \
  -hls_segment_filename 'v%v/seg%03d.m4s' 'v%v/index.m3u8'
# HLS, MPEG-TS: three variants with muxed audio.
gen hls-ts master.m3u8 "${src[@]}" -map 0:v -map 1:a -map 0:v -map 1:a -map 0:v -map 1:a "${x264[@]}" \
  "${ladder[@]}" -c:a aac -b:a 64k -f hls -hls_time 2 -hls_playlist_type vod -master_pl_name master.m3u8 \
  -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2" -hls_segment_filename 'v%v/seg%03d.ts' 'v%v/index.m3u8'
# HLS, one file per rendition addressed by EXT-X-BYTERANGE: MPEG-TS, and fMP4 (EXT-X-MAP range).
gen hls-single-ts index.m3u8 "${src[@]}" -map 0:v -map 1:a "${x264[@]}" -s 320x180 -b:v 200k -c:a aac -b:a 64k \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_flags single_file index.m3u8
gen hls-single-fmp4 index.m3u8 "${src[@]}" -map 0:v "${x264[@]}" -s 320x180 -b:v 200k \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 -hls_flags single_file index.m3u8
# DASH, SegmentTemplate + SegmentTimeline: two video representations and one audio.
gen dash-timeline manifest.mpd "${src[@]}" -map 0:v -map 0:v -map 1:a "${x264[@]}" \
  -s:v:0 320x180 -b:v:0 200k -s:v:1 640x360 -b:v:1 800k -c:a aac -b:a 64k \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 1 -adaptation_sets "id=0,streams=v id=1,streams=a" manifest.mpd
# DASH, SegmentTemplate@duration with $Number%05d$.
gen dash-number manifest.mpd "${src[@]}" -map 0:v -map 1:a "${x264[@]}" -s 320x180 -b:v 200k -c:a aac -b:a 64k \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 0 manifest.mpd
# DASH, one file per representation: SegmentList with mediaRange (a sidx per fragment).
gen dash-list manifest.mpd "${src[@]}" -map 0:v -map 1:a "${x264[@]}" -s 320x180 -b:v 200k -c:a aac -b:a 64k \
  -f dash -seg_duration 2 -single_file 1 manifest.mpd
# DASH, one file with a global sidx: the test rewrites it as SegmentBase@indexRange.
gen dash-sidx manifest.mpd "${src[@]}" -map 0:v -map 1:a "${x264[@]}" -s 320x180 -b:v 200k -c:a aac -b:a 64k \
  -f dash -seg_duration 2 -single_file 1 -global_sidx 1 manifest.mpd

echo "manifests: $made made, $kept kept (FORCE=1 remakes all) in $out/"
