#!/usr/bin/python3
"""PaddleOCR's pre- and post-processing in Python, for the OCR tests only (tests/vision_ocr*_test.cpp).

The functions below are PaddleOCR's own (PaddleOCR 2.7: ppocr/data/imaug/operators.py DetResizeForTest and
NormalizeImage, ppocr/postprocess/db_postprocess.py DBPostProcess, tools/infer/predict_det.py
filter_tag_det_res, tools/infer/predict_system.py sorted_boxes, tools/infer/utility.py get_rotate_crop_image),
copied with their arithmetic unchanged onto OpenCV, numpy and pyclipper from Debian (python3-opencv,
python3-pyclipper); shapely's Polygon area and length are written out. npukit's C++ is compared with them.

  ppocr_reference.py fixtures DIR            synthetic maps, crops and a page with PaddleOCR's results
  ppocr_reference.py db MAP.npy W H OUT.json PaddleOCR's boxes for a detector's probability map (H' x W')
                                             on a W x H picture
"""
import json
import math
import os
import sys

import cv2
import numpy as np
import pyclipper


# --- ppocr/data/imaug/operators.py -------------------------------------------------------------------------
def det_resize_for_test(img, limit_side_len=960, limit_type="max"):
    h, w, c = img.shape
    if limit_type == "max":
        if max(h, w) > limit_side_len:
            ratio = float(limit_side_len) / h if h > w else float(limit_side_len) / w
        else:
            ratio = 1.0
    else:
        if min(h, w) < limit_side_len:
            ratio = float(limit_side_len) / h if h < w else float(limit_side_len) / w
        else:
            ratio = 1.0
    resize_h = int(h * ratio)
    resize_w = int(w * ratio)
    resize_h = max(int(round(resize_h / 32) * 32), 32)
    resize_w = max(int(round(resize_w / 32) * 32), 32)
    img = cv2.resize(img, (int(resize_w), int(resize_h)))
    return img


def normalize_image(img):
    scale = np.float32(1.0 / 255.0)
    mean = np.array([0.485, 0.456, 0.406]).reshape((1, 1, 3)).astype("float32")
    std = np.array([0.229, 0.224, 0.225]).reshape((1, 1, 3)).astype("float32")
    return (img.astype("float32") * scale - mean) / std


# --- ppocr/postprocess/db_postprocess.py ---------------------------------------------------------------------
class DBPostProcess:
    def __init__(self, thresh=0.3, box_thresh=0.6, max_candidates=1000, unclip_ratio=1.5):
        self.thresh = thresh
        self.box_thresh = box_thresh
        self.max_candidates = max_candidates
        self.unclip_ratio = unclip_ratio
        self.min_size = 3

    def boxes_from_bitmap(self, pred, _bitmap, dest_width, dest_height):
        bitmap = _bitmap
        height, width = bitmap.shape
        outs = cv2.findContours((bitmap * 255).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        contours = outs[0] if len(outs) == 2 else outs[1]
        num_contours = min(len(contours), self.max_candidates)
        boxes, scores = [], []
        for index in range(num_contours):
            contour = contours[index]
            points, sside = self.get_mini_boxes(contour)
            if sside < self.min_size:
                continue
            points = np.array(points)
            score = self.box_score_fast(pred, points.reshape(-1, 2))
            if self.box_thresh > score:
                continue
            box = self.unclip(points, self.unclip_ratio)
            if len(box) > 1:
                continue
            box = box.reshape(-1, 1, 2)
            box, sside = self.get_mini_boxes(box)
            if sside < self.min_size + 2:
                continue
            box = np.array(box)
            box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_width), 0, dest_width)
            box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_height), 0, dest_height)
            boxes.append(box.astype("int32"))
            scores.append(score)
        return np.array(boxes, dtype="int32"), scores

    def unclip(self, box, unclip_ratio):
        area = 0.5 * abs(sum(box[i][0] * box[(i + 1) % len(box)][1] - box[(i + 1) % len(box)][0] * box[i][1]
                             for i in range(len(box))))  # shapely Polygon(box).area
        length = sum(math.hypot(box[(i + 1) % len(box)][0] - box[i][0], box[(i + 1) % len(box)][1] - box[i][1])
                     for i in range(len(box)))  # shapely Polygon(box).length
        distance = area * unclip_ratio / length
        offset = pyclipper.PyclipperOffset()
        offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        return np.array(offset.Execute(distance))

    def get_mini_boxes(self, contour):
        bounding_box = cv2.minAreaRect(contour)
        points = sorted(list(cv2.boxPoints(bounding_box)), key=lambda x: x[0])
        if points[1][1] > points[0][1]:
            index_1, index_4 = 0, 1
        else:
            index_1, index_4 = 1, 0
        if points[3][1] > points[2][1]:
            index_2, index_3 = 2, 3
        else:
            index_2, index_3 = 3, 2
        box = [points[index_1], points[index_2], points[index_3], points[index_4]]
        return box, min(bounding_box[1])

    def box_score_fast(self, bitmap, _box):
        h, w = bitmap.shape[:2]
        box = _box.copy()
        xmin = np.clip(np.floor(box[:, 0].min()).astype("int32"), 0, w - 1)
        xmax = np.clip(np.ceil(box[:, 0].max()).astype("int32"), 0, w - 1)
        ymin = np.clip(np.floor(box[:, 1].min()).astype("int32"), 0, h - 1)
        ymax = np.clip(np.ceil(box[:, 1].max()).astype("int32"), 0, h - 1)
        mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
        box[:, 0] = box[:, 0] - xmin
        box[:, 1] = box[:, 1] - ymin
        cv2.fillPoly(mask, box.reshape(1, -1, 2).astype("int32"), 1)
        return cv2.mean(bitmap[ymin:ymax + 1, xmin:xmax + 1], mask)[0]

    def __call__(self, pred, dest_width, dest_height):
        return self.boxes_from_bitmap(pred, pred > self.thresh, dest_width, dest_height)


