#!/usr/bin/env bash
# Packages the built web player as TV apps: dist/<device>/ for each of tizen, webos, hbbtv
# (default: all). Each folder is the same app (device-shims/app/) with the same built
# package (www/pkg), the device shims and that platform's manifest:
#   tizen: config.xml (privileges, key input) -> sign + pack with Tizen Studio's `tizen package`
#   webos: appinfo.json (+ icons)            -> `ares-package dist/webos` makes the .ipk
#   hbbtv: index.html with the OIPF objects + ait.xml (BASE_URL=https://host/path/)
# Needs scripts/build-web.sh to have run. Idempotent: each folder is rebuilt from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=("$@")
[ ${#devices[@]} -gt 0 ] || devices=(tizen webos hbbtv)
version=$(node -p "require('./package.json').version")
for p in www/pkg/kinema_web.js; do
  [ -f "$p" ] || { echo "package-devices: $p missing: run bash scripts/build-web.sh" >&2; exit 1; }
done

# A square PNG icon of `size` pixels (solid Kinema red with a white play triangle), made here so
# no binary is committed.
icon() {
  python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
path, n = sys.argv[1], int(sys.argv[2])
rows = []
for y in range(n):
    row = bytearray([0])
    for x in range(n):
        inside = x >= n * 0.35 and abs(y - n / 2) <= (n * 0.72 - x) * 0.25 / 0.37
        row += bytes((255, 255, 255)) if inside else bytes((229, 9, 20))
    rows.append(bytes(row))
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', n, n, 8, 2, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(b''.join(rows), 9)) + chunk(b'IEND', b'')
open(path, 'wb').write(png)
PY
}

for d in "${devices[@]}"; do
  out=dist/$d
  case $d in tizen|webos|hbbtv) ;; *) echo "package-devices: unknown device $d" >&2; exit 1 ;; esac
  rm -rf "$out"
  mkdir -p "$out/kinema/ui"
  cp device-shims/app/app.js device-shims/app/app.css "$out/"
  cp device-shims/index.js device-shims/profiles.js "$out/kinema/"
  cp device-shims/ui/controls.js device-shims/ui/controls.css "$out/kinema/ui/"
  cp -r www/pkg "$out/"
  rm -f "$out"/pkg/.gitignore "$out"/pkg/package.json "$out"/pkg/README.md
  if [ -f www/media/sample.mp4 ]; then mkdir -p "$out/media" && cp www/media/sample.mp4 "$out/media/"; fi
  objects=""
  [ "$d" = hbbtv ] && objects=$(tr -d '\n' < device-shims/hbbtv/objects.html)
  python3 - device-shims/app/index.html "$out/index.html" "$d" "$objects" <<'PY'
import sys
src, dst, device, objects = sys.argv[1:5]
html = open(src).read().replace('data-kinema-profile="auto"', f'data-kinema-profile="{device}"')
html = html.replace('<!--HBBTV-OBJECTS-->', objects)
open(dst, 'w').write(html)
PY
  case $d in
    tizen)
      sed "s/@VERSION@/$version/" device-shims/tizen/config.xml > "$out/config.xml"
      icon "$out/icon.png" 117 ;;
    webos)
      sed "s/@VERSION@/$version/" device-shims/webos/appinfo.json > "$out/appinfo.json"
      icon "$out/icon.png" 80
      icon "$out/largeIcon.png" 130 ;;
    hbbtv)
      sed "s#@BASE_URL@#${BASE_URL:-http://127.0.0.1:8080/}#" device-shims/hbbtv/ait.xml > "$out/ait.xml" ;;
  esac
  echo "package-devices: $out ($(du -sh "$out" | cut -f1))"
done
