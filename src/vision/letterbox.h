// Letterbox pre-processing exactly as Ultralytics' LetterBox (ultralytics/data/augment.py), so that a model
// trained there sees the same pixels here:
//
//   r = min(S_h / h, S_w / w)   (not above 1 without scaleup)
//   new size = round(w·r) × round(h·r)           (Python's round: half to even)
//   padding d = S − new size  (auto: d mod stride; scale_fill: no padding, the picture is stretched)
//   centred: top = round(d_h/2 − 0.1), bottom = round(d_h/2 + 0.1), likewise left/right; colour 114
//   resize: bilinear with half-pixel centres, like cv2.resize(INTER_LINEAR)
//
// then, in the same pass over the output, the channel order, /255 or mean/std and NCHW or NHWC f32.
#pragma once

#include <array>

#include "npukit/tensor.h"
#include "vision/image.h"

namespace npukit::vision {

struct LetterboxOptions {
  int height = 640;           // the model's input size S_h × S_w
  int width = 640;
  bool scaleup = true;        // false: never enlarge, only shrink
  bool auto_stride = false;   // `auto`: pad only to a multiple of `stride` (a smaller, rectangular input)
  int stride = 32;
  bool scale_fill = false;    // stretch to S_h × S_w without padding (aspect ratio not kept)
  bool center = true;         // false: the picture at the top-left, all padding bottom/right
  uint8_t pad_value = 114;
};

// Where the picture went: output pixel (x, y) shows original (x − left) / scale_x, (y − top) / scale_y.
struct LetterboxGeometry {
  int input_width = 0, input_height = 0;      // the original picture
  int resized_width = 0, resized_height = 0;  // round(w·r) × round(h·r)
  int output_width = 0, output_height = 0;    // the tensor's spatial size (S, or smaller with auto_stride)
  int left = 0, top = 0;                      // padding before the picture
  double scale_x = 1, scale_y = 1;            // the ratio r (per axis with scale_fill)
};

LetterboxGeometry compute_letterbox(int image_width, int image_height, const LetterboxOptions& options);

enum class TensorLayout { nchw, nhwc };

struct Normalization {
  bool bgr = false;                        // channel order of the tensor (Ultralytics: RGB)
  std::array<float, 3> mean{0, 0, 0};      // in 0..255 pixel units, per tensor channel
  std::array<float, 3> scale{1.0f / 255, 1.0f / 255, 1.0f / 255};  // value = (pixel − mean) · scale
  TensorLayout layout = TensorLayout::nchw;
};

// The letterboxed picture as uint8 RGB (for tests against OpenCV and for drawing).
Image letterbox_image(const Image& image, const LetterboxOptions& options);

// One pass: resize, pad, reorder, normalize into a [1, 3, H, W] (or [1, H, W, 3]) f32 tensor.
Tensor letterbox_to_tensor(const Image& image, const LetterboxOptions& options, const Normalization& normalization,
                           LetterboxGeometry* geometry = nullptr);

}  // namespace npukit::vision
