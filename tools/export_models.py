#!/usr/bin/python3
"""Exports npukit's random-weight test models to ONNX (run with /usr/bin/python3: Debian's torch 1.13).

    /usr/bin/python3 tools/export_models.py --output models/generated [--only yolov5s,vit] [--force]

Deterministic: every model is built from its own fixed seed, BatchNorm statistics come from a few train-mode
passes on seeded random data, and the export is single-threaded-order independent. A model whose file
already exists is skipped unless --force is given.
"""
import argparse
import warnings
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models.common import calibrate_batchnorm, count_macs, fuse_conv_batchnorm, randomize_batchnorm_affine  # noqa: E402
from models.large_activations import scale_like_trained  # noqa: E402
from models.vit import VisionTransformer  # noqa: E402
from models.yolov5 import YOLOv5  # noqa: E402
from models.yolov8 import YOLOv8  # noqa: E402


def build_mobilenetv2(generator):
    import torchvision
    model = torchvision.models.mobilenet_v2(weights=None)
    randomize_batchnorm_affine(model, generator)
    calibrate_batchnorm(model, (4, 3, 224, 224), generator)
    return model


def build_mobilenetv2_spread(generator):
    """MobileNetV2 as cross-layer equalization meets it in trained networks (Nagel et al. 2019, §3.1, Fig. 2): the
    per-channel ranges of the folded weights spread over two orders of magnitude, here by BatchNorm scales drawn
    log-uniformly in [0.1, 10] (a random export's scales in [0.6, 1.4] leave CLE little to do). ReLU6 is ReLU, as
    the DFQ paper runs MobileNetV2 (§5), so equalization keeps the float function exactly."""
    import torchvision
    model = torchvision.models.mobilenet_v2(weights=None)
    for module in list(model.modules()):
        for child_name, child in module.named_children():
            if isinstance(child, torch.nn.ReLU6):
                setattr(module, child_name, torch.nn.ReLU(inplace=True))
    randomize_batchnorm_affine(model, generator)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                exponent = torch.rand(module.weight.shape, generator=generator) * 2.0 - 1.0
                module.weight.mul_(torch.pow(10.0, exponent))
    calibrate_batchnorm(model, (4, 3, 224, 224), generator)
    return model


def build_resnet50(generator):
    import torchvision
    model = torchvision.models.resnet50(weights=None)
    randomize_batchnorm_affine(model, generator)
    calibrate_batchnorm(model, (4, 3, 224, 224), generator)
    return model


def build_yolo(model_class, decode, generator):
    model = model_class(decode=decode)
    randomize_batchnorm_affine(model, generator)
    # Statistics at 320 are the same per-channel statistics the 640 input sees (the net is convolutional),
    # for a quarter of the work.
    calibrate_batchnorm(model, (2, 3, 320, 320), generator)
    return fuse_conv_batchnorm(model)


def build_yolo_large_activations(decode, generator):
    """YOLOv8n with trained-scale weights (models/large_activations.py), exported another way: the
    BatchNorms stay in the module and torch's exporter folds them (eval-mode Conv+BN fusion), opset 17 as
    ultralytics exports on torch >= 1.13."""
    model = YOLOv8(decode=decode)
    scale_like_trained(model, generator)
    calibrate_batchnorm(model, (2, 3, 320, 320), generator)
    return model


def build_vit(generator):
    return VisionTransformer().eval()


# name: (builder, input shape, opset, input name, output names). The YOLO opsets follow the exporters:
# yolov5 export.py defaulted to opset 12, ultralytics 8 exports YOLOv8 at the newest opset torch offers
# up to 17; 13 is what most published YOLOv8 ONNX files use.
MODELS = {
    "mobilenetv2": (build_mobilenetv2, (1, 3, 224, 224), 13, "input", ["output"]),
    "mobilenetv2_spread": (build_mobilenetv2_spread, (1, 3, 224, 224), 13, "input", ["output"]),
    "resnet50": (build_resnet50, (1, 3, 224, 224), 13, "input", ["output"]),
    "yolov5s": (lambda g: build_yolo(YOLOv5, True, g), (1, 3, 640, 640), 12, "images", ["output0"]),
    "yolov5s_raw": (lambda g: build_yolo(YOLOv5, False, g), (1, 3, 640, 640), 12, "images",
                    ["p3_stride8", "p4_stride16", "p5_stride32"]),
    "yolov8n": (lambda g: build_yolo(YOLOv8, True, g), (1, 3, 640, 640), 13, "images", ["output0"]),
    "yolov8n_raw": (lambda g: build_yolo(YOLOv8, False, g), (1, 3, 640, 640), 13, "images",
                    ["box_stride8", "class_stride8", "box_stride16", "class_stride16",
                     "box_stride32", "class_stride32"]),
    "vit": (build_vit, (1, 3, 224, 224), 17, "input", ["logits"]),
    "yolov8n_large": (lambda g: build_yolo_large_activations(True, g), (1, 3, 640, 640), 17, "images", ["output0"]),
}

# Seeds per model family: the raw and decoded YOLO exports share weights, so their head maps agree.
SEEDS = {"mobilenetv2": 1, "mobilenetv2_spread": 1, "resnet50": 2, "yolov5s": 5, "yolov5s_raw": 5, "yolov8n": 8, "yolov8n_raw": 8, "vit": 17,
         "yolov8n_large": 80}


def export(name, output_directory, force):
    path = os.path.join(output_directory, name + ".onnx")
    if os.path.exists(path) and not force:
        print(f"  {name}: {path} exists, skipped")
        return
    builder, input_shape, opset, input_name, output_names = MODELS[name]
    started = time.time()
    torch.manual_seed(SEEDS[name])
    generator = torch.Generator().manual_seed(SEEDS[name])
    model = builder(generator).eval()
    example = torch.rand(input_shape, generator=generator)
    macs = count_macs(model, example)
    temporary = path + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, example, temporary, opset_version=opset, input_names=[input_name],
                          output_names=output_names, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.EVAL)
    check_exported(temporary, name)
    os.replace(temporary, path)
    size = os.path.getsize(path) / 1e6
    print(f"  {name}: {path} ({size:.1f} MB, {macs / 1e9:.2f} GMAC, opset {opset}, {time.time() - started:.1f} s)")


def check_exported(path, name):
    """Fails when the export still holds BatchNormalization or Identity nodes (the stats were degenerate)."""
    try:
        import onnx
    except ImportError:
        return
    model = onnx.load(path)
    onnx.checker.check_model(model)
    leftover = sorted({node.op_type for node in model.graph.node} & {"BatchNormalization"})
    if leftover:
        raise SystemExit(f"{name}: export still contains {leftover}; BatchNorm was not folded")


def main():
    # torch 1.13 warns about prim::Constant shape inference for the constant anchors/grids; the exports are
    # checked by onnx.checker and by running them in ONNX Runtime.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "..", "models", "generated"))
    parser.add_argument("--only", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--force", action="store_true", help="re-export models whose file exists")
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    arguments.output = os.path.normpath(arguments.output)
    torch.set_num_threads(arguments.threads)
    os.makedirs(arguments.output, exist_ok=True)
    names = [n for n in arguments.only.split(",") if n] or list(MODELS)
    for name in names:
        if name not in MODELS:
            raise SystemExit(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        export(name, arguments.output, arguments.force)


if __name__ == "__main__":
    main()
