"""YOLOv5s, v6.0+ architecture (ultralytics/yolov5 `models/yolov5s.yaml`, depth 0.33, width 0.50).

Same layers, channels and kernel sizes as the reference: 6x6/2 stem Conv, C3 blocks, SPPF, PANet neck,
Detect with 3 anchors x (80 classes + 5) per scale at strides 8/16/32. `decode=True` builds the in-graph
decode as `export.py` emits it (sigmoid, grid, anchors, 1x25200x85); `decode=False` returns the three raw
1x255xHxW head maps, which is what NPU users cut the graph at.
"""
import math

import torch
import torch.nn as nn

from .common import Conv, SPPF, scale_depth, scale_width

ANCHORS = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
STRIDES = [8, 16, 32]


class Bottleneck(nn.Module):
    def __init__(self, in_channels, out_channels, shortcut=True, expansion=0.5):
        super().__init__()
        hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, hidden, 1, 1)
        self.cv2 = Conv(hidden, out_channels, 3, 1)
        self.add = shortcut and in_channels == out_channels

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C3(nn.Module):
    """CSP bottleneck with three convolutions."""

    def __init__(self, in_channels, out_channels, repeats=1, shortcut=True, expansion=0.5):
        super().__init__()
        hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, hidden, 1, 1)
        self.cv2 = Conv(in_channels, hidden, 1, 1)
        self.cv3 = Conv(2 * hidden, out_channels, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, expansion=1.0) for _ in range(repeats)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class Detect(nn.Module):
    def __init__(self, num_classes, channels, decode):
        super().__init__()
        self.num_classes = num_classes
        self.outputs_per_anchor = num_classes + 5
        self.num_layers = len(ANCHORS)
        self.num_anchors = len(ANCHORS[0]) // 2
        self.decode = decode
        self.m = nn.ModuleList(nn.Conv2d(c, self.outputs_per_anchor * self.num_anchors, 1) for c in channels)
        # anchors in pixels, as `anchor_grid` holds them
        self.register_buffer("anchors", torch.tensor(ANCHORS, dtype=torch.float32).view(self.num_layers, -1, 2))
        self.initialize_biases()

    @torch.no_grad()
    def initialize_biases(self):
        # yolov5 `_initialize_biases`: objectness prior of 8 objects per 640 image, class prior 0.6 / nc.
        for conv, stride in zip(self.m, STRIDES):
            bias = conv.bias.view(self.num_anchors, -1)
            bias[:, 4] += math.log(8 / (640 / stride) ** 2)
            bias[:, 5:] += math.log(0.6 / (self.num_classes - 0.99))

    def make_grid(self, nx, ny, layer):
        y, x = torch.arange(ny, dtype=torch.float32), torch.arange(nx, dtype=torch.float32)
        yv, xv = torch.meshgrid(y, x, indexing="ij")
        shape = 1, self.num_anchors, ny, nx, 2
        grid = torch.stack((xv, yv), 2).expand(shape) - 0.5  # v6.2+: the -0.5 offset lives in the grid
        anchor_grid = self.anchors[layer].view((1, self.num_anchors, 1, 1, 2)).expand(shape)
        return grid, anchor_grid

    def forward(self, features):
        maps = [conv(feature) for conv, feature in zip(self.m, features)]
        if not self.decode:
            return tuple(maps)
        decoded = []
        for layer, (head, stride) in enumerate(zip(maps, STRIDES)):
            batch, _, ny, nx = head.shape
            head = head.view(batch, self.num_anchors, self.outputs_per_anchor, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            grid, anchor_grid = self.make_grid(nx, ny, layer)
            xy, wh, confidence = head.sigmoid().split((2, 2, self.num_classes + 1), 4)
            xy = (xy * 2 + grid) * stride
            wh = (wh * 2) ** 2 * anchor_grid
            decoded.append(torch.cat((xy, wh, confidence), 4).view(batch, self.num_anchors * nx * ny,
                                                                  self.outputs_per_anchor))
        return torch.cat(decoded, 1)


class YOLOv5(nn.Module):
    def __init__(self, num_classes=80, depth_multiple=0.33, width_multiple=0.50, decode=True):
        super().__init__()
        w = lambda channels: scale_width(channels, width_multiple)  # noqa: E731
        d = lambda repeats: scale_depth(repeats, depth_multiple)  # noqa: E731
        # backbone
        self.b0 = Conv(3, w(64), 6, 2, 2)            # P1/2
        self.b1 = Conv(w(64), w(128), 3, 2)          # P2/4
        self.b2 = C3(w(128), w(128), d(3))
        self.b3 = Conv(w(128), w(256), 3, 2)         # P3/8
        self.b4 = C3(w(256), w(256), d(6))
        self.b5 = Conv(w(256), w(512), 3, 2)         # P4/16
        self.b6 = C3(w(512), w(512), d(9))
        self.b7 = Conv(w(512), w(1024), 3, 2)        # P5/32
        self.b8 = C3(w(1024), w(1024), d(3))
        self.b9 = SPPF(w(1024), w(1024), 5)
        # head (PANet)
        self.h10 = Conv(w(1024), w(512), 1, 1)
        self.upsample = nn.Upsample(None, 2, "nearest")
        self.h13 = C3(w(512) * 2, w(512), d(3), False)
        self.h14 = Conv(w(512), w(256), 1, 1)
        self.h17 = C3(w(256) * 2, w(256), d(3), False)     # P3/8 small
        self.h18 = Conv(w(256), w(256), 3, 2)
        self.h20 = C3(w(256) * 2, w(512), d(3), False)     # P4/16 medium
        self.h21 = Conv(w(512), w(512), 3, 2)
        self.h23 = C3(w(512) * 2, w(1024), d(3), False)    # P5/32 large
        self.detect = Detect(num_classes, (w(256), w(512), w(1024)), decode)

    def forward(self, x):
        x = self.b1(self.b0(x))
        p3 = self.b4(self.b3(self.b2(x)))
        p4 = self.b6(self.b5(p3))
        x10 = self.h10(self.b9(self.b8(self.b7(p4))))
        x14 = self.h14(self.h13(torch.cat((self.upsample(x10), p4), 1)))
        small = self.h17(torch.cat((self.upsample(x14), p3), 1))
        medium = self.h20(torch.cat((self.h18(small), x14), 1))
        large = self.h23(torch.cat((self.h21(medium), x10), 1))
        return self.detect([small, medium, large])
