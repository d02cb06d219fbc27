#!/usr/bin/python3
"""Trains a second detector of another family, a YOLOv5-style anchor-based one, on the glyph scenes of
tools/make_glyph_scenes.py, and exports it to ONNX the way YOLOv5's export.py does.

    nice -n 19 /usr/bin/python3 tools/train_anchor_detector.py --output models/detector/glyphs_yolov5.onnx --minutes 25

The committed model was trained in three rounds on a 2-core machine shared with seven busy builds (under nice 19
it got a few CPU minutes of each wall-clock minute):
    train_anchor_detector.py --output first.onnx --minutes 45 --steps 3000 --checkpoint glyphs.pt   (stopped at step 400)
    train_anchor_detector.py --output models/detector/glyphs_yolov5.onnx --minutes 14 --steps 600 --lr 1.5e-3 \
        --class-gain 0.5 --seed 12 --checkpoint glyphs.pt   (101 steps)
    train_anchor_detector.py --output models/detector/glyphs_yolov5.onnx --minutes 10 --steps 400 --lr 1e-3 \
        --class-gain 0.5 --seed 13 --checkpoint glyphs.pt   (358 steps)
(the second and third resume from the first's weights with a class gain of 0.5 instead of YOLOv5's 0.5 · 5 / 80, which
had left the class scores at chance after 400 steps). It is far from converged.

It exists so that `npukit eval` is checked on a detector and data set the project did not design its decode
around: another head (anchors, objectness, the v5 decode path), another input shape (256 high × 320 wide, so
every picture, landscape or portrait, is letterboxed with padding) and other objects (glyphs, not shapes).

Network: YOLOv5 v6 layout (6×6 stem, C3 blocks, SPPF, the PAN neck, Detect with 3 anchors per level at strides
8, 16, 32) at widths 8-16-32-64-128, depth 1-2-2-1. Anchors were chosen by k-means over the generator's boxes
after the letterbox (see ANCHORS). Loss from YOLOv5's definition (utils/loss.py): a target goes to every anchor
whose width and height ratios are within 4, in its own cell and the two nearest neighbours (offset 0.5);
CIoU box loss; objectness BCE against the detached IoU, level weights 4.0 / 1.0 / 0.4; class BCE; gains box 0.05,
objectness 1.0 · (320 / 640)², class 0.5 · classes / 80. AdamW, warm-up, cosine learning rate over --steps or
--minutes of wall-clock time, whichever ends first, one thread (the machine is shared: run it under `nice -n 19`).

Export: YOLOv5's export form, one output [1, 3·(32·40 + 16·20 + 8·10), 5 + classes]: centre x, centre y, width,
height in input pixels, sigmoid objectness, sigmoid class scores; batch norm folded into the convolutions; class
names in the metadata key "names" as {0: 'two', ...}.
"""
import argparse
import math
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_glyph_scenes import CLASS_NAMES, render_scene  # noqa: E402

INPUT_HEIGHT, INPUT_WIDTH = 256, 320
STRIDES = (8, 16, 32)
WIDTHS = (8, 16, 32, 64, 128)
# (w, h) pairs in input pixels, three per level: k-means (1 − IoU, medians) over the letterboxed boxes of 150
# generated scenes (496 boxes, 3.5 to 59 pixels wide; mean best IoU with an anchor 0.83).
ANCHORS = ((6, 8, 8, 11, 10, 14), (14, 19, 18, 26, 24, 30), (26, 37, 34, 43, 48, 52))


# ---------------------------------------------------------------- model (YOLOv5 v6 building blocks)

