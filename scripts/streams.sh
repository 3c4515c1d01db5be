#!/usr/bin/env bash
# Generates the adaptive-streaming fixtures (HLS and DASH) with ffmpeg into
# tests/fixtures/gen/streams/ (git-ignored). Idempotent: a package is kept when its manifest
# is newer than the mezzanine it is cut from, unless FORCE=1. Called at the end of fixtures.sh.
#
# One 30 s, 30 fps picture (the frame-index block code of fixtures.sh, scaled with the
# picture, over ffmpeg's moving testsrc2 with temporal noise so the encoder has real work to
# do), encoded once per rung (mezzanine in src/), then packaged without re-encoding:
#   src/            v0.mp4 416x234 ~300k, v1.mp4 640x360 ~800k, v2.mp4 1280x720 ~2500k
#                   (H.264, GOP 2 s closed, no scene cuts), audio-en.m4a (1 kHz clicks every
#                   second), audio-de.m4a (660 Hz clicks), AAC 128k 48 kHz stereo
#   subs-en.vtt subs-de.vtt   one cue per 2 s: cue n from 2n-1 s to 2n+1 s, text "Cue n ..."
#   hls-fmp4/       master.m3u8 (3 rungs, AUDIO group en/de, SUBTITLES group en/de), fMP4
#   hls-ts/         the same in MPEG-TS
#   hls-byterange/  master.m3u8: 360p + en/de audio, each one file addressed by EXT-X-BYTERANGE
#   hls-ts-muxed/   master.m3u8: 234p + AAC 44.1 kHz mono, 360p + AAC 48 kHz stereo, muxed TS
#   hls-groups/     master.m3u8: the same two levels, each with its own AUDIO group (fMP4)
#   hls-aes/        HLS AES-128 (whole segments, RFC 8216 section 4.3.2.4): 5.9 s of 234p + en
#                   audio, 3 segments, each media playlist beside the clear twin it was encrypted
#                   from (clear/: TS, fmp4-clear/: fMP4); keys key1.bin, key2.bin. ts/: ffmpeg's
#                   -hls_key_info_file (explicit IV); ts-seq/, fmp4-seq/: MEDIA-SEQUENCE 5,
#                   no IV (the sequence number is the IV); ts-rotate/: key1, then key2, then
#                   METHOD=NONE;
#                   ts-byterange/: ts/'s segments in one file cut by EXT-X-BYTERANGE; fmp4/: init
#                   and segments encrypted (EXT-X-KEY before EXT-X-MAP).
#   dash-audio-ladder/ manifest.mpd: 234p/360p + one en audio set at 64k and 128k
#   dash-timeline/  manifest.mpd: SegmentTemplate + SegmentTimeline
#   dash-number/    manifest.mpd: SegmentTemplate $Number$ with @duration (the live source);
#                   manifest-wvtt.mpd: the same with its text as WebVTT in fMP4 (wvtt-LANG/)
#   dash-base/      manifest.mpd: SegmentBase (one file per Representation, sidx index);
#                   manifest-list.mpd: the same files as SegmentList with mediaRange
#   dash-webm/      manifest.mpd: VP9 234p/360p + Opus en/de, WebM segments, SegmentTimeline
#   sync-720p.mp4   the 720p rung and the en audio, 12 s, as one progressive MP4 (A/V sync under
#                   CPU throttling, scripts/bench-sync.mjs)
#   dash-thumbs/    manifest.mpd: 234p + en audio + a thumbnail image set (tiles/tile-N.jpg:
#                   5x2 grids of 256x144 thumbnails, one per second, 10 s per image, DASH-IF
#                   thumbnail_tile); text-only.mpd: the en/de text sets alone; images-only.mpd:
#                   the image set alone (presentations without audio or video)
# Every MPD has audio AdaptationSets lang="en"/"de" and side-car text/vtt AdaptationSets.
# Not bit-exact between runs: x264 with VBV (-maxrate) and threads varies a little.
# Manifests are finished by scripts/streams-manifests.mjs (ffmpeg 5.1 cannot write an HLS
# SUBTITLES group nor CODECS, nor DASH SegmentBase or text AdaptationSets).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v ffmpeg >/dev/null || source scripts/bootstrap.sh
out=tests/fixtures/gen/streams
src=$out/src
mkdir -p "$src"
t0=$SECONDS
made=() kept=0
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
force() { [ "${FORCE:-0}" = 1 ]; }

