#!/usr/bin/python3
"""Writes the pictures and OpenCV results the vision tests compare with (tests/vision_*_test.cpp).

usage: make_vision_fixtures.py OUTPUT_DIR

Pictures (PIL): RGB, grayscale and RGBA PNGs, an RGB and a grayscale JPEG, a JPEG with EXIF orientation 6, a CMYK
JPEG, a truncated JPEG and PNG, a BMP; each picture's exact pixels as .npy (JPEG: as PIL decodes it, which is
libjpeg too).
Letterbox (OpenCV): for fixed generated pictures, Ultralytics' LetterBox written out with cv2.resize(INTER_LINEAR)
and cv2.copyMakeBorder, as letterbox_<name>_input.npy and letterbox_<name>_<S>[_options].npy.
"""
import os
import sys

import numpy as np
from PIL import Image

import cv2


def ultralytics_letterbox(image, new_shape, auto=False, scale_fill=False, scaleup=True, stride=32, center=True):
    """ultralytics/data/augment.py LetterBox.__call__, the image part, unchanged in its arithmetic."""
    shape = image.shape[:2]
    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])
    if not scaleup:
        r = min(r, 1.0)
    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))
    dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]
    if auto:
        dw, dh = np.mod(dw, stride), np.mod(dh, stride)
    elif scale_fill:
        dw, dh = 0.0, 0.0
        new_unpad = (new_shape[1], new_shape[0])
    if center:
        dw /= 2
        dh /= 2
    if shape[::-1] != new_unpad:
        image = cv2.resize(image, new_unpad, interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)) if center else 0, int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)) if center else 0, int(round(dw + 0.1))
    return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))


def scene(width, height, seed):
    """Smooth gradients with sharp-edged blocks and noise: bilinear errors show on edges and slopes alike."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], axis=-1)
    for _ in range(6):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        image[y0:y0 + height // 4, x0:x0 + width // 4] = rng.integers(0, 256, 3)
    image = image + rng.integers(-20, 21, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rgb = scene(64, 48, 1)
    np.save(os.path.join(out, "rgb.npy"), rgb)
    Image.fromarray(rgb).save(os.path.join(out, "rgb.png"))
    Image.fromarray(rgb).save(os.path.join(out, "rgb.bmp"))
    gray = rgb[:, :, 0]
    np.save(os.path.join(out, "gray.npy"), gray)
    Image.fromarray(gray).save(os.path.join(out, "gray.png"))
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 77, np.uint8)], axis=-1)
    Image.fromarray(rgba).save(os.path.join(out, "rgba.png"))
    # Other PNG channel layouts: grey + alpha, a palette, 16-bit grey (PNG keeps the high byte first; 8-bit
    # readers such as cv2.imread(IMREAD_COLOR) take value >> 8).
    Image.fromarray(np.stack([gray, np.full_like(gray, 200)], -1), "LA").save(os.path.join(out, "gray_alpha.png"))
    palette = Image.fromarray(rgb).quantize(colors=16)
    palette.save(os.path.join(out, "palette.png"))
    np.save(os.path.join(out, "palette.npy"), np.asarray(palette.convert("RGB")))
    gray16 = gray.astype(np.uint16) * 256 + (np.arange(gray.size) % 256).reshape(gray.shape).astype(np.uint16)
    Image.fromarray(gray16, "I;16").save(os.path.join(out, "gray16.png"))
    np.save(os.path.join(out, "gray16_high_byte.npy"), (gray16 >> 8).astype(np.uint8))
    Image.fromarray(rgb).save(os.path.join(out, "rgb.jpg"), quality=95)
    np.save(os.path.join(out, "rgb_jpg.npy"), np.asarray(Image.open(os.path.join(out, "rgb.jpg")).convert("RGB")))
    Image.fromarray(gray).save(os.path.join(out, "gray.jpg"), quality=95)
    np.save(os.path.join(out, "gray_jpg.npy"), np.asarray(Image.open(os.path.join(out, "gray.jpg"))))
    # EXIF orientation 6: stored as is, shown turned 90 degrees clockwise (PIL's exif_transpose is the truth).
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(os.path.join(out, "exif6.jpg"), quality=95, exif=exif)
    from PIL import ImageOps
    upright = ImageOps.exif_transpose(Image.open(os.path.join(out, "exif6.jpg"))).convert("RGB")
    np.save(os.path.join(out, "exif6_upright.npy"), np.asarray(upright))
    Image.fromarray(rgb).convert("CMYK").save(os.path.join(out, "cmyk.jpg"), quality=95)
    for name in ("rgb.jpg", "rgb.png"):
        data = open(os.path.join(out, name), "rb").read()
        stem, extension = name.split(".")
        open(os.path.join(out, stem + "_truncated." + extension), "wb").write(data[:len(data) // 2])

    # A decompression bomb: a PNG whose (valid) header claims 100000 x 100000 pixels, with no pixel data.
    import struct
    import zlib
    header = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    open(os.path.join(out, "bomb.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk)

    # Letterbox cases: landscape, portrait, an odd small picture enlarged, a 1080p frame.
    cases = {"landscape": scene(200, 120, 2), "portrait": scene(90, 170, 3), "small": scene(37, 23, 4),
             "frame": scene(1920, 1080, 5)}
    for name, image in cases.items():
        np.save(os.path.join(out, f"letterbox_{name}_input.npy"), image)
        np.save(os.path.join(out, f"letterbox_{name}_640.npy"), ultralytics_letterbox(image, (640, 640)))
        np.save(os.path.join(out, f"letterbox_{name}_320_auto.npy"), ultralytics_letterbox(image, (320, 320), auto=True))
        np.save(os.path.join(out, f"letterbox_{name}_320_noscaleup.npy"),
                ultralytics_letterbox(image, (320, 320), scaleup=False))
        np.save(os.path.join(out, f"letterbox_{name}_320_topleft.npy"),
                ultralytics_letterbox(image, (320, 320), center=False))
        np.save(os.path.join(out, f"letterbox_{name}_256x320_fill.npy"),
                ultralytics_letterbox(image, (256, 320), scale_fill=True))


if __name__ == "__main__":
    main()
