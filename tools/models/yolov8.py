"""YOLOv8n (ultralytics 8.x `cfg/models/v8/yolov8.yaml`, scale n: depth 0.33, width 0.25, max channels 1024).

Same layers, channels and kernel sizes as the reference: C2f blocks, SPPF, PAN neck without the v5 lateral
1x1 convs, decoupled anchor-free head (box branch 4 x reg_max=16 channels, class branch 80 channels) and the
DFL. `decode=True` builds the in-graph decode as ultralytics exports it (DFL softmax, dist2bbox, sigmoid,
1x84x8400); `decode=False` returns the per-scale box (64 ch) and class (80 ch) maps.
"""
import math

import torch
import torch.nn as nn

from .common import Conv, SPPF, scale_depth, scale_width

STRIDES = [8, 16, 32]


class Bottleneck(nn.Module):
    def __init__(self, in_channels, out_channels, shortcut=True, kernels=(3, 3), expansion=0.5):
        super().__init__()
        hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, hidden, kernels[0], 1)
        self.cv2 = Conv(hidden, out_channels, kernels[1], 1)
        self.add = shortcut and in_channels == out_channels

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):
    """CSP bottleneck with two convolutions; every bottleneck output joins the final concat."""

    def __init__(self, in_channels, out_channels, repeats=1, shortcut=False, expansion=0.5):
        super().__init__()
        self.c = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + repeats) * self.c, out_channels, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, kernels=(3, 3), expansion=1.0)
                               for _ in range(repeats))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class DFL(nn.Module):
    """Distribution focal loss integral: expected value of a softmax over reg_max bins (a fixed 1x1 conv)."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.conv = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(reg_max, dtype=torch.float32).view(1, reg_max, 1, 1)
        self.reg_max = reg_max

    def forward(self, x):
        batch, _, anchors = x.shape
        return self.conv(x.view(batch, 4, self.reg_max, anchors).transpose(2, 1).softmax(1)).view(batch, 4, anchors)


def make_anchors(features, strides, offset=0.5):
    points, stride_tensor = [], []
    for feature, stride in zip(features, strides):
        _, _, h, w = feature.shape
        sx = torch.arange(w, dtype=torch.float32) + offset
        sy = torch.arange(h, dtype=torch.float32) + offset
        sy, sx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        stride_tensor.append(torch.full((h * w, 1), stride, dtype=torch.float32))
    return torch.cat(points), torch.cat(stride_tensor)


def dist2bbox(distance, anchor_points, dim=1):
    left_top, right_bottom = distance.chunk(2, dim)
    x1y1 = anchor_points - left_top
    x2y2 = anchor_points + right_bottom
    return torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), dim)


class Detect(nn.Module):
    def __init__(self, num_classes, channels, decode, reg_max=16):
        super().__init__()
        self.num_classes = num_classes
        self.reg_max = reg_max
        self.outputs_per_anchor = num_classes + 4 * reg_max
        self.decode = decode
        box_channels = max((16, channels[0] // 4, reg_max * 4))
        class_channels = max(channels[0], min(num_classes, 100))
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(c, box_channels, 3), Conv(box_channels, box_channels, 3),
                          nn.Conv2d(box_channels, 4 * reg_max, 1)) for c in channels)
        self.cv3 = nn.ModuleList(
            nn.Sequential(Conv(c, class_channels, 3), Conv(class_channels, class_channels, 3),
                          nn.Conv2d(class_channels, num_classes, 1)) for c in channels)
        self.dfl = DFL(reg_max)
        self.initialize_biases()

    @torch.no_grad()
    def initialize_biases(self):
        # ultralytics `bias_init`: box logits 1.0, class prior of 5 objects per 640 image.
        for box_branch, class_branch, stride in zip(self.cv2, self.cv3, STRIDES):
            box_branch[-1].bias.data[:] = 1.0
            class_branch[-1].bias.data[: self.num_classes] = math.log(5 / self.num_classes / (640 / stride) ** 2)

    def forward(self, features):
        boxes = [branch(x) for branch, x in zip(self.cv2, features)]
        classes = [branch(x) for branch, x in zip(self.cv3, features)]
        if not self.decode:
            return tuple(item for pair in zip(boxes, classes) for item in pair)
        maps = [torch.cat((box, cls), 1) for box, cls in zip(boxes, classes)]
        batch = maps[0].shape[0]
        flattened = torch.cat([m.view(batch, self.outputs_per_anchor, -1) for m in maps], 2)
        anchor_points, stride_tensor = (t.transpose(0, 1) for t in make_anchors(maps, STRIDES, 0.5))
        box, cls = flattened.split((self.reg_max * 4, self.num_classes), 1)
        decoded_boxes = dist2bbox(self.dfl(box), anchor_points.unsqueeze(0), dim=1) * stride_tensor
        return torch.cat((decoded_boxes, cls.sigmoid()), 1)


class YOLOv8(nn.Module):
    def __init__(self, num_classes=80, depth_multiple=0.33, width_multiple=0.25, max_channels=1024, decode=True):
        super().__init__()
        w = lambda channels: scale_width(min(channels, max_channels), width_multiple)  # noqa: E731
        d = lambda repeats: scale_depth(repeats, depth_multiple)  # noqa: E731
        # backbone
        self.b0 = Conv(3, w(64), 3, 2)               # P1/2
        self.b1 = Conv(w(64), w(128), 3, 2)          # P2/4
        self.b2 = C2f(w(128), w(128), d(3), True)
        self.b3 = Conv(w(128), w(256), 3, 2)         # P3/8
        self.b4 = C2f(w(256), w(256), d(6), True)
        self.b5 = Conv(w(256), w(512), 3, 2)         # P4/16
        self.b6 = C2f(w(512), w(512), d(6), True)
        self.b7 = Conv(w(512), w(1024), 3, 2)        # P5/32
        self.b8 = C2f(w(1024), w(1024), d(3), True)
        self.b9 = SPPF(w(1024), w(1024), 5)
        # head
        self.upsample = nn.Upsample(None, 2, "nearest")
        self.h12 = C2f(w(1024) + w(512), w(512), d(3))
        self.h15 = C2f(w(512) + w(256), w(256), d(3))      # P3/8 small
        self.h16 = Conv(w(256), w(256), 3, 2)
        self.h18 = C2f(w(256) + w(512), w(512), d(3))      # P4/16 medium
        self.h19 = Conv(w(512), w(512), 3, 2)
        self.h21 = C2f(w(512) + w(1024), w(1024), d(3))    # P5/32 large
        self.detect = Detect(num_classes, (w(256), w(512), w(1024)), decode)

    def forward(self, x):
        x = self.b2(self.b1(self.b0(x)))
        p3 = self.b4(self.b3(x))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        x12 = self.h12(torch.cat((self.upsample(p5), p4), 1))
        small = self.h15(torch.cat((self.upsample(x12), p3), 1))
        medium = self.h18(torch.cat((self.h16(small), x12), 1))
        large = self.h21(torch.cat((self.h19(medium), p5), 1))
        return self.detect([small, medium, large])
