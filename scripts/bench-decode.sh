#!/usr/bin/env bash
# Decode-speed benchmark: the core natively, the same core compiled to wasm32 running in Node's
# V8 (WASI), and ffmpeg, on the same 60 s files, in one run. Prints a table of ratios.
# Usage: bash scripts/bench-decode.sh        (results go to BENCHMARKS.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh >/dev/null
rustup target list --installed | grep -q wasm32-wasip1 || rustup target add wasm32-wasip1
out=target/bench
mkdir -p "$out"
src="aevalsrc='0.3*sin(2*PI*220*t)+if(lt(mod(t\,1)\,0.01)\,0.6*sin(2*PI*1000*t)\,0)|0.3*sin(2*PI*330*t)':s=48000:d=60"
declare -A codec=(
  [wav]="-c:a pcm_s16le" [flac]="-c:a flac" [mp3]="-c:a libmp3lame -b:a 192k"
  [m4a]="-c:a aac -b:a 192k" [aac]="-c:a aac -b:a 192k -f adts" [ogg]="-c:a libvorbis -q:a 6"
)
files=()
for ext in wav flac mp3 m4a aac ogg; do
  f="$out/bench60.$ext"
  [ -s "$f" ] || ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$src" ${codec[$ext]} "$f"
  files+=("$f")
done
cargo build -q --release -p kinema-core --example bench_decode
cargo build -q --release -p kinema-core --example bench_decode --target wasm32-wasip1
./target/release/examples/bench_decode "${files[@]}" > "$out/native.jsonl"
node scripts/bench-wasi.mjs target/wasm32-wasip1/release/examples/bench_decode.wasm "${files[@]}" > "$out/wasm.jsonl"
: > "$out/ffmpeg.txt"
for f in "${files[@]}"; do
  best=""
  for _ in 1 2 3; do
    t=$(ffmpeg -hide_banner -nostdin -threads 1 -benchmark -i "$f" -f null - 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -n1)
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "$f $best" >> "$out/ffmpeg.txt"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
native = {j["file"]: j for j in map(json.loads, open(f"{out}/native.jsonl"))}
wasm = {j["file"]: j for j in map(json.loads, open(f"{out}/wasm.jsonl"))}
ff = dict(l.split() for l in open(f"{out}/ffmpeg.txt"))
print(f"{'file':<22}{'native ms':>10}{'wasm ms':>10}{'ffmpeg ms':>10}{'wasm/native':>13}{'native/ffmpeg':>15}{'native x realtime':>19}{'wasm to 44.1k ms':>18}")
for f, n in native.items():
    w = wasm[f]["secs"]; fm = float(ff[f]); d = n["frames"] / 48000
    r = wasm[f].get("resample_secs", 0.0)
    print(f"{f.split('/')[-1]:<22}{n['secs']*1e3:>10.1f}{w*1e3:>10.1f}{fm*1e3:>10.1f}{w/n['secs']:>13.2f}{n['secs']/fm:>15.2f}{d/n['secs']:>19.0f}{r*1e3:>18.1f}")
PY
