#!/usr/bin/python3
"""Synthetic detection scenes in YOLO format: coloured shapes of a few classes on textured backgrounds, pictures
of many sizes (most of them not square, so the letterbox matters), each with its exact boxes.

    /usr/bin/python3 tools/make_detection_scenes.py --output DIR --count N [--seed S] [--quality Q]

writes DIR/images/scene_0000.jpg ..., DIR/labels/scene_0000.txt ("class cx cy w h", normalized to the picture)
and DIR/data.yaml (the class names). The same seed gives the same files. tools/train_detector.py imports
`render_scene` to draw its training pictures on the fly.

The classes are drawn so that a box is exact: a circle's box is its bounding square, a polygon's box is the
bounding box of its corners (all drawn inside the picture). Objects overlap each other only a little (IoU of
their boxes below 0.3), as objects in photographs mostly do.
"""
import argparse
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASS_NAMES = ["circle", "square", "triangle", "cross"]
SIZE_CHOICES = [(320, 320), (480, 320), (320, 480), (400, 300), (300, 400), (512, 288), (256, 384), (448, 336)]


def random_colour(rng, avoid=None):
    """A saturated colour, far from `avoid` (the background's mean) so an object stays visible."""
    while True:
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if avoid is None or sum(abs(a - b) for a, b in zip(colour, avoid)) > 160:
            return colour


def background(rng, width, height):
    """One of: smooth gradient, stripes, checker, coloured noise, blurred blobs: each image another texture."""
    kind = rng.integers(0, 5)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.integers(0, 256, 3).astype(np.float32)
    other = rng.integers(0, 256, 3).astype(np.float32)
    if kind == 0:
        angle = rng.uniform(0, math.pi)
        t = (xs * math.cos(angle) + ys * math.sin(angle))
        t = (t - t.min()) / max(1.0, float(t.max() - t.min()))
        pixels = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == 1:
        period = rng.uniform(6, 30)
        angle = rng.uniform(0, math.pi)
        t = 0.5 + 0.5 * np.sin((xs * math.cos(angle) + ys * math.sin(angle)) * 2 * math.pi / period)
        pixels = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == 2:
        cell = int(rng.integers(8, 40))
        t = (((xs // cell) + (ys // cell)) % 2).astype(np.float32)
        pixels = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == 3:
        pixels = base + rng.normal(0, 40, (height, width, 3))
    else:
        pixels = np.empty((height, width, 3), np.float32)
        pixels[:] = base
        image = Image.fromarray(pixels.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y, r = rng.integers(0, width), rng.integers(0, height), rng.integers(10, 60)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(8)), np.float32)
    pixels = pixels + rng.normal(0, 6, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), tuple(int(c) for c in pixels.mean((0, 1)))


def polygon_corners(class_id, cx, cy, size, angle):
    """Corners of a square (rotated), triangle (rotated) or cross (axis-aligned + rotated arms)."""
    if class_id == 1:
        return [(cx + size / 2 * math.sqrt(2) * math.cos(angle + math.pi / 4 + k * math.pi / 2),
                 cy + size / 2 * math.sqrt(2) * math.sin(angle + math.pi / 4 + k * math.pi / 2)) for k in range(4)]
    if class_id == 2:
        return [(cx + size / 2 * math.cos(angle + k * 2 * math.pi / 3),
                 cy + size / 2 * math.sin(angle + k * 2 * math.pi / 3)) for k in range(3)]
    arm = size / 2
    thick = size / 6
    outline = [(-thick, -arm), (thick, -arm), (thick, -thick), (arm, -thick), (arm, thick), (thick, thick),
               (thick, arm), (-thick, arm), (-thick, thick), (-arm, thick), (-arm, -thick), (-thick, -thick)]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in outline]


def box_iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def render_scene(rng, width=None, height=None, max_objects=8):
    """A picture and its objects [(class, x1, y1, x2, y2)] in pixels."""
    if width is None:
        width, height = SIZE_CHOICES[rng.integers(0, len(SIZE_CHOICES))]
    image, mean_colour = background(rng, width, height)
    draw = ImageDraw.Draw(image)
    objects = []
    target = int(rng.integers(1, max_objects + 1))
    attempts = 0
    while len(objects) < target and attempts < 60:
        attempts += 1
        class_id = int(rng.integers(0, len(CLASS_NAMES)))
        size = float(rng.uniform(18, min(width, height) * 0.45))
        angle = float(rng.uniform(0, 2 * math.pi)) if class_id != 3 else float(rng.uniform(-0.3, 0.3))
        cx, cy = float(rng.uniform(size / 2 + 2, width - size / 2 - 2)), float(rng.uniform(size / 2 + 2, height - size / 2 - 2))
        if class_id == 0:
            corners = [(cx - size / 2, cy - size / 2), (cx + size / 2, cy + size / 2)]
        else:
            corners = polygon_corners(class_id, cx, cy, size, angle)
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        box = (min(xs), min(ys), max(xs), max(ys))
        if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
            continue
        if any(box_iou(box, other[1:]) > 0.3 for other in objects):
            continue
        colour = random_colour(rng, mean_colour)
        if class_id == 0:
            draw.ellipse(box, fill=colour)
        else:
            draw.polygon(corners, fill=colour)
        objects.append((class_id, *box))
    return image, objects


def yolo_label_lines(objects, width, height):
    lines = []
    for class_id, x1, y1, x2, y2 in objects:
        lines.append(f"{class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
                     f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
    return lines


def write_data_set(output, count, seed, quality, prefix="scene"):
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(output, "images"), exist_ok=True)
    os.makedirs(os.path.join(output, "labels"), exist_ok=True)
    for index in range(count):
        image, objects = render_scene(rng)
        name = f"{prefix}_{index:04d}"
        image.save(os.path.join(output, "images", name + ".jpg"), quality=quality)
        with open(os.path.join(output, "labels", name + ".txt"), "w") as label_file:
            label_file.write("".join(line + "\n" for line in yolo_label_lines(objects, image.width, image.height)))
    with open(os.path.join(output, "data.yaml"), "w") as yaml_file:
        yaml_file.write("# synthetic shapes, tools/make_detection_scenes.py --seed %d\nnames:\n" % seed)
        for class_id, name in enumerate(CLASS_NAMES):
            yaml_file.write(f"  {class_id}: {name}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality")
    arguments = parser.parse_args()
    write_data_set(arguments.output, arguments.count, arguments.seed, arguments.quality)
    print(f"wrote {arguments.count} scenes to {arguments.output}")


if __name__ == "__main__":
    main()