# --- mezzanine -------------------------------------------------------------------------------
# The code of fixtures.sh's index_video (bit b at column b%8, row b/8 of an 8x2 grid; Y=235 is
# 1, Y=16 is 0), drawn on a 40x10 grid whose cells are 5x5: the block is the cell's inner 3x3
# (60% of it, around the centre where the page tests sample), the border is transparent and
# shows the moving background. Scaled to 1280x720 with nearest-neighbour, then each rung is a
# plain downscale, so the blocks scale with the picture and stay readable at 416x234.
code="color=c=black:s=40x10:r=30:d=30,format=yuva444p,geq=lum='if(mod(floor(N/pow(2\,floor(X/5)+8*floor(Y/5)))\,2)\,235\,16)':cb=128:cr=128:a='if(between(mod(X\,5)\,1\,3)*between(mod(Y\,5)\,1\,3)\,255\,0)',scale=1280:720:flags=neighbor"
gop=(-g 60 -keyint_min 60 -sc_threshold 0 -flags +cgop)
x264() { # x264 KBIT → realistic constant-ish bitrate (VBV), GOP exactly 2 s
  echo "-c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v ${1}k -maxrate ${1}k -bufsize $(($1 * 2))k ${gop[*]}"
}
if force || [ ! -s "$src/v2.mp4" ]; then
  # shellcheck disable=SC2046 # x264's options are meant to split
  ff -f lavfi -i "testsrc2=s=1280x720:r=30:d=30" -f lavfi -i "$code" -filter_complex \
    "[0:v]noise=alls=14:allf=t:all_seed=1234[bg];[bg][1:v]overlay=format=auto,format=yuv420p,split=3[s2][s1][s0];[s0]scale=416:234[v0];[s1]scale=640:360[v1];[s2]null[v2]" \
    -map '[v0]' $(x264 300) -movflags +faststart "$src/v0.tmp.mp4" \
    -map '[v1]' $(x264 800) -movflags +faststart "$src/v1.tmp.mp4" \
    -map '[v2]' $(x264 2500) -movflags +faststart "$src/v2.tmp.mp4"
  for i in 0 1 2; do mv "$src/v$i.tmp.mp4" "$src/v$i.mp4"; done
  made+=("$src/v0.mp4 v1.mp4 v2.mp4")
else kept=$((kept + 1)); fi

# Click tracks: a 10 ms burst at every whole second over a quiet bed (en: 1 kHz over 220 Hz,
# as fixtures.sh; de: 660 Hz over 165 Hz). 29.99 s, not 30: then ffmpeg cuts exactly 15 audio
# segments of ~2 s like the video (30 s of AAC frames spill a 21 ms 16th segment).
en='0.1*sin(2*PI*220*t)+if(lt(mod(t\,1)\,0.01)\,0.8*sin(2*PI*1000*t)\,0)'
de='0.1*sin(2*PI*165*t)+if(lt(mod(t\,1)\,0.01)\,0.8*sin(2*PI*660*t)\,0)'
for lang in en de; do
  if force || [ ! -s "$src/audio-$lang.m4a" ]; then
    expr=${!lang} iso=eng; [ "$lang" = de ] && iso=deu # MP4 and Matroska store ISO 639-2
    ff -f lavfi -i "aevalsrc='$expr|$expr':s=48000:d=29.99" -c:a aac -b:a 128k -movflags +faststart \
      -metadata:s:a:0 language=$iso "$src/audio-$lang.tmp.m4a"
    mv "$src/audio-$lang.tmp.m4a" "$src/audio-$lang.m4a"
    made+=("$src/audio-$lang.m4a")
  else kept=$((kept + 1)); fi
done

# WebVTT: cue n (1..15) from 2n-1 s to 2n+1 s (the last ends at 30 s), so every cue spans a
# segment boundary. Text: "Cue n 00:00:01–00:00:03" (de: "Untertitel n ...").
vtt_time() { printf '%02d:%02d:%02d.000' $(($1 / 3600)) $(($1 / 60 % 60)) $(($1 % 60)); }
for lang in en de; do
  f=$out/subs-$lang.vtt
  if force || [ ! -s "$f" ]; then
    word=Cue; [ "$lang" = de ] && word=Untertitel
    {
      printf 'WEBVTT\n\n'
      for n in $(seq 1 15); do
        a=$((2 * n - 1)) b=$((2 * n + 1)); [ $b -gt 30 ] && b=30
        printf 'cue-%d\n%s --> %s\n%s %d %s–%s\n\n' "$n" "$(vtt_time $a)" "$(vtt_time $b)" "$word" "$n" "$(vtt_time $a | cut -c1-8)" "$(vtt_time $b | cut -c1-8)"
      done
    } > "$f.tmp" && mv "$f.tmp" "$f"
    made+=("$f")
  else kept=$((kept + 1)); fi
