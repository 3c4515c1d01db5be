#!/usr/bin/env bash
# WebVTT fixtures into tests/fixtures/gen/vtt/ (git-ignored), made by ffmpeg from generated SRT:
#   srt.srt / srt.vtt / srt.packets.csv  an SRT → WebVTT conversion and ffprobe's cue timings
#   hls/                                  an HLS rendition with WebVTT subtitle segments
#   hls/first-pts.txt                     the first video PTS of the first TS segment (90 kHz)
# Idempotent: existing files are kept unless FORCE=1. Called by scripts/fixtures.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/gen/vtt
mkdir -p "$out"
if [ -s "$out/srt.packets.csv" ] && [ -s "$out/hls/first-pts.txt" ] && [ "${FORCE:-0}" != 1 ]; then
  echo "vtt fixtures: kept in $out/"
  exit 0
fi
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# 40 cues: markup SRT allows (i, b, u, font), a bare '&', two-line cues, overlapping cues, and
# the last ten past the one-hour mark (WebVTT then writes hh:mm:ss.ttt).
python3 - "$out/srt.srt" <<'PY'
import sys
def ts(ms):
    h, ms = divmod(ms, 3600000); m, ms = divmod(ms, 60000); s, ms = divmod(ms, 1000)
    return f"{h:02}:{m:02}:{s:02},{ms:03}"
texts = ["Plain cue {i}", "<i>Italic</i> cue {i}", "<b>Bold</b> and <u>underlined</u> {i}",
         "Two lines {i}\nsecond line", "Fish & chips {i}", "<font color=\"#ffff00\">Yellow</font> {i}"]
with open(sys.argv[1], "w") as f:
    for i in range(40):
        start = i * 2500 + (i % 3) * 100 + (3600000 if i >= 30 else 0)
        end = start + 1800 + (i % 4) * 700
        f.write(f"{i + 1}\n{ts(start)} --> {ts(end)}\n{texts[i % len(texts)].format(i=i)}\n\n")
PY
ff -i "$out/srt.srt" "$out/srt.vtt"
ffprobe -v error -show_entries packet=pts,duration -of csv=p=0 "$out/srt.vtt" > "$out/srt.packets.csv"

# HLS: 12 s of video with the first 4 cues of a short SRT as a WebVTT rendition, 4 s segments.
python3 - "$out/hls.srt" <<'PY'
import sys
cues = [(500, 2500, "First"), (3000, 5000, "Across the 4 s boundary"), (6500, 8000, "Third"),
        (8500, 11500, "Last <i>one</i>")]
def ts(ms):
    s, ms = divmod(ms, 1000)
    return f"00:00:{s:02},{ms:03}"
with open(sys.argv[1], "w") as f:
    for i, (a, b, t) in enumerate(cues):
        f.write(f"{i + 1}\n{ts(a)} --> {ts(b)}\n{t}\n\n")
PY
rm -rf "$out/hls" && mkdir -p "$out/hls"
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=12" -i "$out/hls.srt" -map 0:v -map 1:s \
  -c:v libx264 -bf 0 -g 25 -pix_fmt yuv420p -c:s webvtt \
  -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_filename "$out/hls/v%d.ts" "$out/hls/index.m3u8"
ffprobe -v error -select_streams v:0 -show_entries stream=start_pts -of csv=p=0 "$out/hls/v0.ts" \
  | awk 'NF && !n++' > "$out/hls/first-pts.txt"
echo "vtt fixtures: made in $out/ ($(ls "$out" "$out/hls" | wc -l) files)"