class Conv(nn.Module):
    def __init__(self, c_in, c_out, kernel=1, stride=1, padding=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2 if padding is None else padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, channels, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(channels, channels, 1), Conv(channels, channels, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c_in, c_out, blocks=1, shortcut=True):
        super().__init__()
        hidden = c_out // 2
        self.cv1, self.cv2, self.cv3 = Conv(c_in, hidden), Conv(c_in, hidden), Conv(2 * hidden, c_out)
        self.m = nn.Sequential(*(Bottleneck(hidden, shortcut) for _ in range(blocks)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        hidden = c_in // 2
        self.cv1, self.cv2 = Conv(c_in, hidden), Conv(hidden * 4, c_out)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class AnchorDetector(nn.Module):
    def __init__(self, classes):
        super().__init__()
        w = WIDTHS
        self.classes, self.outputs = classes, 5 + classes
        self.stem = nn.Sequential(Conv(3, w[0], 6, 2, 2), Conv(w[0], w[1], 3, 2), C3(w[1], w[1], 1))
        self.down3 = nn.Sequential(Conv(w[1], w[2], 3, 2), C3(w[2], w[2], 2))  # P3 /8
        self.down4 = nn.Sequential(Conv(w[2], w[3], 3, 2), C3(w[3], w[3], 2))  # P4 /16
        self.down5 = nn.Sequential(Conv(w[3], w[4], 3, 2), C3(w[4], w[4], 1), SPPF(w[4], w[4]))  # P5 /32
        self.lateral5, self.top4 = Conv(w[4], w[3]), C3(2 * w[3], w[3], 1, False)
        self.lateral4, self.top3 = Conv(w[3], w[2]), C3(2 * w[2], w[2], 1, False)
        self.bottom4_down, self.bottom4 = Conv(w[2], w[2], 3, 2), C3(2 * w[2], w[3], 1, False)
        self.bottom5_down, self.bottom5 = Conv(w[3], w[3], 3, 2), C3(2 * w[3], w[4], 1, False)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.heads = nn.ModuleList(nn.Conv2d(c, 3 * self.outputs, 1) for c in (w[2], w[3], w[4]))
        for head, stride in zip(self.heads, STRIDES):  # YOLOv5's _initialize_biases
            bias = head.bias.data.view(3, -1)
            bias[:, 4] += math.log(8 / (INPUT_HEIGHT / stride * INPUT_WIDTH / stride))
            bias[:, 5:] += math.log(0.6 / (classes - 0.99))
        self.register_buffer("anchor_pixels", torch.tensor(ANCHORS, dtype=torch.float32).view(3, 3, 2))
        self.export_mode = False

    def raw_maps(self, image):
        x = self.stem(image)
        p3 = self.down3(x)
        p4 = self.down4(p3)
        p5 = self.down5(p4)
        h5 = self.lateral5(p5)
        h4 = self.lateral4(self.top4(torch.cat((self.up(h5), p4), 1)))
        out3 = self.top3(torch.cat((self.up(h4), p3), 1))
        out4 = self.bottom4(torch.cat((self.bottom4_down(out3), h4), 1))
        out5 = self.bottom5(torch.cat((self.bottom5_down(out4), h5), 1))
        maps = []
        for head, feature in zip(self.heads, (out3, out4, out5)):
            m = head(feature)
            batch, _, ny, nx = m.shape
            maps.append(m.view(batch, 3, self.outputs, ny, nx).permute(0, 1, 3, 4, 2).contiguous())  # [B, 3, H, W, 5+C]
        return maps

    def forward(self, image):
        maps = self.raw_maps(image)
        if not self.export_mode:
            return maps
        # YOLOv5's Detect in export: sigmoid, xy = (2σ − 0.5 + cell)·stride, wh = (2σ)²·anchor, flattened.
        decoded = []
        for level, (m, stride) in enumerate(zip(maps, STRIDES)):
            batch, _, ny, nx, _ = m.shape
            ys, xs = torch.meshgrid(torch.arange(ny, dtype=torch.float32), torch.arange(nx, dtype=torch.float32),
                                    indexing="ij")
            grid = torch.stack((xs, ys), 2).view(1, 1, ny, nx, 2) - 0.5
            anchor_grid = self.anchor_pixels[level].view(1, 3, 1, 1, 2)
            xy, wh, rest = m.sigmoid().split((2, 2, self.outputs - 4), 4)
            xy = (xy * 2 + grid) * stride
            wh = (wh * 2) ** 2 * anchor_grid
            decoded.append(torch.cat((xy, wh, rest), 4).view(batch, -1, self.outputs))
        return torch.cat(decoded, 1)


# ---------------------------------------------------------------- data

def letterbox(image_rgb):
    """Ultralytics' LetterBox to INPUT_HEIGHT × INPUT_WIDTH (cv2 bilinear, centred, grey 114): the picture, the
    ratio and the (left, top) padding."""
    height, width = image_rgb.shape[:2]
    ratio = min(INPUT_HEIGHT / height, INPUT_WIDTH / width)
    new_width, new_height = int(round(width * ratio)), int(round(height * ratio))
    dw, dh = (INPUT_WIDTH - new_width) / 2, (INPUT_HEIGHT - new_height) / 2
    if (new_width, new_height) != (width, height):
        image_rgb = cv2.resize(image_rgb, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    image_rgb = cv2.copyMakeBorder(image_rgb, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return image_rgb, ratio, left, top


def batch_of_scenes(rng, size):
    pictures, targets = [], []
    for _ in range(size):
        image, objects = render_scene(rng)
        pixels, ratio, left, top = letterbox(np.asarray(image))
        pictures.append(torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255)
        boxes = [(c, x1 * ratio + left, y1 * ratio + top, x2 * ratio + left, y2 * ratio + top) for c, x1, y1, x2, y2 in objects]
        targets.append(torch.tensor(boxes, dtype=torch.float32).view(-1, 5))
    return torch.stack(pictures), targets


# ---------------------------------------------------------------- loss (YOLOv5's, from its definition)

def complete_iou(a, b):
    """CIoU of boxes given as (cx, cy, w, h), element by element."""
    a1, a2 = a[:, :2] - a[:, 2:] / 2, a[:, :2] + a[:, 2:] / 2
    b1, b2 = b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2
    inter = (torch.min(a2, b2) - torch.max(a1, b1)).clamp(min=0).prod(1)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter + 1e-7
    iou = inter / union
    enclosing = torch.max(a2, b2) - torch.min(a1, b1)
    diagonal = (enclosing ** 2).sum(1) + 1e-7
    centre_distance = ((a[:, :2] - b[:, :2]) ** 2).sum(1)
    v = (4 / math.pi ** 2) * (torch.atan(b[:, 2] / (b[:, 3] + 1e-7)) - torch.atan(a[:, 2] / (a[:, 3] + 1e-7))) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + 1e-7))
    return iou - (centre_distance / diagonal + v * alpha)


def build_targets(maps, targets):
    """Per level: (picture, anchor, row, column) indices, the box (cx, cy offset in the cell, w, h in cells), the
    anchors in cells and the classes of every (target, anchor, cell) match."""
    rows = [torch.cat((torch.full((len(t), 1), float(b)), t), 1) for b, t in enumerate(targets) if len(t)]
    all_targets = torch.cat(rows) if rows else torch.zeros(0, 6)  # (picture, class, x1, y1, x2, y2) pixels
    matches = []
    for level, (m, stride) in enumerate(zip(maps, STRIDES)):
        ny, nx = m.shape[2], m.shape[3]
        anchors = torch.tensor(ANCHORS[level], dtype=torch.float32).view(3, 2) / stride
        if len(all_targets) == 0:
            matches.append(None)
            continue
        centre = (all_targets[:, 2:4] + all_targets[:, 4:6]) / 2 / stride
        size = (all_targets[:, 4:6] - all_targets[:, 2:4]) / stride
        ratio = size[None] / anchors[:, None]  # [3, T, 2]
        fits = torch.max(ratio, 1 / ratio).max(2).values < 4.0  # [3, T]
        anchor_index, target_index = fits.nonzero(as_tuple=True)
        c, s = centre[target_index], size[target_index]
        inverse = torch.tensor([nx, ny], dtype=torch.float32) - c
        left, up = ((c % 1 < 0.5) & (c > 1)).T
        right, down = ((inverse % 1 < 0.5) & (inverse > 1)).T
        offsets = torch.tensor([[0, 0], [0.5, 0], [0, 0.5], [-0.5, 0], [0, -0.5]])  # own, left, up, right, down
        chosen = torch.stack((torch.ones_like(left), left, up, right, down))  # [5, M]
        which, match = chosen.nonzero(as_tuple=True)
        cell_centre = c[match] - offsets[which]
        cells = cell_centre.long()
        cells[:, 0].clamp_(0, nx - 1)
        cells[:, 1].clamp_(0, ny - 1)
        t = target_index[match]
        matches.append({
            "picture": all_targets[t, 0].long(), "anchor": anchor_index[match], "row": cells[:, 1], "column": cells[:, 0],
            "box": torch.cat((c[match] - cells, s[match]), 1), "anchor_size": anchors[anchor_index[match]],
            "class": all_targets[t, 1].long()})
    return matches


def detection_loss(maps, targets, classes, class_gain=None):
    box_loss, objectness_loss, class_loss = maps[0].new_zeros(()), maps[0].new_zeros(()), maps[0].new_zeros(())
    balance = (4.0, 1.0, 0.4)
    for level, (m, match) in enumerate(zip(maps, build_targets(maps, targets))):
        objectness_target = torch.zeros_like(m[..., 4])
        if match is not None and len(match["picture"]):
            p = m[match["picture"], match["anchor"], match["row"], match["column"]]  # [M, 5 + C]
            xy = p[:, :2].sigmoid() * 2 - 0.5
            wh = (p[:, 2:4].sigmoid() * 2) ** 2 * match["anchor_size"]
            iou = complete_iou(torch.cat((xy, wh), 1), match["box"])
            box_loss = box_loss + (1 - iou).mean()
            objectness_target[match["picture"], match["anchor"], match["row"], match["column"]] = iou.detach().clamp(0)
            one_hot = torch.zeros_like(p[:, 5:])
            one_hot[torch.arange(len(p)), match["class"]] = 1
            class_loss = class_loss + F.binary_cross_entropy_with_logits(p[:, 5:], one_hot)
        objectness_loss = objectness_loss + F.binary_cross_entropy_with_logits(m[..., 4], objectness_target) * balance[level]
    gains = (0.05, 1.0 * (INPUT_WIDTH / 640) ** 2, 0.5 * classes / 80 if class_gain is None else class_gain)
    total = box_loss * gains[0] + objectness_loss * gains[1] + class_loss * gains[2]
    return total * maps[0].shape[0], (box_loss.item(), objectness_loss.item(), class_loss.item())


# ---------------------------------------------------------------- export

def fold_batch_norm(model):
    """Folds every Conv's batch norm into its convolution (as YOLOv5's fuse does before export)."""
    for module in model.modules():
        if isinstance(module, Conv) and isinstance(module.bn, nn.BatchNorm2d):
            conv, bn = module.conv, module.bn
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
            fused.weight.data = conv.weight.data * scale.view(-1, 1, 1, 1)
            fused.bias.data = bn.bias.data - bn.running_mean * scale
            module.conv, module.bn = fused, nn.Identity()


def folded_model_from_onnx(path):
    """The exported network back as a torch module (batch norm folded), its weights read from the ONNX: for
    tools/reference_detections.py, which must run the model without npukit."""
    from onnx_conv_weights import load_conv_weights
    model = AnchorDetector(len(CLASS_NAMES))
    fold_batch_norm(model)
    load_conv_weights(model, path, (1, 3, INPUT_HEIGHT, INPUT_WIDTH))
    return model.eval()


def export(model, path):
    import onnx
    model = model.eval()
    fold_batch_norm(model)
    model.export_mode = True
    temporary = path + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, INPUT_HEIGHT, INPUT_WIDTH), temporary, opset_version=13,
                          input_names=["images"], output_names=["output0"], do_constant_folding=True)
    exported = onnx.load(temporary)
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(CLASS_NAMES)) + "}"
    for key, value in (("names", names), ("stride", "32"), ("imgsz", f"[{INPUT_HEIGHT}, {INPUT_WIDTH}]"),
                       ("task", "detect"),
                       ("description", "npukit synthetic-glyphs YOLOv5-style detector (tools/train_anchor_detector.py)")):
        entry = exported.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(exported)
    onnx.save(exported, temporary)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the ONNX file to write")
    parser.add_argument("--minutes", type=float, default=25, help="wall-clock training time at most")
    parser.add_argument("--steps", type=int, default=3000, help="training steps at most")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    parser.add_argument("--checkpoint", help="a .pt to save the weights to (and resume from)")
    parser.add_argument("--class-gain", type=float, help="class loss gain (default YOLOv5's 0.5 · classes / 80)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    torch.manual_seed(arguments.seed)
    rng = np.random.default_rng(arguments.seed)
    model = AnchorDetector(len(CLASS_NAMES))
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}", flush=True)
    if arguments.checkpoint and os.path.exists(arguments.checkpoint):
        model.load_state_dict(torch.load(arguments.checkpoint))
        print(f"resumed from {arguments.checkpoint}", flush=True)
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                                  lr=arguments.lr)
    budget, started, step, average = arguments.minutes * 60, time.time(), 0, None
    model.train()
    while time.time() - started < budget and step < arguments.steps:
        # Whichever of the step count and the wall-clock budget runs out first ends the cosine: on a busy shared
        # machine the budget may buy fewer steps than asked, and the learning rate still comes down.
        progress = max(step / arguments.steps, (time.time() - started) / budget)
        warmup = min(1.0, (step + 1) / 60)
        for group in optimizer.param_groups:
            group["lr"] = arguments.lr * warmup * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
        images, targets = batch_of_scenes(rng, arguments.batch)
        loss, parts = detection_loss(model(images), targets, len(CLASS_NAMES), arguments.class_gain)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        values = [loss.item() / arguments.batch, *parts]
        average = values if average is None else [0.95 * a + 0.05 * v for a, v in zip(average, values)]
        step += 1
        if step % 10 == 0:
            print(f"step {step} {(time.time() - started) / 60:.1f} min loss {average[0]:.4f} (box {average[1]:.3f} "
                  f"obj {average[2]:.4f} cls {average[3]:.3f}) lr {optimizer.param_groups[0]['lr']:.5f}", flush=True)
            if arguments.checkpoint and step % 100 == 0:
                torch.save(model.state_dict(), arguments.checkpoint)
    if arguments.checkpoint:
        torch.save(model.state_dict(), arguments.checkpoint)
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    export(model, arguments.output)
    print(f"{step} steps of {arguments.batch} in {(time.time() - started) / 60:.1f} min; wrote {arguments.output} "
          f"({os.path.getsize(arguments.output) / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