done

# --- packages --------------------------------------------------------------------------------
# package NAME MANIFEST: true when $out/NAME must be (re)made; it is then built in $tmp and
# moved into place by `done_package` (an interrupted run leaves no half-made package).
tmp=
package() {
  local dir=$out/$1 manifest=$out/$1/$2
  if ! force && [ -s "$manifest" ] && [ "$manifest" -nt "$src/v2.mp4" ] && [ "$manifest" -nt "$src/audio-de.m4a" ]; then
    kept=$((kept + 1)); return 1
  fi
  tmp=$out/.tmp-$1
  rm -rf "$tmp" && mkdir -p "$tmp"
}
done_package() { rm -rf "${out:?}/$1" && mv "$tmp" "$out/$1" && made+=("$out/$1/"); }
inputs=(-i "$src/v0.mp4" -i "$src/v1.mp4" -i "$src/v2.mp4" -i "$src/audio-en.m4a" -i "$src/audio-de.m4a")
maps=(-map 0:v -map 1:v -map 2:v -map 3:a -map 4:a -c copy)
vsm="v:0,agroup:aud,name:234p v:1,agroup:aud,name:360p v:2,agroup:aud,name:720p a:0,agroup:aud,language:en,default:yes,name:audio-en a:1,agroup:aud,language:de,name:audio-de"
hls=(-f hls -hls_time 2 -hls_playlist_type vod -hls_flags independent_segments -master_pl_name ffmpeg-master.m3u8)

if package hls-fmp4 master.m3u8; then
  ff "${inputs[@]}" "${maps[@]}" "${hls[@]}" -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
    -hls_segment_filename "$tmp/%v/seg%d.m4s" -var_stream_map "$vsm" "$tmp/%v/index.m3u8"
  node scripts/streams-manifests.mjs hls "$tmp" "$out"
  done_package hls-fmp4
fi
if package hls-ts master.m3u8; then
  ff "${inputs[@]}" "${maps[@]}" "${hls[@]}" -hls_segment_type mpegts \
    -hls_segment_filename "$tmp/%v/seg%d.ts" -var_stream_map "$vsm" "$tmp/%v/index.m3u8"
  node scripts/streams-manifests.mjs hls "$tmp" "$out"
  done_package hls-ts
fi
if package hls-byterange master.m3u8; then
  ff -i "$src/v1.mp4" -i "$src/audio-en.m4a" -i "$src/audio-de.m4a" -map 0:v -map 1:a -map 2:a -c copy \
    "${hls[@]}" -hls_segment_type fmp4 -hls_flags single_file+independent_segments \
    -hls_segment_filename "$tmp/%v.mp4" \
    -var_stream_map "v:0,agroup:aud,name:360p a:0,agroup:aud,language:en,default:yes,name:audio-en a:1,agroup:aud,language:de,name:audio-de" \
    "$tmp/%v.m3u8"
  node scripts/streams-manifests.mjs hls "$tmp" "$out" --no-subs
  done_package hls-byterange
fi
if package hls-ts-muxed master.m3u8; then
  # Muxed audio coded differently per level (as many real ladders are): low = 234p + AAC
  # 44.1 kHz mono 64k, high = 360p + the 48 kHz stereo 128k track. A level switch changes
  # the audio decoder configuration at the segment boundary. ffmpeg's own master playlist.
  ff -i "$src/v0.mp4" -i "$src/v1.mp4" -i "$src/audio-en.m4a" -map 0:v -map 1:v -map 2:a -map 2:a \
    -c:v copy -c:a:0 aac -ar:a:0 44100 -ac:a:0 1 -b:a:0 64k -c:a:1 copy \
    -f hls -hls_time 2 -hls_playlist_type vod -hls_flags independent_segments -hls_segment_type mpegts \
    -master_pl_name master.m3u8 -hls_segment_filename "$tmp/%v/seg%d.ts" \
    -var_stream_map "v:0,a:0,name:low v:1,a:1,name:high" "$tmp/%v/index.m3u8"
  done_package hls-ts-muxed
