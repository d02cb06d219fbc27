#!/usr/bin/python3
"""Exports small YOLO-like detectors whose heads are written the ways real exports write them (run with
/usr/bin/python3: Debian's torch 1.13).

    /usr/bin/python3 tools/export_yolo_variants.py --output models/generated [--only NAME,...] [--force]

The point is independence: tools/export_models.py reproduces the Ultralytics layers once; this script writes
the head and its decode again, differently, the way other exporters and other Ultralytics versions do, so the
YOLO head matcher (src/passes/yolo_head_detection.cpp) is tested on graphs it was not written against:

  yolo_v8_split_stride_before  DFL as softmax @ arange (MatMul), distances multiplied by the stride BEFORE
                               dist2bbox, boxes (xyxy) and scores as two outputs; class names in metadata
  yolo_v8_concat_stride_after  Ultralytics' own form: DFL as a 1x1 Conv, dist2bbox then * stride, one
                               [1, 4 + classes, anchors] output; class names in metadata
  yolo11_depthwise             YOLO11 head (depthwise-separable class branch), output transposed to
                               [1, anchors, 4 + classes]
  yolo_v8_dynamic_batch        the Ultralytics form exported with a dynamic batch dimension
  yolo_v8_raw_concat           no decode: three outputs of 64 + classes channels (box and class maps joined)
  yolo_v5_pow                  YOLOv5 decode with (sig * 2 - 0.5 + grid) * stride and (sig * 2) ** 2 * anchor
                               (Pow), anchors [1, A, 1, 1, 2] broadcast
  yolo_v5_mul                  YOLOv5 v7.0 form: split (2, 2, 1 + classes), grid with the -0.5 folded in,
                               wh = (sig * 2) * (sig * 2) * anchor_grid (Mul), anchor grid expanded to
                               [1, A, H, W, 2]; class names in metadata
  yolo_v5_raw                  no decode: three p3/p4/p5 outputs of A * (5 + classes) channels
  yolo_v5_inplace              YOLOv5 v5.0-v6.0 export.py form: the sigmoid's xy and wh slices assigned in place
                               (y[..., 0:2] = ...), which ONNX writes as ScatterND

All take a 1x3x256x256 image (RGB, 0-1). Weights are random and seeded; each model is a few hundred kB. Next to
the models the script writes yolo_variants.json: per model the ONNX names of the head convolutions' outputs
(found by module path, not by the matcher), so a test can read the values the decode starts from.
"""
import argparse
import json
import os
import time
import warnings

import torch
import torch.nn as nn

INPUT_SIZE = 256
STRIDES = (8, 16, 32)
# YOLOv5's default anchors (pixels) for P3, P4, P5.
V5_ANCHORS = ((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119), (116, 90, 156, 198, 373, 326))
NAMES_TWO = "{0: 'person', 1: 'car'}"
NAMES_FIVE = "{0: 'person', 1: 'bicycle', 2: 'car', 3: 'motorcycle', 4: 'airplane'}"


def conv_silu(in_channels, out_channels, kernel=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups), nn.SiLU())


class TinyBackbone(nn.Module):
    """Five stride-2 convolutions: P3 (stride 8), P4 (16), P5 (32) feature maps."""

    channels = (24, 32, 48)

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_silu(3, 8, 3, 2), conv_silu(8, 16, 3, 2))
        self.p3 = conv_silu(16, 24, 3, 2)
        self.p4 = conv_silu(24, 32, 3, 2)
        self.p5 = conv_silu(32, 48, 3, 2)

    def forward(self, x):
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        return [p3, p4, self.p5(p4)]


