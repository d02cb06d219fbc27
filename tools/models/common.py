"""Building blocks shared by the YOLO definitions, and the helpers that make random-weight exports realistic.

The layers follow ultralytics (yolov5 v6.0+ `models/common.py`, ultralytics 8.x `nn/modules`): a Conv is
Conv2d (no bias) + BatchNorm2d (eps 1e-3, momentum 0.03) + SiLU with "same" padding; `fuse_conv_batchnorm`
folds the BatchNorm into the convolution before export, as ultralytics' `model.fuse()` does.
"""
import torch
import torch.nn as nn


def autopad(kernel, padding=None):
    return kernel // 2 if padding is None else padding


class Conv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel=1, stride=1, padding=None, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, autopad(kernel, padding),
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        if self.bn is None:
            return self.act(self.conv(x))
        return self.act(self.bn(self.conv(x)))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained 5x5 max pools instead of parallel 5/9/13."""

    def __init__(self, in_channels, out_channels, kernel=5):
        super().__init__()
        hidden = in_channels // 2
        self.cv1 = Conv(in_channels, hidden, 1, 1)
        self.cv2 = Conv(hidden * 4, out_channels, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=kernel, stride=1, padding=kernel // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


def scale_depth(repeats, depth_multiple):
    return max(round(repeats * depth_multiple), 1) if repeats > 1 else repeats


def scale_width(channels, width_multiple, divisor=8):
    import math
    return int(math.ceil(channels * width_multiple / divisor) * divisor)


@torch.no_grad()
def randomize_batchnorm_affine(model, generator):
    """Random BatchNorm scale and shift, so folded weights are not all the plain conv weights."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.8 + 0.6)
            module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)


@torch.no_grad()
def calibrate_batchnorm(model, input_shape, generator, passes=3):
    """Sets BatchNorm running statistics from a few train-mode passes on random [0, 1] data.

    Random-init BatchNorm layers have mean 0 / variance 1, which after a few layers gives exploding or
    near-constant activations; real statistics make the eval-mode network behave like a trained one in scale.
    momentum=None makes the running statistics the plain average of the passes.
    """
    saved_momentum = {}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            saved_momentum[module] = module.momentum
            module.reset_running_stats()
            module.momentum = None
    model.train()
    for _ in range(passes):
        model(torch.rand(input_shape, generator=generator))
    for module, momentum in saved_momentum.items():
        module.momentum = momentum
    model.eval()


@torch.no_grad()
def fuse_conv_batchnorm(model):
    """Folds each Conv's BatchNorm into its convolution (ultralytics `fuse_conv_and_bn`)."""
    for module in model.modules():
        if isinstance(module, Conv) and module.bn is not None:
            conv, bn = module.conv, module.bn
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                              conv.dilation, conv.groups, bias=True)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
            fused.bias.copy_(bn.bias - bn.running_mean * scale)
            module.conv = fused
            module.bn = None
    return model


def count_macs(model, example):
    """Multiply-accumulates of Conv2d and Linear layers (and batched matmuls are not counted)."""
    total = [0]

    def conv_hook(module, inputs, output):
        kernel_elements = module.kernel_size[0] * module.kernel_size[1] * (module.in_channels // module.groups)
        total[0] += output.numel() * kernel_elements

    def linear_hook(module, inputs, output):
        total[0] += output.numel() * module.in_features

    hooks = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(example)
    for hook in hooks:
        hook.remove()
    return total[0]