fi
if package hls-groups master.m3u8; then
  # Each variant with its own AUDIO group (the usual way HLS pairs audio bitrates with
  # video): 234p with group "lo" (AAC 44.1 kHz mono 64k), 360p with "hi" (48 kHz stereo
  # 128k), both tracks English. ffmpeg's own master playlist.
  ff -i "$src/v0.mp4" -i "$src/v1.mp4" -i "$src/audio-en.m4a" -map 0:v -map 1:v -map 2:a -map 2:a \
    -c:v copy -c:a:0 aac -ar:a:0 44100 -ac:a:0 1 -b:a:0 64k -c:a:1 copy \
    "${hls[@]:0:8}" -master_pl_name master.m3u8 -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
    -hls_segment_filename "$tmp/%v/seg%d.m4s" \
    -var_stream_map "v:0,agroup:lo,name:234p v:1,agroup:hi,name:360p a:0,agroup:lo,language:en,default:yes,name:audio-lo a:1,agroup:hi,language:en,default:yes,name:audio-hi" \
    "$tmp/%v/index.m3u8"
  done_package hls-groups
fi

if package hls-aes ts/index.m3u8; then
  # ffmpeg 5.1 encrypts TS segments (-hls_key_info_file: key URI, key file, IV) but not fMP4
  # ("Encrypted fmp4 not yet supported"), and without an IV it still writes the first
  # segment's number as one IV for all: openssl makes the other variants from the clear twins
  # (AES-128-CBC with PKCS7 padding, as RFC 8216 section 5.2 says).
  key1=000102030405060708090a0b0c0d0e0f key2=2b7e151628aed2a6abf7158809cf4f3c
  iv=00112233445566778899aabbccddeeff
  bin() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
  enc() { openssl enc -aes-128-cbc -K "$1" -iv "$2" -in "$3" -out "$4"; } # KEY IV IN OUT
  seq_iv() { printf '%032x' "$1"; } # the media sequence number as a 128-bit big-endian IV
  bin "$key1" > "$tmp/key1.bin"
  bin "$key2" > "$tmp/key2.bin"
  cut=(-i "$src/v0.mp4" -i "$src/audio-en.m4a" -map 0:v -map 1:a -c copy -t 5.9 "${hls[@]:0:8}")
  mkdir -p "$tmp/clear" "$tmp/fmp4-clear" "$tmp/ts" "$tmp/ts-seq" "$tmp/fmp4-seq" "$tmp/ts-rotate" \
    "$tmp/ts-byterange" "$tmp/fmp4"
  ff "${cut[@]}" -hls_segment_type mpegts -hls_segment_filename "$tmp/clear/seg%d.ts" "$tmp/clear/index.m3u8"
  ff "${cut[@]}" -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
    -hls_segment_filename "$tmp/fmp4-clear/seg%d.m4s" "$tmp/fmp4-clear/index.m3u8"
  printf '../key1.bin\n%s\n%s\n' "$tmp/key1.bin" "$iv" > "$tmp/keyinfo.txt"
  ff "${cut[@]}" -hls_segment_type mpegts -hls_key_info_file "$tmp/keyinfo.txt" \
    -hls_segment_filename "$tmp/ts/seg%d.ts" "$tmp/ts/index.m3u8"
  rm "$tmp/keyinfo.txt"
  # The same segments as the clear twin (ffmpeg muxes them alike): checked, so the tests may
  # compare what plays.
  for i in 0 1 2; do
    openssl enc -d -aes-128-cbc -K "$key1" -iv "$iv" -in "$tmp/ts/seg$i.ts" | cmp -s - "$tmp/clear/seg$i.ts" \
      || { echo "hls-aes: ts/seg$i.ts does not decrypt to clear/seg$i.ts" >&2; exit 1; }
  done
  # A playlist's lines: the tags before the first segment, then per segment `#EXTINF` + URI.
  head_of() { sed -n '1,/^#EXTINF/p' "$1" | sed '$d'; }
  extinf() { grep '^#EXTINF' "$tmp/clear/index.m3u8" | sed -n "$(($1 + 1))p"; }
  # ts-seq: MEDIA-SEQUENCE 5 and no IV attribute: segment n is encrypted with IV n.
  {
    head_of "$tmp/clear/index.m3u8" | sed 's/^#EXT-X-MEDIA-SEQUENCE:0$/#EXT-X-MEDIA-SEQUENCE:5/'
    echo '#EXT-X-KEY:METHOD=AES-128,URI="../key1.bin"'
    for i in 0 1 2; do
      enc "$key1" "$(seq_iv $((i + 5)))" "$tmp/clear/seg$i.ts" "$tmp/ts-seq/seg$((i + 5)).ts"
      extinf $i; echo "seg$((i + 5)).ts"
    done
    echo '#EXT-X-ENDLIST'
  } > "$tmp/ts-seq/index.m3u8"
  # fmp4-seq: the same in fMP4 (whose first bytes matter to the parser, unlike a TS
  # segment's first packet), after a clear EXT-X-MAP.
  {
    head_of "$tmp/fmp4-clear/index.m3u8" | sed 's/^#EXT-X-MEDIA-SEQUENCE:0$/#EXT-X-MEDIA-SEQUENCE:5/'
    echo '#EXT-X-KEY:METHOD=AES-128,URI="../key1.bin"'
    for i in 0 1 2; do
      enc "$key1" "$(seq_iv $((i + 5)))" "$tmp/fmp4-clear/seg$i.m4s" "$tmp/fmp4-seq/seg$((i + 5)).m4s"
      extinf $i; echo "seg$((i + 5)).m4s"
    done
    echo '#EXT-X-ENDLIST'
  } > "$tmp/fmp4-seq/index.m3u8"
  sed -i 's|^#EXT-X-MAP:URI="init.mp4"$|#EXT-X-MAP:URI="../fmp4-clear/init.mp4"|' "$tmp/fmp4-seq/index.m3u8"
  # ts-rotate: segment 0 with key1 (explicit IV), 1 with key2 (IV from its number), 2 clear.
  enc "$key1" "$iv" "$tmp/clear/seg0.ts" "$tmp/ts-rotate/seg0.ts"
  enc "$key2" "$(seq_iv 1)" "$tmp/clear/seg1.ts" "$tmp/ts-rotate/seg1.ts"
  cp "$tmp/clear/seg2.ts" "$tmp/ts-rotate/seg2.ts"
  {
    head_of "$tmp/clear/index.m3u8"
    echo "#EXT-X-KEY:METHOD=AES-128,URI=\"../key1.bin\",IV=0x$iv"
    extinf 0; echo seg0.ts
    echo '#EXT-X-KEY:METHOD=AES-128,URI="../key2.bin"'
    extinf 1; echo seg1.ts
    echo '#EXT-X-KEY:METHOD=NONE'
    extinf 2; echo seg2.ts
    echo '#EXT-X-ENDLIST'
  } > "$tmp/ts-rotate/index.m3u8"
  # ts-byterange: ts/'s encrypted segments back to back in one file.
  {
    head_of "$tmp/ts/index.m3u8"
    offset=0
    for i in 0 1 2; do
      size=$(wc -c < "$tmp/ts/seg$i.ts")
      cat "$tmp/ts/seg$i.ts" >> "$tmp/ts-byterange/all.ts"
      extinf $i; echo "#EXT-X-BYTERANGE:$size@$offset"; echo all.ts
      offset=$((offset + size))
    done
    echo '#EXT-X-ENDLIST'
  } > "$tmp/ts-byterange/index.m3u8"
  # fmp4: the init segment and every segment encrypted with key1 and the explicit IV.
  enc "$key1" "$iv" "$tmp/fmp4-clear/init.mp4" "$tmp/fmp4/init.mp4"
  {
    sed -n '1,/^#EXT-X-MAP/p' "$tmp/fmp4-clear/index.m3u8" | sed '$d'
    echo "#EXT-X-KEY:METHOD=AES-128,URI=\"../key1.bin\",IV=0x$iv"
    echo '#EXT-X-MAP:URI="init.mp4"'
    for i in 0 1 2; do
      enc "$key1" "$iv" "$tmp/fmp4-clear/seg$i.m4s" "$tmp/fmp4/seg$i.m4s"
      extinf $i; echo "seg$i.m4s"
    done
    echo '#EXT-X-ENDLIST'
  } > "$tmp/fmp4/index.m3u8"
  done_package hls-aes