def cell_centres(height, width, stride=None):
    """(x + 0.5, y + 0.5) per cell in cells, or in pixels when a stride is given; shape [2, H * W]."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")
    centres = torch.stack((xs.reshape(-1), ys.reshape(-1))) + 0.5
    return centres * stride if stride else centres


class DistributionHead(nn.Module):
    """YOLOv8 / YOLO11 decoupled head: per level a box branch (4 * reg_max logits) and a class branch."""

    def __init__(self, classes, depthwise_classes=False, reg_max=16):
        super().__init__()
        self.classes, self.reg_max = classes, reg_max
        self.box_branches, self.class_branches = nn.ModuleList(), nn.ModuleList()
        for c in TinyBackbone.channels:
            self.box_branches.append(nn.Sequential(conv_silu(c, 32), conv_silu(32, 32), nn.Conv2d(32, 4 * reg_max, 1)))
            if depthwise_classes:  # YOLO11: (depthwise 3x3, pointwise 1x1) twice
                hidden = max(c, min(classes, 100))
                self.class_branches.append(nn.Sequential(
                    nn.Sequential(conv_silu(c, c, 3, groups=c), conv_silu(c, hidden, 1)),
                    nn.Sequential(conv_silu(hidden, hidden, 3, groups=hidden), conv_silu(hidden, hidden, 1)),
                    nn.Conv2d(hidden, classes, 1)))
            else:
                self.class_branches.append(nn.Sequential(conv_silu(c, 24), conv_silu(24, 24), nn.Conv2d(24, classes, 1)))

    def raw_maps(self, features):
        return ([branch(x) for branch, x in zip(self.box_branches, features)],
                [branch(x) for branch, x in zip(self.class_branches, features)])


class SplitStrideBefore(nn.Module):
    """Boxes and scores as two outputs; DFL as softmax @ arange; stride applied to the distances first."""

    def __init__(self, classes=2):
        super().__init__()
        self.backbone, self.head = TinyBackbone(), DistributionHead(classes)
        self.register_buffer("bins", torch.arange(16, dtype=torch.float32))

    def forward(self, image):
        boxes, classes = self.head.raw_maps(self.backbone(image))
        batch = image.shape[0]
        distances, centres = [], []
        for box, stride in zip(boxes, STRIDES):
            _, _, height, width = box.shape
            logits = box.reshape(batch, 4, 16, height * width).permute(0, 1, 3, 2)
            distances.append(torch.matmul(logits.softmax(-1), self.bins) * stride)  # [batch, 4, cells], pixels
            centres.append(cell_centres(height, width, stride))
        distance = torch.cat(distances, 2)
        centre = torch.cat(centres, 1).unsqueeze(0)
        corners = torch.cat((centre - distance[:, :2], centre + distance[:, 2:]), 1)  # x1 y1 x2 y2
        scores = torch.cat([c.flatten(2) for c in classes], 2).sigmoid()
        return corners, scores


class ConcatStrideAfter(nn.Module):
    """Ultralytics' exported form: one [batch, 4 + classes, anchors] output, xywh, stride after dist2bbox."""

    def __init__(self, classes=2, depthwise_classes=False, transpose_output=False, raw=False):
        super().__init__()
        self.backbone = TinyBackbone()
        self.head = DistributionHead(classes, depthwise_classes)
        self.transpose_output, self.raw = transpose_output, raw
        self.dfl = nn.Conv2d(16, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(16, dtype=torch.float32).view(1, 16, 1, 1)

    def forward(self, image):
        boxes, classes = self.head.raw_maps(self.backbone(image))
        joined = [torch.cat((b, c), 1) for b, c in zip(boxes, classes)]
        if self.raw:
            return tuple(joined)
        batch, channels = image.shape[0], joined[0].shape[1]
        flat = torch.cat([j.view(batch, channels, -1) for j in joined], 2)
        box, cls = flat.split((64, channels - 64), 1)
        cells = flat.shape[2]
        distance = self.dfl(box.view(batch, 4, 16, cells).transpose(2, 1).softmax(1)).view(batch, 4, cells)
        centre = torch.cat([cell_centres(j.shape[2], j.shape[3]) for j in joined], 1).unsqueeze(0)
        stride = torch.cat([torch.full((1, j.shape[2] * j.shape[3]), float(s)) for j, s in zip(joined, STRIDES)], 1)
        left_top, right_bottom = distance.chunk(2, 1)
        top_left, bottom_right = centre - left_top, centre + right_bottom
        xywh = torch.cat(((top_left + bottom_right) / 2, bottom_right - top_left), 1) * stride
        output = torch.cat((xywh, cls.sigmoid()), 1)
        return output.transpose(1, 2) if self.transpose_output else output


class AnchorHead(nn.Module):
    """YOLOv5: one 1x1 Conv per level computing anchors x (4 box + 1 objectness + classes)."""

    def __init__(self, classes=3, style="pow", raw=False):
        super().__init__()
        self.backbone = TinyBackbone()
        self.classes, self.style, self.raw = classes, style, raw
        self.outputs_per_anchor = 5 + classes
        self.levels = nn.ModuleList(nn.Conv2d(c, 3 * self.outputs_per_anchor, 1) for c in TinyBackbone.channels)
        self.register_buffer("anchors", torch.tensor(V5_ANCHORS, dtype=torch.float32).view(3, 3, 2))

    def forward(self, image):
        maps = [conv(x) for conv, x in zip(self.levels, self.backbone(image))]
        if self.raw:
            return tuple(maps)
        decoded = []
        for level, (head, stride) in enumerate(zip(maps, STRIDES)):
            batch, _, height, width = head.shape
            head = head.view(batch, 3, self.outputs_per_anchor, height, width).permute(0, 1, 3, 4, 2).contiguous()
            ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                                    indexing="ij")
            if self.style == "pow":  # v6.0 form, written out: -0.5 in the expression, anchors broadcast
                grid = torch.stack((xs, ys), 2).view(1, 1, height, width, 2)
                y = head.sigmoid()
                xy = (y[..., 0:2] * 2 - 0.5 + grid) * stride
                wh = (y[..., 2:4] * 2) ** 2 * self.anchors[level].view(1, 3, 1, 1, 2)
                rest = y[..., 4:]
            elif self.style == "inplace":  # v5.0-v6.0 export.py: slices of the sigmoid assigned in place
                grid = torch.stack((xs, ys), 2).view(1, 1, height, width, 2)
                y = head.sigmoid()
                y[..., 0:2] = (y[..., 0:2] * 2 - 0.5 + grid) * stride
                y[..., 2:4] = (y[..., 2:4] * 2) ** 2 * self.anchors[level].view(1, 3, 1, 1, 2)
                decoded.append(y.view(batch, -1, self.outputs_per_anchor))
                continue
            else:  # v7.0 form: split, -0.5 folded into the grid, anchor grid expanded to every cell
                shape = (1, 3, height, width, 2)
                grid = torch.stack((xs, ys), 2).expand(shape) - 0.5
                anchor_grid = self.anchors[level].view(1, 3, 1, 1, 2).expand(shape)
                xy, wh, rest = head.sigmoid().split((2, 2, self.classes + 1), 4)
                xy = (xy * 2 + grid) * stride
                doubled = wh * 2
                wh = doubled * doubled * anchor_grid
            decoded.append(torch.cat((xy, wh, rest), 4).view(batch, -1, self.outputs_per_anchor))
        return torch.cat(decoded, 1)