# --- tools/infer/predict_det.py -------------------------------------------------------------------------------
def order_points_clockwise(pts):
    rect = np.zeros((4, 2), dtype="float32")
    s = pts.sum(axis=1)
    rect[0] = pts[np.argmin(s)]
    rect[2] = pts[np.argmax(s)]
    tmp = np.delete(pts, (np.argmin(s), np.argmax(s)), axis=0)
    diff = np.diff(np.array(tmp), axis=1)
    rect[1] = tmp[np.argmin(diff)]
    rect[3] = tmp[np.argmax(diff)]
    return rect


def filter_tag_det_res(dt_boxes, image_shape):
    img_height, img_width = image_shape[0:2]
    kept = []
    for box in dt_boxes:
        box = order_points_clockwise(box)
        for pno in range(box.shape[0]):
            box[pno, 0] = int(min(max(box[pno, 0], 0), img_width - 1))
            box[pno, 1] = int(min(max(box[pno, 1], 0), img_height - 1))
        rect_width = int(np.linalg.norm(box[0] - box[1]))
        rect_height = int(np.linalg.norm(box[0] - box[3]))
        if rect_width <= 3 or rect_height <= 3:
            continue
        kept.append(box)
    return kept


# --- tools/infer/predict_system.py ----------------------------------------------------------------------------
def sorted_boxes(dt_boxes):
    num_boxes = len(dt_boxes)
    boxes = sorted(dt_boxes, key=lambda x: (x[0][1], x[0][0]))
    for i in range(num_boxes - 1):
        for j in range(i, -1, -1):
            if abs(boxes[j + 1][0][1] - boxes[j][0][1]) < 10 and (boxes[j + 1][0][0] < boxes[j][0][0]):
                boxes[j], boxes[j + 1] = boxes[j + 1], boxes[j]
            else:
                break
    return boxes


# --- tools/infer/utility.py -----------------------------------------------------------------------------------
def get_rotate_crop_image(img, points):
    img_crop_width = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    img_crop_height = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    pts_std = np.float32([[0, 0], [img_crop_width, 0], [img_crop_width, img_crop_height], [0, img_crop_height]])
    M = cv2.getPerspectiveTransform(points, pts_std)
    dst_img = cv2.warpPerspective(img, M, (img_crop_width, img_crop_height), borderMode=cv2.BORDER_REPLICATE,
                                  flags=cv2.INTER_CUBIC)
    if dst_img.shape[0] * 1.0 / dst_img.shape[1] >= 1.5:
        dst_img = np.rot90(dst_img)
    return dst_img


# --- the text system's detection half on a map -----------------------------------------------------------------
def detect_boxes(pred, dest_width, dest_height):
    boxes, scores = DBPostProcess()(pred, dest_width, dest_height)
    result = []
    for box, score in zip(boxes, scores):  # filter_tag_det_res box by box, keeping each box's score beside it
        kept = filter_tag_det_res([box], (dest_height, dest_width))
        if kept:
            result.append((kept[0], float(score)))
    order = sorted_boxes([box for box, _ in result])
    ordered = []
    for box in order:
        index = next(i for i, (b, _) in enumerate(result) if b is box)
        ordered.append({"box": box.astype(int).tolist(), "score": result[index][1]})
    return ordered