fi

dash=(-f dash -seg_duration 2 -adaptation_sets "id=0,streams=0,1,2 id=1,streams=3 id=2,streams=4")
if package dash-timeline manifest.mpd; then
  ff "${inputs[@]}" "${maps[@]}" "${dash[@]}" -use_template 1 -use_timeline 1 "$tmp/manifest.mpd"
  node scripts/streams-manifests.mjs dash "$tmp" "$out"
  done_package dash-timeline
fi
if package dash-number manifest.mpd; then
  ff "${inputs[@]}" "${maps[@]}" "${dash[@]}" -use_template 1 -use_timeline 0 "$tmp/manifest.mpd"
  node scripts/streams-manifests.mjs dash "$tmp" "$out" --wvtt
  done_package dash-number
fi
if package dash-audio-ladder manifest.mpd; then
  # One audio AdaptationSet (en) with two bitrates, 64k and 128k (both 48 kHz stereo), over
  # 234p/360p: the audio representation follows the video level.
  ff -i "$src/v0.mp4" -i "$src/v1.mp4" -i "$src/audio-en.m4a" -map 0:v -map 1:v -map 2:a -map 2:a \
    -c:v copy -c:a:0 aac -b:a:0 64k -c:a:1 copy -metadata:s:a:0 language=eng -metadata:s:a:1 language=eng \
    -f dash -seg_duration 2 -use_template 1 -use_timeline 1 \
    -adaptation_sets "id=0,streams=0,1 id=1,streams=2,3" "$tmp/manifest.mpd"
  done_package dash-audio-ladder