# name: (builder, seed, opset, output names, names metadata or None, dynamic batch)
VARIANTS = {
    "yolo_v8_split_stride_before": (lambda: SplitStrideBefore(classes=2), 81, 13, ["boxes", "scores"], NAMES_TWO, False),
    "yolo_v8_concat_stride_after": (lambda: ConcatStrideAfter(classes=2), 82, 13, ["output0"], NAMES_TWO, False),
    "yolo11_depthwise": (lambda: ConcatStrideAfter(classes=5, depthwise_classes=True, transpose_output=True), 83, 17,
                         ["output0"], NAMES_FIVE, False),
    "yolo_v8_dynamic_batch": (lambda: ConcatStrideAfter(classes=3), 84, 13, ["output0"], None, True),
    "yolo_v8_raw_concat": (lambda: ConcatStrideAfter(classes=3, raw=True), 85, 13,
                           ["p3", "p4", "p5"], None, False),
    "yolo_v5_pow": (lambda: AnchorHead(classes=3, style="pow"), 51, 12, ["output0"], None, False),
    "yolo_v5_mul": (lambda: AnchorHead(classes=2, style="mul"), 52, 12, ["output0"], NAMES_TWO, False),
    "yolo_v5_raw": (lambda: AnchorHead(classes=3, raw=True), 53, 12, ["p3", "p4", "p5"], None, False),
    "yolo_v5_inplace": (lambda: AnchorHead(classes=4, style="inplace"), 54, 12, ["output0"], None, False),
}


