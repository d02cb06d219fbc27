#!/usr/bin/python3
"""A second synthetic detection set, written apart from tools/make_detection_scenes.py (other code, other objects):
glyphs rendered with the DejaVu fonts (Debian's fonts-dejavu-core) on textured backgrounds, partly hidden by
occluders, with look-alike glyphs that are not objects, in pictures of several aspect ratios (none of them the
detector's input shape, so the letterbox matters).

    /usr/bin/python3 tools/make_glyph_scenes.py --output DIR --count N [--seed S] [--quality Q]

writes DIR/images/glyphs_0000.jpg ..., DIR/labels/glyphs_0000.txt ("class cx cy w h", normalized to the picture)
and DIR/data.yaml (the class names). The same seed gives the same files. tools/train_anchor_detector.py imports
`render_scene` to draw its training pictures on the fly.

A box is the tight box of the glyph's own ink (from its rendered alpha mask after rotation), so it is exact.
An occluder may hide at most 40 % of any glyph's ink; glyphs overlap each other only a little (box IoU < 0.2).
"""
import argparse
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CLASS_NAMES = ["two", "five", "kay", "ampersand", "question"]
CLASS_GLYPHS = ["2", "5", "K", "&", "?"]
DISTRACTOR_GLYPHS = ["W", "H", "#", "o", "X", "M"]  # ink that is not an object
PICTURE_SIZES = [(480, 320), (300, 500), (640, 360), (360, 640), (500, 300), (544, 306), (320, 480), (600, 400)]
FONT_FOLDER = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
              "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"]  # the six faces of fonts-dejavu-core
_font_cache = {}


def font(name, size):
    key = (name, size)
    if key not in _font_cache:
        path = os.path.join(FONT_FOLDER, name)
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: install fonts-dejavu-core (tools/install_dependencies.sh)")
        _font_cache[key] = ImageFont.truetype(path, size)
    return _font_cache[key]


