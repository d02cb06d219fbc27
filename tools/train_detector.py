#!/usr/bin/python3
"""Trains npukit's own small detector on synthetic scenes and exports it to ONNX the way Ultralytics does.

    /usr/bin/python3 tools/train_detector.py --output models/detector/shapes_yolov8.onnx [--minutes 30]

The committed model was trained in two rounds on a shared 2-core machine (about 410 + 330 steps of 16 pictures):
    train_detector.py --output first.onnx --minutes 40 --checkpoint shapes.pt
    train_detector.py --output models/detector/shapes_yolov8.onnx --minutes 24 --lr 1e-3 --seed 8 --checkpoint shapes.pt
(the second resumes from the first's weights, with a lower peak learning rate and other scenes).

It is a fixture for the product (demos and tests that show real detections), not the product. The model is a
YOLOv8n-style network scaled down (width 1/2 of n: C2f blocks, SPPF, a PAN neck, the decoupled DFL head with
16 bins at strides 8, 16, 32), trained at 320x320 on pictures that tools/make_detection_scenes.py draws on the
fly (letterboxed as Ultralytics does, so a picture of any shape), on the CPU with one thread (the machine is
shared). Training stops after --minutes of wall-clock time; the learning rate follows a cosine over that time.

The loss is YOLOv8's, written here from its definition: task-aligned assignment (anchor centre inside the box,
alignment score^0.5 x IoU^6, top 10 per object, an anchor claimed twice goes to the higher IoU), BCE on class
scores against the normalized alignment, CIoU and the distribution focal loss on the box (gains 7.5, 0.5, 1.5).

The export is Ultralytics' exported form: one output [1, 4 + classes, 2100] (centre x, centre y, width, height
in input pixels, then sigmoid class scores), DFL as a fixed 1x1 convolution, batch norm folded into the
convolutions, class names in the metadata key "names" as {0: 'circle', ...}.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_detection_scenes import CLASS_NAMES, render_scene  # noqa: E402

INPUT_SIZE = 320
STRIDES = (8, 16, 32)
REG_MAX = 16


# ---------------------------------------------------------------- model (YOLOv8 building blocks)

class Conv(nn.Module):
    def __init__(self, c_in, c_out, kernel=1, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, channels, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(channels, channels, 3), Conv(channels, channels, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c_in, c_out, blocks=1, shortcut=False):
        super().__init__()
        self.hidden = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.hidden, 1)
        self.cv2 = Conv((2 + blocks) * self.hidden, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.hidden, shortcut) for _ in range(blocks))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        hidden = c_in // 2
        self.cv1, self.cv2 = Conv(c_in, hidden, 1), Conv(hidden * 4, c_out, 1)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Detector(nn.Module):
    """YOLOv8n layout at width 1/2 of n (channels 8, 16, 32, 64, 128), depth as n."""

    def __init__(self, classes):
        super().__init__()
        w = (8, 16, 32, 64, 128)
        self.classes = classes
        self.stem = nn.Sequential(Conv(3, w[0], 3, 2), Conv(w[0], w[1], 3, 2), C2f(w[1], w[1], 1, True))
        self.down3 = nn.Sequential(Conv(w[1], w[2], 3, 2), C2f(w[2], w[2], 2, True))  # P3 /8
        self.down4 = nn.Sequential(Conv(w[2], w[3], 3, 2), C2f(w[3], w[3], 2, True))  # P4 /16
        self.down5 = nn.Sequential(Conv(w[3], w[4], 3, 2), C2f(w[4], w[4], 1, True), SPPF(w[4], w[4]))  # P5 /32
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.top4 = C2f(w[4] + w[3], w[3], 1)
        self.top3 = C2f(w[3] + w[2], w[2], 1)
        self.bottom4_down, self.bottom4 = Conv(w[2], w[2], 3, 2), C2f(w[2] + w[3], w[3], 1)
        self.bottom5_down, self.bottom5 = Conv(w[3], w[3], 3, 2), C2f(w[3] + w[4], w[4], 1)
        levels = (w[2], w[3], w[4])
        box_hidden, class_hidden = max(16, levels[0] // 4, REG_MAX * 4) // 2, max(levels[0], min(classes, 100))
        self.box_branches = nn.ModuleList(
            nn.Sequential(Conv(c, box_hidden, 3), Conv(box_hidden, box_hidden, 3), nn.Conv2d(box_hidden, 4 * REG_MAX, 1))
            for c in levels)
        self.class_branches = nn.ModuleList(
            nn.Sequential(Conv(c, class_hidden, 3), Conv(class_hidden, class_hidden, 3), nn.Conv2d(class_hidden, classes, 1))
            for c in levels)
        self.dfl = nn.Conv2d(REG_MAX, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(REG_MAX, dtype=torch.float32).view(1, REG_MAX, 1, 1)
        for box, cls, stride in zip(self.box_branches, self.class_branches, STRIDES):  # Ultralytics' bias init
            box[-1].bias.data[:] = 1.0
            cls[-1].bias.data[:] = math.log(5 / classes / (INPUT_SIZE / stride) ** 2)
        centres, strides = [], []
        for stride in STRIDES:
            size = INPUT_SIZE // stride
            ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                                    indexing="ij")
            centres.append(torch.stack((xs.reshape(-1), ys.reshape(-1)), 0) + 0.5)
            strides.append(torch.full((1, size * size), float(stride)))
        self.register_buffer("anchor_centres", torch.cat(centres, 1))  # [2, A] in cells
        self.register_buffer("anchor_strides", torch.cat(strides, 1))  # [1, A]
        self.export_mode = False

    def raw_maps(self, image):
        x = self.stem(image)
        p3 = self.down3(x)
        p4 = self.down4(p3)
        p5 = self.down5(p4)
        t4 = self.top4(torch.cat((self.up(p5), p4), 1))
        t3 = self.top3(torch.cat((self.up(t4), p3), 1))
        b4 = self.bottom4(torch.cat((self.bottom4_down(t3), t4), 1))
        b5 = self.bottom5(torch.cat((self.bottom5_down(b4), p5), 1))
        return [torch.cat((box(f), cls(f)), 1) for box, cls, f in zip(self.box_branches, self.class_branches, (t3, b4, b5))]

    def forward(self, image):
        maps = self.raw_maps(image)
        batch, channels = image.shape[0], maps[0].shape[1]
        flat = torch.cat([m.view(batch, channels, -1) for m in maps], 2)  # [B, 64 + classes, A]
        if not self.export_mode:
            return flat
        # Ultralytics' Detect in export: DFL, dist2bbox (xywh), times the stride, sigmoid scores, concatenated.
        box, cls = flat.split((4 * REG_MAX, self.classes), 1)
        anchors = flat.shape[2]
        distance = self.dfl(box.view(batch, 4, REG_MAX, anchors).transpose(2, 1).softmax(1)).view(batch, 4, anchors)
        left_top, right_bottom = distance.chunk(2, 1)
        centre = self.anchor_centres.unsqueeze(0)
        x1y1, x2y2 = centre - left_top, centre + right_bottom
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * self.anchor_strides
        return torch.cat((xywh, cls.sigmoid()), 1)


# ---------------------------------------------------------------- data

def letterboxed_scene(rng):
    """A scene of random size letterboxed to 320 as Ultralytics does (bilinear, centred, grey 114), with its
    boxes [(class, x1, y1, x2, y2)] in the letterboxed pixels."""
    image, objects = render_scene(rng)
    ratio = min(INPUT_SIZE / image.width, INPUT_SIZE / image.height)
    width, height = round(image.width * ratio), round(image.height * ratio)
    left, top = round((INPUT_SIZE - width) / 2 - 0.1), round((INPUT_SIZE - height) / 2 - 0.1)
    canvas = Image.new("RGB", (INPUT_SIZE, INPUT_SIZE), (114, 114, 114))
    canvas.paste(image.resize((width, height), Image.BILINEAR), (left, top))
    boxes = [(c, x1 * ratio + left, y1 * ratio + top, x2 * ratio + left, y2 * ratio + top) for c, x1, y1, x2, y2 in objects]
    return np.asarray(canvas), boxes


def batch_of_scenes(rng, size):
    pictures, targets = [], []
    for _ in range(size):
        pixels, boxes = letterboxed_scene(rng)
        pictures.append(torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255)
        targets.append(torch.tensor(boxes, dtype=torch.float32).view(-1, 5))
    return torch.stack(pictures), targets


# ---------------------------------------------------------------- loss (YOLOv8's, from its definition)

def box_iou_pairwise(a, b):
    """IoU of boxes a [N, 4] and b [N, 4] (xyxy), element by element."""
    inter = (torch.min(a[:, 2:], b[:, 2:]) - torch.max(a[:, :2], b[:, :2])).clamp(min=0).prod(1)
    area_a, area_b = (a[:, 2:] - a[:, :2]).prod(1), (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a + area_b - inter + 1e-7)


def complete_iou(a, b):
    """CIoU of xyxy boxes, element by element."""
    iou = box_iou_pairwise(a, b)
    enclosing = torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])
    diagonal = (enclosing ** 2).sum(1) + 1e-7
    centre_distance = (((a[:, :2] + a[:, 2:]) - (b[:, :2] + b[:, 2:])) ** 2).sum(1) / 4
    wa, ha = a[:, 2] - a[:, 0], (a[:, 3] - a[:, 1]).clamp(min=1e-7)
    wb, hb = b[:, 2] - b[:, 0], (b[:, 3] - b[:, 1]).clamp(min=1e-7)
    v = (4 / math.pi ** 2) * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + 1e-7))
    return iou - (centre_distance / diagonal + v * alpha)


def detection_loss(model, flat, targets):
    batch = flat.shape[0]
    box_logits = flat[:, :4 * REG_MAX].permute(0, 2, 1).reshape(batch, -1, 4, REG_MAX)  # [B, A, 4, 16]
    class_logits = flat[:, 4 * REG_MAX:].permute(0, 2, 1)  # [B, A, C]
    anchors = flat.shape[2]
    centres = model.anchor_centres.t()  # [A, 2] in cells
    strides = model.anchor_strides.view(-1, 1)  # [A, 1]
    bins = torch.arange(REG_MAX, dtype=torch.float32)
    distances = (box_logits.softmax(-1) * bins).sum(-1)  # [B, A, 4] in strides
    predicted = torch.cat((centres - distances[..., :2], centres + distances[..., 2:]), -1) * strides  # pixels
    target_scores = torch.zeros_like(class_logits)
    box_loss, dfl_loss = flat.new_zeros(()), flat.new_zeros(())
    for b in range(batch):
        gt = targets[b]
        if len(gt) == 0:
            continue
        gt_classes, gt_boxes = gt[:, 0].long(), gt[:, 1:]
        pixel_centres = centres * strides  # [A, 2]
        inside = ((pixel_centres[None] > gt_boxes[:, None, :2] + 1e-9) & (pixel_centres[None] < gt_boxes[:, None, 2:] - 1e-9)).all(-1)  # [M, A]
        with torch.no_grad():
            pred_b = predicted[b].detach()
            m = len(gt)
            ious = box_iou_pairwise(gt_boxes[:, None].expand(m, anchors, 4).reshape(-1, 4),
                                    pred_b[None].expand(m, anchors, 4).reshape(-1, 4)).view(m, anchors).clamp(min=0)
            scores = class_logits[b].detach().sigmoid()[:, gt_classes].t()  # [M, A]
            align = scores.pow(0.5) * ious.pow(6.0) * inside
            top = align.topk(min(10, anchors), dim=1).indices
            chosen = torch.zeros_like(inside)
            chosen.scatter_(1, top, True)
            chosen &= inside
            # An anchor chosen by two objects goes to the one it overlaps most.
            claimed = chosen.sum(0) > 1
            if claimed.any():
                best = (ious * chosen).argmax(0)
                chosen[:, claimed] = False
                chosen[best[claimed], claimed.nonzero().squeeze(1)] = True
            positive = chosen.any(0)
            owner = chosen.float().argmax(0)
            align = align * chosen
            normalized = align / (align.amax(1, keepdim=True) + 1e-9) * (ious * chosen).amax(1, keepdim=True)
            weight = normalized.amax(0)  # [A]
        if not positive.any():
            continue
        index = positive.nonzero().squeeze(1)
        target_scores[b, index, gt_classes[owner[index]]] = weight[index]
        assigned = gt_boxes[owner[index]]
        w = weight[index]
        box_loss = box_loss + ((1 - complete_iou(predicted[b, index], assigned)) * w).sum()
        # Distribution focal loss: the target distance (in strides) between two bins, each weighted by nearness.
        target_distance = torch.cat((centres[index] - assigned[:, :2] / strides[index],
                                     assigned[:, 2:] / strides[index] - centres[index]), 1).clamp(0, REG_MAX - 1.01)
        left = target_distance.long()
        right_weight = target_distance - left
        logits = box_logits[b, index]  # [P, 4, 16]
        dfl = (F.cross_entropy(logits.reshape(-1, REG_MAX), left.view(-1), reduction="none").view(-1, 4) * (1 - right_weight)
               + F.cross_entropy(logits.reshape(-1, REG_MAX), (left + 1).view(-1), reduction="none").view(-1, 4) * right_weight)
        dfl_loss = dfl_loss + (dfl.mean(1) * w).sum()
    normalizer = max(target_scores.sum().item(), 1.0)
    class_loss = F.binary_cross_entropy_with_logits(class_logits, target_scores, reduction="sum") / normalizer
    return (7.5 * box_loss + 0.5 * class_loss + 1.5 * dfl_loss) / normalizer * batch, (box_loss / normalizer, class_loss, dfl_loss / normalizer)


# ---------------------------------------------------------------- export

def fold_batch_norm(model):
    """Folds every Conv's batch norm into its convolution (as Ultralytics' fuse does before export)."""
    for module in model.modules():
        if isinstance(module, Conv) and isinstance(module.bn, nn.BatchNorm2d):
            conv, bn = module.conv, module.bn
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
            fused.weight.data = conv.weight.data * scale.view(-1, 1, 1, 1)
            fused.bias.data = bn.bias.data - bn.running_mean * scale
            module.conv, module.bn = fused, nn.Identity()


def export(model, path):
    import onnx
    model = model.eval()
    fold_batch_norm(model)
    model.export_mode = True
    temporary = path + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE), temporary, opset_version=13,
                          input_names=["images"], output_names=["output0"], do_constant_folding=True)
    exported = onnx.load(temporary)
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(CLASS_NAMES)) + "}"
    for key, value in (("names", names), ("stride", "32"), ("imgsz", f"[{INPUT_SIZE}, {INPUT_SIZE}]"),
                       ("task", "detect"), ("description", "npukit synthetic-shapes detector (tools/train_detector.py)")):
        entry = exported.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(exported)
    onnx.save(exported, temporary)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the ONNX file to write")
    parser.add_argument("--minutes", type=float, default=30, help="wall-clock training time")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--checkpoint", help="a .pt to save the weights to (and resume from)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (lower to continue a run)")
    parser.add_argument("--init-onnx", help="start from this export's weights (batch norm stays folded: fine-tuning)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(arguments.seed)
    rng = np.random.default_rng(arguments.seed)
    model = Detector(len(CLASS_NAMES))
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}", flush=True)
    if arguments.checkpoint and os.path.exists(arguments.checkpoint):
        model.load_state_dict(torch.load(arguments.checkpoint))
        print(f"resumed from {arguments.checkpoint}", flush=True)
    elif arguments.init_onnx:
        from onnx_conv_weights import load_conv_weights
        fold_batch_norm(model)
        model.export_mode = True  # the export runs the DFL convolution too
        load_conv_weights(model, arguments.init_onnx, (1, 3, INPUT_SIZE, INPUT_SIZE))
        model.export_mode = False
        print(f"started from {arguments.init_onnx}'s weights (batch norm folded)", flush=True)
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                                  lr=arguments.lr, betas=(0.9, 0.999))
    budget = arguments.minutes * 60
    started = time.time()
    step = 0
    average = None
    model.train()
    while True:
        elapsed = time.time() - started
        if elapsed >= budget:
            break
        progress = elapsed / budget
        warmup = min(1.0, (step + 1) / 100)
        for group in optimizer.param_groups:
            group["lr"] = arguments.lr * warmup * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
        images, targets = batch_of_scenes(rng, arguments.batch)
        loss, parts = detection_loss(model, model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        values = [loss.item() / arguments.batch] + [float(p) for p in parts]
        average = values if average is None else [0.95 * a + 0.05 * v for a, v in zip(average, values)]
        step += 1
        if step % 25 == 0:
            print(f"step {step} {elapsed / 60:.1f} min loss {average[0]:.3f} (box {average[1]:.3f} cls {average[2]:.3f} "
                  f"dfl {average[3]:.3f}) lr {optimizer.param_groups[0]['lr']:.5f}", flush=True)
            if arguments.checkpoint and step % 200 == 0:
                torch.save(model.state_dict(), arguments.checkpoint)
    if arguments.checkpoint:
        torch.save(model.state_dict(), arguments.checkpoint)
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    export(model, arguments.output)
    print(f"{step} steps of {arguments.batch} in {(time.time() - started) / 60:.1f} min; wrote {arguments.output} "
          f"({os.path.getsize(arguments.output) / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
