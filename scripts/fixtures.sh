#!/usr/bin/env bash
# Generates the test media with ffmpeg into tests/fixtures/gen/ and the demo's default sample
# into www/media/. Idempotent: existing files are kept unless FORCE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || source scripts/bootstrap.sh
gen=tests/fixtures/gen
mkdir -p "$gen/bad" www/media
made=0
make() { # make OUT ARGS... : run ffmpeg unless OUT exists
  local out=$1; shift
  if [ -s "$out" ] && [ "${FORCE:-0}" != 1 ]; then return; fi
  ffmpeg -hide_banner -loglevel error -y "$@" "$out"
  made=$((made + 1))
}
declare -A codec=(
  [wav]="-c:a pcm_s16le" [flac]="-c:a flac" [mp3]="-c:a libmp3lame -b:a 192k"
  [m4a]="-c:a aac -b:a 192k" [aac]="-c:a aac -b:a 192k -f adts" [ogg]="-c:a libvorbis -q:a 6"
)
# A 440 Hz sine of amplitude 0.5 on both channels (RMS 0.354).
tone="aevalsrc='0.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t)':s=48000:d=1"
# A 10 ms 1 kHz burst at every whole second over a quiet 220 Hz bed: sync marks you can hear.
clicks="aevalsrc='0.1*sin(2*PI*220*t)+if(lt(mod(t\,1)\,0.01)\,0.8*sin(2*PI*1000*t)\,0)|0.1*sin(2*PI*220*t)+if(lt(mod(t\,1)\,0.01)\,0.8*sin(2*PI*1000*t)\,0)':s=48000:d=10"
for ext in wav flac mp3 m4a aac ogg; do
  # shellcheck disable=SC2086
  make "$gen/tone-1s.$ext" -f lavfi -i "$tone" ${codec[$ext]}
  # shellcheck disable=SC2086
  make "$gen/clicks-10s.$ext" -f lavfi -i "$clicks" ${codec[$ext]}
done
make "$gen/tone-30s.m4a" -f lavfi -i "${tone/d=1/d=30}" -c:a aac -b:a 128k -movflags +faststart
make "$gen/tone-44k-1s.wav" -f lavfi -i "${tone/s=48000/s=44100}" -c:a pcm_s16le
make "$gen/long-30s.m4a" -f lavfi -i "${clicks/d=10/d=30}" -c:a aac -b:a 128k -movflags +faststart
# moov at the end (ffmpeg's default): the player must fetch the end first.
make "$gen/moov-at-end.m4a" -f lavfi -i "$clicks" -c:a aac -b:a 128k

# Broken inputs.
if [ ! -s "$gen/bad/truncated.mp3" ] || [ "${FORCE:-0}" = 1 ]; then
  size=$(wc -c < "$gen/clicks-10s.mp3")
  head -c $((size * 4 / 10)) "$gen/clicks-10s.mp3" > "$gen/bad/truncated.mp3"
  head -c 500 "$gen/moov-at-end.m4a" > "$gen/bad/truncated-header.m4a"
  python3 -c "import random,sys; random.seed(1234); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(65536)))" > "$gen/bad/random.mp3"
  printf '<!doctype html><title>Not found</title><p>This is a web page, not audio.</p>\n' > "$gen/bad/text.mp3"
  made=$((made + 4))
fi
make "$gen/bad/unsupported.opus" -f lavfi -i "$tone" -c:a libopus

# The demo's default sample: 32 s of slow chords (A minor, F, C, G) with soft attacks.
chord() { # chord ROOT THIRD FIFTH → an expression of three sines with a 4 s envelope
  echo "(sin(2*PI*$1*t)+0.8*sin(2*PI*$2*t)+0.7*sin(2*PI*$3*t))"
}
env="(min(mod(t\,4)*4\,1)*exp(-0.35*mod(t\,4)))"
prog="if(lt(mod(t\,16)\,4)\,$(chord 220 261.63 329.63)\,if(lt(mod(t\,16)\,8)\,$(chord 174.61 220 261.63)\,if(lt(mod(t\,16)\,12)\,$(chord 130.81 164.81 196)\,$(chord 196 246.94 293.66))))"
bass="0.5*sin(2*PI*(if(lt(mod(t\,16)\,4)\,110\,if(lt(mod(t\,16)\,8)\,87.31\,if(lt(mod(t\,16)\,12)\,65.41\,98))))*t)"
make www/media/sample.m4a -f lavfi -i "aevalsrc='0.18*$env*$prog+0.12*$bass|0.16*$env*$prog+0.14*$bass':s=48000:d=32" \
  -af "afade=t=in:d=0.5,afade=t=out:st=30:d=2" -c:a aac -b:a 160k -movflags +faststart
echo "fixtures: $made made, in $gen and www/media"