def synthetic_map(seed, height, width):
    """A probability map with text-like rotated bars (smooth edges, values near 1 inside) and weak noise."""
    generator = np.random.default_rng(seed)
    canvas = np.zeros((height, width), np.float32)
    for _ in range(generator.integers(5, 11)):
        centre = (float(generator.uniform(0.15, 0.85) * width), float(generator.uniform(0.1, 0.9) * height))
        size = (float(generator.uniform(20, width * 0.3)), float(generator.uniform(5, 16)))
        angle = float(generator.choice([0.0, generator.uniform(-30, 30), 90.0]))
        corners = cv2.boxPoints((centre, size, angle))
        bar = np.zeros_like(canvas)
        cv2.fillPoly(bar, [np.round(corners).astype(np.int32)], float(generator.uniform(0.65, 0.98)))
        canvas = np.maximum(canvas, cv2.GaussianBlur(bar, (5, 5), 1.2))
    canvas += generator.uniform(0, 0.25, canvas.shape).astype(np.float32)
    return np.clip(canvas, 0, 1).astype(np.float32)


def write_fixtures(directory):
    os.makedirs(directory, exist_ok=True)
    manifest = {"maps": [], "crops": [], "fill": []}
    # 1. DB post-processing on synthetic maps, mapped to pictures of other sizes
    for seed, (h, w, dest_w, dest_h) in enumerate([(160, 320, 640, 320), (224, 288, 500, 389), (320, 320, 1000, 1000),
                                                   (96, 480, 481, 97)]):
        pred = synthetic_map(seed, h, w)
        np.save(os.path.join(directory, "db_map_%d.npy" % seed), pred)
        manifest["maps"].append({"map": "db_map_%d.npy" % seed, "width": dest_w, "height": dest_h,
                                 "boxes": detect_boxes(pred, dest_w, dest_h)})
    # 2. box_score_fast on random quads of a random map
    generator = np.random.default_rng(99)
    pred = generator.uniform(0, 1, (60, 80)).astype(np.float32)
    np.save(os.path.join(directory, "fill_map.npy"), pred)
    for _ in range(40):
        centre = generator.uniform(5, 75), generator.uniform(5, 55)
        quad = cv2.boxPoints((centre, (float(generator.uniform(3, 40)), float(generator.uniform(3, 20))),
                              float(generator.uniform(-60, 60))))
        box, _ = DBPostProcess().get_mini_boxes(quad.reshape(-1, 1, 2))
        box = np.array(box)
        manifest["fill"].append({"box": box.tolist(), "score": DBPostProcess().box_score_fast(pred, box)})
    # 3. perspective crops of a textured picture
    y, x = np.mgrid[0:120, 0:200]
    picture = np.stack([(x * 5 + y * 3) % 256, (x * y) % 251, (255 - x - y) % 256], axis=-1).astype(np.uint8)
    picture = cv2.GaussianBlur(picture, (3, 3), 0.8)
    np.save(os.path.join(directory, "crop_picture.npy"), picture)
    quads = [[[20, 10], [150, 14], [149, 40], [19, 36]], [[60, 20], [90, 20], [90, 110], [60, 110]],
             [[10, 100], [100, 60], [110, 80], [20, 119]], [[30.0, 30.0], [80.0, 30.0], [80.0, 50.0], [30.0, 50.0]]]
    for index, quad in enumerate(quads):
        crop = np.ascontiguousarray(get_rotate_crop_image(picture, np.array(quad, dtype=np.float32)))
        np.save(os.path.join(directory, "crop_%d.npy" % index), crop)
        manifest["crops"].append({"box": quad, "crop": "crop_%d.npy" % index})
    # 4. the detector's input for a picture (BGR as cv2 reads it; the picture is saved as PNG for npukit)
    page = np.ascontiguousarray(picture[:, :, ::-1])  # any picture; saved so that cv2.imread gives `page`
    cv2.imwrite(os.path.join(directory, "det_picture.png"), cv2.resize(page, (1300, 700)))
    bgr = cv2.imread(os.path.join(directory, "det_picture.png"))
    tensor = normalize_image(det_resize_for_test(bgr)).transpose(2, 0, 1)[None]
    np.save(os.path.join(directory, "det_input.npy"), np.ascontiguousarray(tensor, dtype=np.float32))
    with open(os.path.join(directory, "manifest.json"), "w") as file:
        json.dump(manifest, file, indent=1)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        write_fixtures(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "db":
        pred = np.load(sys.argv[2]).astype(np.float32)
        pred = pred.reshape(pred.shape[-2], pred.shape[-1])
        with open(sys.argv[5], "w") as file:
            json.dump({"boxes": detect_boxes(pred, int(sys.argv[3]), int(sys.argv[4]))}, file)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