def head_conv_outputs(onnx_model):
    """Output tensor names of the last Conv of every box / class / anchor branch, by the node's module path
    (torch names a node by its module path, e.g. /box_branches.0/box_branches.0.2/Conv)."""
    levels = [{"stride": s} for s in STRIDES]
    names = {node.name: node.output[0] for node in onnx_model.graph.node if node.op_type == "Conv"}
    for level in range(len(STRIDES)):
        for kind, node_name in (("boxes", f"/box_branches.{level}/box_branches.{level}.2/Conv"),
                                ("classes", f"/class_branches.{level}/class_branches.{level}.2/Conv"),
                                ("joint", f"/levels.{level}/Conv")):
            if node_name in names:
                levels[level][kind] = names[node_name]
    return levels


def export(name, output_directory, force):
    path = os.path.join(output_directory, name + ".onnx")
    if os.path.exists(path) and not force:
        print(f"  {name}: {path} exists, skipped")
        return None
    import onnx
    builder, seed, opset, output_names, class_names, dynamic_batch = VARIANTS[name]
    started = time.time()
    torch.manual_seed(seed)
    model = builder().eval()
    example = torch.rand((1, 3, INPUT_SIZE, INPUT_SIZE), generator=torch.Generator().manual_seed(seed))
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {"images": {0: "batch"}, **{output: {0: "batch"} for output in output_names}}
    temporary = path + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, example, temporary, opset_version=opset, input_names=["images"],
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    exported = onnx.load(temporary)
    if class_names:  # as Ultralytics writes it: str() of a Python dict
        exported.metadata_props.add(key="names", value=class_names)
        exported.metadata_props.add(key="stride", value="32")
    onnx.checker.check_model(exported)
    onnx.save(exported, temporary)
    os.replace(temporary, path)
    print(f"  {name}: {path} ({os.path.getsize(path) / 1e3:.0f} kB, opset {opset}, {time.time() - started:.1f} s)")
    return head_conv_outputs(exported)


def main():
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "..", "models", "generated"))
    parser.add_argument("--only", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--force", action="store_true", help="re-export models whose file exists")
    arguments = parser.parse_args()
    arguments.output = os.path.normpath(arguments.output)
    torch.set_num_threads(2)
    os.makedirs(arguments.output, exist_ok=True)
    names = [n for n in arguments.only.split(",") if n] or list(VARIANTS)
    heads_path = os.path.join(arguments.output, "yolo_variants.json")
    heads = {}
    if os.path.exists(heads_path):
        with open(heads_path) as file:
            heads = json.load(file)
    for name in names:
        if name not in VARIANTS:
            raise SystemExit(f"unknown model '{name}' (known: {', '.join(VARIANTS)})")
        levels = export(name, arguments.output, arguments.force)
        if levels is not None:
            heads[name] = {"head_conv_outputs": levels}
    with open(heads_path + ".partial", "w") as file:
        json.dump(heads, file, indent=2, sort_keys=True)
    os.replace(heads_path + ".partial", heads_path)


if __name__ == "__main__":
    main()