fi
if package dash-base manifest.mpd; then
  # One file per Representation with a global sidx; ffmpeg writes a SegmentList over it,
  # streams-manifests.mjs adds the SegmentBase manifest.
  ff "${inputs[@]}" "${maps[@]}" "${dash[@]}" -use_template 0 -single_file 1 -global_sidx 1 \
    -single_file_name 'stream$RepresentationID$.mp4' "$tmp/manifest.mpd"
  node scripts/streams-manifests.mjs dash "$tmp" "$out" --segment-base
  done_package dash-base
fi
if package dash-webm manifest.mpd; then
  # VP9 from the 720p mezzanine (the code blocks survive one more generation), Opus from
  # the same click expressions as the AAC tracks.
  ff -i "$src/v2.mp4" -f lavfi -i "aevalsrc='$en|$en':s=48000:d=29.99" -f lavfi -i "aevalsrc='$de|$de':s=48000:d=29.99" \
    -filter_complex "[0:v]split=2[a][b];[a]scale=416:234[v0];[b]scale=640:360[v1]" \
    -map '[v0]' -map '[v1]' -map 1:a -map 2:a -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 \
    "${gop[@]:0:4}" -b:v:0 250k -maxrate:v:0 250k -b:v:1 600k -maxrate:v:1 600k -c:a libopus -b:a 96k \
    -metadata:s:a:0 language=eng -metadata:s:a:1 language=deu \
    -f dash -dash_segment_type webm -seg_duration 2 -use_template 1 -use_timeline 1 \
    -adaptation_sets "id=0,streams=0,1 id=1,streams=2 id=2,streams=3" "$tmp/manifest.mpd"
  node scripts/streams-manifests.mjs dash "$tmp" "$out"
  done_package dash-webm
fi
if force || [ ! -s "$out/sync-720p.mp4" ] || [ "$src/v2.mp4" -nt "$out/sync-720p.mp4" ]; then
  ff -i "$src/v2.mp4" -i "$src/audio-en.m4a" -t 12 -map 0:v -map 1:a -c copy -movflags +faststart "$out/sync-720p.mp4.tmp.mp4"
  mv "$out/sync-720p.mp4.tmp.mp4" "$out/sync-720p.mp4"
  made+=("$out/sync-720p.mp4")
else kept=$((kept + 1)); fi
if package dash-thumbs manifest.mpd; then
  # Thumbnail k (second k) is frame 30k, the picture at k s, so its frame code reads 30k.
  ff -i "$src/v0.mp4" -i "$src/audio-en.m4a" -map 0:v -map 1:a -c copy -metadata:s:a:0 language=eng \
    -f dash -seg_duration 2 -use_template 1 -use_timeline 1 -adaptation_sets "id=0,streams=0 id=1,streams=1" \
    "$tmp/manifest.mpd"
  mkdir -p "$tmp/tiles"
  ff -i "$src/v2.mp4" -vf "select='not(mod(n\,30))',scale=256:144,tile=5x2" -fps_mode passthrough -q:v 3 -start_number 1 "$tmp/tiles/tile-%d.jpg"
  node scripts/streams-manifests.mjs thumbs "$tmp" "$out"
  done_package dash-thumbs
fi

for f in "${made[@]}"; do
  set -- $f
  if [ -d "$1" ]; then
    printf 'made %-44s %4d files %9s bytes\n' "$1" "$(find "$1" -type f | wc -l)" "$(du -sb "$1" | cut -f1)"
  else printf 'made %s\n' "$f"; fi
done
echo "streams: ${#made[@]} made, $kept kept (FORCE=1 remakes all) in $out/ in $((SECONDS - t0)) s"
