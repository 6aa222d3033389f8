#!/usr/bin/env python3
"""Skin tone of a face's stages: the median colour, the luminance spread and the lower face's
brightness of X, X_f, X_p and X'.

Usage: python3 docs/privacy/face_tone.py STAGES_DIR [STAGES_DIR ...]
where each STAGES_DIR holds one face's stage images as `ideudemon-cli anonymize PHOTO
--stages DIR` writes them (DIR/<photo>/face_00_X.png, ..._X_f.png, ..._X_p.png, ..._X_final.png).

Measured over X_p's content (the pixels where X_p and X_f differ from their grey background),
pixels of luminance 50-235 (no pupils, no teeth highlights): the per-channel median (RGB), the
median luminance and its 10th and 90th percentiles, and the median luminance of the lower face
(the bottom quarter of those rows) over that of the middle (35-60 % of the rows, the cheeks and
nose). Needs numpy only (the PNGs are decoded here).
"""
import pathlib
import struct
import sys
import zlib

import numpy as np


def read_png(path):
    """An 8-bit, non-interlaced grey, RGB or RGBA PNG (as OpenCV writes them) as an HxWx3 array."""
    data = pathlib.Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit grey, RGB or RGBA, non-interlaced")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    image = np.zeros((height, stride), np.int32)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if kind == 2:
            row = (row + previous) & 255
        elif kind in (1, 3, 4):  # these depend on the pixel to the left: unfiltered one at a time
            out = np.zeros(stride, np.int32)
            for x in range(stride):
                left = out[x - channels] if x >= channels else 0
                up = previous[x]
                upper_left = previous[x - channels] if x >= channels else 0
                if kind == 1:
                    predictor = left
                elif kind == 3:
                    predictor = (left + up) // 2
                else:
                    p = left + up - upper_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                out[x] = (row[x] + predictor) & 255
            row = out
        image[y] = row
        previous = row
    image = image.reshape(height, width, channels)[:, :, :3].astype(float)
    return np.repeat(image, 3, axis=2) if channels == 1 else image


LUMINANCE = np.array([0.299, 0.587, 0.114])


def band_luminance(image, mask, start, end):
    """Median luminance of the mask's rows from `start` to `end` (shares of its height)."""
    rows = np.where(mask.any(axis=1))[0]
    top, height = rows[0], rows[-1] - rows[0]
    band = np.zeros_like(mask)
    band[top + int(start * height):top + int(end * height)] = True
    return np.median(image[mask & band] @ LUMINANCE)


def describe(image, mask):
    pixels = image[mask]
    luminance = pixels @ LUMINANCE
    keep = (luminance > 50) & (luminance < 235)
    median = np.median(pixels[keep], axis=0)
    lum = luminance[keep]
    lower = band_luminance(image, mask, 0.75, 1.0) / band_luminance(image, mask, 0.35, 0.6)
    return (f"median RGB {median[0]:.0f} / {median[1]:.0f} / {median[2]:.0f}, luminance median {np.median(lum):.0f}"
            f" (10th percentile {np.percentile(lum, 10):.0f}, 90th {np.percentile(lum, 90):.0f}),"
            f" lower face / middle {lower:.3f}")


def main(directories):
    for directory in directories:
        for face in sorted(pathlib.Path(directory).glob("*/face_*_X.png")):
            stem = str(face)[:-len("X.png")]
            stages = {name: read_png(stem + name + ".png") for name in ("X", "X_f", "X_p", "X_final")}
            content = np.ones(stages["X"].shape[:2], bool)
            for name in ("X_f", "X_p"):
                content &= np.any(np.abs(stages[name] - stages[name][0, 0]) > 3, axis=2)
            print(face.parent)
            for name, image in stages.items():
                print(f"  {name:8s} {describe(image, content)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
