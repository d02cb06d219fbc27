"""Weights scaled like a trained detector's, so activations reach tens (up to ~60 in YOLOv8n).

The other test exports keep every BatchNorm near unit scale (`randomize_batchnorm_affine`: gamma 0.6-1.4,
beta ~0.1). Trained YOLO weights are not like that: BatchNorm gammas of several units and shifts of about
one push activations to tens. Floating-point error that grows with magnitude (accumulation order, exp and
sigmoid approximations, folding) hides at unit scale and shows here.

The defaults keep the export well-posed for a 1e-4 comparison: ONNX Runtime itself is 3.6e-5 from the same
graph computed in float64 (yolov8n_large). Larger settings (gamma_scale 6, or head_gain 3: box logits up
to ~90, sharp and bimodal DFL distributions) make the network amplify rounding so much that ONNX Runtime is
1e-4 to 1.7e-4 from float64 and no float32 implementation can promise 1e-4 against it (docs/fidelity.md).
"""
import torch
import torch.nn as nn


@torch.no_grad()
def scale_like_trained(model, generator, gamma_scale=3.0, beta_deviation=1.0, head_gain=1.0):
    """BatchNorm gamma in [0.5, 2] * gamma_scale, beta ~ N(0, beta_deviation), last head convs * head_gain.

    Call before `calibrate_batchnorm`: the running statistics then normalise each layer's input, and gamma
    and beta alone set the scale of what each Conv block outputs (so it stays in the tens through the whole
    network instead of compounding).
    """
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.copy_((torch.rand(module.weight.shape, generator=generator) * 1.5 + 0.5) * gamma_scale)
            module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * beta_deviation)
    detect = getattr(model, "detect", None)
    if detect is not None:
        for branch in list(detect.cv2) + list(detect.cv3):
            branch[-1].weight.mul_(head_gain)