def texture(rng, width, height):
    """A background texture as float RGB: value noise at two scales, wood-like rings, or a plaid of bands."""
    kind = int(rng.integers(0, 3))
    colour_a = rng.uniform(0, 255, 3)
    colour_b = rng.uniform(0, 255, 3)
    if kind == 0:  # value noise: a coarse random grid upsampled bilinearly, plus fine grain
        cells = int(rng.integers(3, 12))
        coarse = rng.uniform(0, 1, (cells, max(2, cells * width // height)))
        t = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR),
                       np.float32) / 255
        t = np.clip(t + rng.normal(0, 0.06, (height, width)), 0, 1)
    elif kind == 1:  # rings around a point outside or inside the picture
        cx, cy = rng.uniform(-width, 2 * width), rng.uniform(-height, 2 * height)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        period = rng.uniform(8, 40)
        t = 0.5 + 0.5 * np.sin(np.hypot(xs - cx, ys - cy) * 2 * math.pi / period)
    else:  # plaid: horizontal and vertical bands of random widths
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        t = 0.5 * (np.sin(xs / rng.uniform(4, 30)) > 0) + 0.5 * (np.sin(ys / rng.uniform(4, 30)) > 0)
    return colour_a * (1 - t[..., None]) + colour_b * t[..., None]


def glyph_mask(rng, character):
    """The glyph's ink as an alpha mask (uint8), rotated a little, cropped to its tight box."""
    size = int(rng.integers(18, 110))
    face = font(FONT_FILES[int(rng.integers(0, len(FONT_FILES)))], size)
    left, top, right, bottom = face.getbbox(character)
    canvas = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(canvas).text((4 - left, 4 - top), character, fill=255, font=face)
    canvas = canvas.rotate(float(rng.uniform(-20, 20)), resample=Image.BILINEAR, expand=True)
    mask = np.asarray(canvas)
    rows, columns = np.nonzero(mask > 96)
    if len(rows) == 0:
        return None
    return mask[rows.min():rows.max() + 1, columns.min():columns.max() + 1]


def box_iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def paste_ink(pixels, mask, x, y, colour):
    h, w = mask.shape
    alpha = mask.astype(np.float32)[..., None] / 255
    region = pixels[y:y + h, x:x + w]
    region[:] = region * (1 - alpha) + np.asarray(colour, np.float32) * alpha


def ink_colour(rng, pixels, box):
    """A colour that stands out from the background under the box."""
    x1, y1, x2, y2 = box
    mean = pixels[y1:y2, x1:x2].reshape(-1, 3).mean(0)
    for _ in range(20):
        colour = rng.uniform(0, 255, 3)
        if np.abs(colour - mean).sum() > 200:
            return colour
    return 255 - mean


def render_scene(rng, size=None):
    """A picture (PIL RGB) and its objects [(class, x1, y1, x2, y2)] in its pixels."""
    width, height = size or PICTURE_SIZES[int(rng.integers(0, len(PICTURE_SIZES)))]
    pixels = texture(rng, width, height)
    coverage = np.zeros((height, width), np.int32)  # which object's ink is where (index + 1), for occlusion
    objects, masks, placed = [], [], []  # placed: every glyph's box, objects and distractors
    for _ in range(int(rng.integers(1, 9))):
        is_object = rng.random() < 0.8
        character = (CLASS_GLYPHS[int(rng.integers(0, len(CLASS_GLYPHS)))] if is_object
                     else DISTRACTOR_GLYPHS[int(rng.integers(0, len(DISTRACTOR_GLYPHS)))])
        mask = glyph_mask(rng, character)
        if mask is None or mask.shape[0] >= height - 2 or mask.shape[1] >= width - 2:
            continue
        for _attempt in range(10):
            x, y = int(rng.integers(0, width - mask.shape[1])), int(rng.integers(0, height - mask.shape[0]))
            box = (x, y, x + mask.shape[1], y + mask.shape[0])
            if all(box_iou(box, other) < 0.2 for other in placed):
                break
        else:
            continue
        paste_ink(pixels, mask, x, y, ink_colour(rng, pixels, box))
        placed.append(box)
        if is_object:
            objects.append((CLASS_GLYPHS.index(character),) + box)
            masks.append((mask > 96, x, y))
    # Occluders: blobs and bars in other colours, each placed only where it hides at most 40 % of any glyph.
    for _ in range(int(rng.integers(0, 4))):
        w, h = int(rng.integers(10, width // 3)), int(rng.integers(6, height // 4))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        shape = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(shape)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((0, 0, w - 1, h - 1), fill=255)
        occluder = np.asarray(shape) > 0
        hides_too_much = False
        for ink, gx, gy in masks:
            gh, gw = ink.shape
            hidden = np.zeros_like(ink)
            ox1, oy1, ox2, oy2 = max(x, gx), max(y, gy), min(x + w, gx + gw), min(y + h, gy + gh)
            if ox1 < ox2 and oy1 < oy2:
                hidden[oy1 - gy:oy2 - gy, ox1 - gx:ox2 - gx] = occluder[oy1 - y:oy2 - y, ox1 - x:ox2 - x]
            if (hidden & ink).sum() > 0.4 * ink.sum():
                hides_too_much = True
                break
        if hides_too_much:
            continue
        paste_ink(pixels, occluder.astype(np.uint8) * 255, x, y, rng.uniform(0, 255, 3))
    pixels = np.clip(pixels + rng.normal(0, rng.uniform(0, 8), pixels.shape), 0, 255)
    return Image.fromarray(pixels.astype(np.uint8)), objects


def write_dataset(output, count, seed, quality):
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(output, "images"), exist_ok=True)
    os.makedirs(os.path.join(output, "labels"), exist_ok=True)
    with open(os.path.join(output, "data.yaml"), "w") as file:
        file.write(f"# synthetic glyphs, tools/make_glyph_scenes.py --seed {seed}\nnames:\n")
        for i, name in enumerate(CLASS_NAMES):
            file.write(f"  {i}: {name}\n")
    for index in range(count):
        image, objects = render_scene(rng, PICTURE_SIZES[index % len(PICTURE_SIZES)])
        stem = f"glyphs_{index:04d}"
        image.save(os.path.join(output, "images", stem + ".jpg"), quality=quality)
        with open(os.path.join(output, "labels", stem + ".txt"), "w") as file:
            for c, x1, y1, x2, y2 in objects:
                file.write(f"{c} {(x1 + x2) / 2 / image.width:.6f} {(y1 + y2) / 2 / image.height:.6f} "
                           f"{(x2 - x1) / image.width:.6f} {(y2 - y1) / image.height:.6f}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--seed", type=int, default=3001)
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality")
    arguments = parser.parse_args()
    write_dataset(arguments.output, arguments.count, arguments.seed, arguments.quality)


if __name__ == "__main__":
    main()
