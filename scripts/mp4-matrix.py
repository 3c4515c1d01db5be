#!/usr/bin/env python3
"""Rewrites the display matrix of the video track's `tkhd` in an MP4 (the fixtures' mirrored
files: ffmpeg 5.1 cannot write a mirror). Usage: mp4-matrix.py IN OUT A B C D, where A B C D
are the matrix's a, b, c, d as integers (-1, 0, 1: written as 16.16 fixed point); the
translation is set so the turned picture stays in the positive quadrant, as encoders write it.
"""
import struct
import sys


def boxes(data, start, end):
    """(type, payload start, box end) of each box in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack('>I4s', data[at:at + 8])
        head = 8
        if size == 1:
            size = struct.unpack('>Q', data[at + 8:at + 16])[0]
            head = 16
        if size < head or at + size > end:
            raise SystemExit(f'bad box at {at}')
        yield kind, at + head, at + size
        at += size


def main():
    src, dst, *m = sys.argv[1:]
    a, b, c, d = (int(x) for x in m)
    data = bytearray(open(src, 'rb').read())
    moov = next(((s, e) for k, s, e in boxes(data, 0, len(data)) if k == b'moov'), None)
    if moov is None:
        raise SystemExit('no moov')
    for kind, s, e in boxes(data, *moov):
        if kind != b'trak':
            continue
        children = {k: (cs, ce) for k, cs, ce in boxes(data, s, e)}
        mdia = children.get(b'mdia')
        hdlr = mdia and next((cs for k, cs, ce in boxes(data, *mdia) if k == b'hdlr'), None)
        if hdlr is None or data[hdlr + 8:hdlr + 12] != b'vide':
            continue
        ts, _ = children[b'tkhd']
        version = data[ts]
        # version/flags, times and track id, reserved, duration, reserved, layer, group, volume.
        at = ts + 4 + (8 + 8 + 4 + 4 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4) + 8 + 8
        w, h = struct.unpack('>II', data[at + 36:at + 44])
        fx = lambda v: v * 65536 & 0xFFFFFFFF  # noqa: E731 (16.16)
        tx = w if a < 0 or c < 0 else 0
        ty = h if b < 0 or d < 0 else 0
        data[at:at + 36] = struct.pack('>9I', fx(a), fx(b), 0, fx(c), fx(d), 0, tx, ty, 0x40000000)
        open(dst, 'wb').write(data)
        return
    raise SystemExit('no video track')


main()
