// One declared pre-processing, shared by calibration, detection and the pipeline: how a picture becomes the
// model's input tensor. Written on the command line as comma-separated items, e.g.
//
//   letterbox=640,mean=0,std=255,rgb,nchw            Ultralytics YOLO (the default for a [1, 3, H, W] input)
//   center_crop=224,shorter=256,mean=123.675/116.28/103.53,std=58.395/57.12/57.375     torchvision ImageNet
//   resize=320x240,bgr,nhwc,dtype=u8                 a model that takes raw uint8 pixels
//
// Items (any order, each at most once):
//   letterbox[=S|=HxW]    Ultralytics letterbox (vision/letterbox.h): keep the aspect ratio, pad with `pad`
//   resize[=S|=HxW]       stretch to H×W: bilinear with half-pixel centres, as cv2.resize(INTER_LINEAR)
//   center_crop[=S|=HxW]  resize the shorter side to `shorter` (default: the crop's shorter side) keeping the
//                         aspect ratio (long side truncated as torchvision's Resize), then crop the centre
//                         (offsets rounded as torchvision's CenterCrop). The resize filter is cv2's bilinear, not
//                         PIL's antialiased one: they differ when a picture shrinks by more than 2×.
//   shorter=N             center_crop only
//   mean=M | M1/M2/M3     subtracted, in 0..255 pixel units, per tensor channel   (default 0)
//   std=D | D1/D2/D3      divided by, in 0..255 pixel units                        (default 255: values 0..1)
//   rgb | bgr             channel order of the tensor                               (default rgb)
//   nchw | nhwc           layout                                   (default: from the model's input shape)
//   pad=V                 letterbox padding colour 0..255                           (default 114)
//   dtype=f32|u8|i8       tensor element type; u8 / i8 quantize value = (pixel − mean) / std with
//   scale=S,zero_point=Z  q = clamp(round_half_even(value / S) + Z)   (defaults: scale 1/255 for u8 with mean 0
//                         and std 1 … see parse: scale and zero_point must be given for i8)
// A size left out (a bare `letterbox`) is taken from the model's input shape by resolve_preprocessing_spec.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "npukit/session.h"
#include "npukit/tensor.h"
#include "vision/image.h"
#include "vision/letterbox.h"

namespace npukit::vision {

enum class ResizeMode { letterbox, resize, center_crop };
std::string_view resize_mode_name(ResizeMode mode);  // "letterbox", "resize", "center_crop"

struct PreprocessingSpec {
  ResizeMode mode = ResizeMode::letterbox;
  int height = 0;                 // the tensor's spatial size; 0: from the model's input shape
  int width = 0;
  int shorter_side = 0;           // center_crop: the shorter side before cropping; 0: the crop's shorter side
  LetterboxOptions letterbox;     // letterbox only (its height / width follow `height` / `width`)
  Normalization normalization;    // channel order, mean / scale (= 1 / std), layout
  std::array<float, 3> standard_deviation{255, 255, 255};  // as given (normalization.scale is its inverse)
  bool layout_given = false;      // false: nchw or nhwc is taken from the model's input shape
  DType output_dtype = DType::f32;  // f32, or u8 / i8: the model's quantized input type
  float output_scale = 1;           // u8 / i8: q = clamp(round_half_even(value / output_scale) + zero_point)
  int64_t output_zero_point = 0;
};

// Parses the CLI text above. Throws Error(invalid_argument) naming the item and what it accepts.
PreprocessingSpec parse_preprocessing_spec(std::string_view text);

// The canonical text of a spec (what parse_preprocessing_spec reads back to the same spec).
std::string preprocessing_spec_text(const PreprocessingSpec& spec);

// Fills what the spec left to the model (size, layout) from a 4-D image input [N, 3, H, W] or [N, H, W, 3] and
// checks that the two agree. Throws Error(invalid_argument) naming the input when it is not an image input, or
// when a size the spec gives contradicts a static dim of the model.
PreprocessingSpec resolve_preprocessing_spec(const PreprocessingSpec& spec, const ValueInfo& input);

// The default for an input: letterbox at its H×W, /255, RGB, its layout.
PreprocessingSpec default_preprocessing_spec(const ValueInfo& input);

// A [1, 3, H, W] (or [1, H, W, 3]) tensor of spec.output_dtype; `geometry` says where the picture went
// (for center_crop, left / top are negative: the cropped-away part). The spec must have its size resolved.
Tensor preprocess(const Image& image, const PreprocessingSpec& spec, LetterboxGeometry* geometry = nullptr);

}  // namespace npukit::vision
