#include "vision/preprocessing_spec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "npukit/error.h"
#include "vision/image_decoding.h"

namespace npukit::vision {

std::string_view resize_mode_name(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::letterbox: return "letterbox";
    case ResizeMode::resize: return "resize";
    case ResizeMode::center_crop: return "center_crop";
  }
  return "unknown";
}

namespace {

// The largest side a spec may ask for: beyond any model input, and small enough that H·W·3 floats cannot
// overflow before the tensor memory limit is consulted.
constexpr int maximum_side = 1 << 15;

[[noreturn]] void fail(std::string_view item, const std::string& problem) {
  throw Error(ErrorKind::invalid_argument,
              "pre-processing spec: item '" + std::string(item) + "': " + problem);
}

double parse_number(std::string_view item, std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value)) {
    fail(item, "'" + std::string(text) + "' is not a number");
  }
  return value;
}

int parse_side(std::string_view item, std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    fail(item, "'" + std::string(text) + "' is not a whole number of pixels");
  }
  if (value < 1 || value > maximum_side) {
    fail(item, "size " + std::to_string(value) + " is outside 1.." + std::to_string(maximum_side));
  }
  return value;
}

// "640" (square) or "480x640" (height x width).
void parse_size(std::string_view item, std::string_view text, int& height, int& width) {
  const size_t separator = text.find('x');
  if (separator == std::string_view::npos) {
    height = width = parse_side(item, text);
    return;
  }
  height = parse_side(item, text.substr(0, separator));
  width = parse_side(item, text.substr(separator + 1));
}

// "0" (all channels) or "123.675/116.28/103.53" (per tensor channel).
std::array<float, 3> parse_triple(std::string_view item, std::string_view text) {
  std::vector<double> values;
  size_t start = 0;
  while (true) {
    const size_t slash = text.find('/', start);
    values.push_back(parse_number(item, text.substr(start, slash == std::string_view::npos ? text.npos : slash - start)));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (values.size() == 1) values.assign(3, values[0]);
  if (values.size() != 3) fail(item, "give one value or three separated by '/', got " + std::to_string(values.size()));
  const std::array<float, 3> result{static_cast<float>(values[0]), static_cast<float>(values[1]),
                                    static_cast<float>(values[2])};
  for (float value : result) {
    if (!std::isfinite(value)) fail(item, "a value beyond the float range");
  }
  return result;
}

// The shortest text that reads back to the same float (so a printed spec parses to the same spec).
std::string format_number(float value) {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc() ? std::string(buffer, end) : std::string("nan");
}

std::string format_triple(const std::array<float, 3>& values) {
  if (values[0] == values[1] && values[1] == values[2]) return format_number(values[0]);
  return format_number(values[0]) + "/" + format_number(values[1]) + "/" + format_number(values[2]);
}

}  // namespace

PreprocessingSpec parse_preprocessing_spec(std::string_view text) {
  PreprocessingSpec spec;
  std::set<std::string, std::less<>> seen;
  bool scale_given = false, zero_point_given = false;
  std::array<float, 3>& standard_deviation = spec.standard_deviation;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) {
      if (text.empty()) break;
      fail(item, "empty item (two commas in a row, or a comma at an end)");
    }
    const size_t equals = item.find('=');
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? std::string_view() : item.substr(equals + 1);
    const bool has_value = equals != std::string_view::npos;
    // rgb/bgr and nchw/nhwc are one setting each, whichever spelling.
    std::string setting(key);
    if (key == "bgr") setting = "rgb";
    if (key == "nhwc") setting = "nchw";
    if (key == "resize" || key == "center_crop") setting = "letterbox";
    if (!seen.insert(setting).second) fail(item, "given twice (or contradicts an earlier item)");
    auto need_value = [&] {
      if (!has_value || value.empty()) fail(item, "needs a value: " + std::string(key) + "=...");
    };
    auto no_value = [&] {
      if (has_value) fail(item, "takes no value");
    };
    if (key == "letterbox" || key == "resize" || key == "center_crop") {
      spec.mode = key == "letterbox" ? ResizeMode::letterbox : key == "resize" ? ResizeMode::resize : ResizeMode::center_crop;
      if (has_value) parse_size(item, value, spec.height, spec.width);
    } else if (key == "shorter") {
      need_value();
      spec.shorter_side = parse_side(item, value);
    } else if (key == "mean") {
      need_value();
      spec.normalization.mean = parse_triple(item, value);
    } else if (key == "std") {
      need_value();
      standard_deviation = parse_triple(item, value);
      for (float deviation : standard_deviation) {
        // Its inverse scales every pixel: it has to be a finite float too.
        if (!(deviation > 0) || !std::isfinite(1.0f / deviation)) fail(item, "a standard deviation must be positive");
      }
    } else if (key == "rgb" || key == "bgr") {
      no_value();
      spec.normalization.bgr = key == "bgr";
    } else if (key == "nchw" || key == "nhwc") {
      no_value();
      spec.normalization.layout = key == "nchw" ? TensorLayout::nchw : TensorLayout::nhwc;
      spec.layout_given = true;
    } else if (key == "pad") {
      need_value();
      const double pad = parse_number(item, value);
      if (pad < 0 || pad > 255 || pad != std::floor(pad)) fail(item, "the padding colour is a whole number 0..255");
      spec.letterbox.pad_value = static_cast<uint8_t>(pad);
    } else if (key == "dtype") {
      need_value();
      if (value == "f32") spec.output_dtype = DType::f32;
      else if (value == "u8") spec.output_dtype = DType::u8;
      else if (value == "i8") spec.output_dtype = DType::i8;
      else fail(item, "dtype is f32, u8 or i8");
    } else if (key == "scale") {
      need_value();
      const double scale = parse_number(item, value);
      if (!(static_cast<float>(scale) > 0) || !std::isfinite(static_cast<float>(scale))) {
        fail(item, "the quantization scale must be a positive float");
      }
      spec.output_scale = static_cast<float>(scale);
      scale_given = true;
    } else if (key == "zero_point") {
      need_value();
      const double zero_point = parse_number(item, value);
      if (zero_point != std::floor(zero_point) || std::fabs(zero_point) > 255) {
        fail(item, "the zero point is a whole number");
      }
      spec.output_zero_point = static_cast<int64_t>(zero_point);
      zero_point_given = true;
    } else {
      fail(item, "unknown; items are letterbox|resize|center_crop[=S|=HxW], shorter=N, mean=M[/M/M], "
                 "std=D[/D/D], rgb|bgr, nchw|nhwc, pad=V, dtype=f32|u8|i8, scale=S, zero_point=Z");
    }
  }
  for (int c = 0; c < 3; ++c) spec.normalization.scale[c] = 1.0f / standard_deviation[c];
  if (spec.shorter_side != 0 && spec.mode != ResizeMode::center_crop) {
    fail("shorter", "only center_crop resizes the shorter side");
  }
  if (spec.output_dtype == DType::f32 && (scale_given || zero_point_given)) {
    fail(scale_given ? "scale" : "zero_point", "only a quantized dtype (dtype=u8 or dtype=i8) has a scale and zero point");
  }
  if (spec.output_dtype != DType::f32) {
    if (!scale_given) {
      // Raw pixels: u8 with mean 0 and std 1 is the picture itself; anything else needs the model's scale.
      const bool raw_pixels = spec.output_dtype == DType::u8 && spec.normalization.mean == std::array<float, 3>{0, 0, 0} &&
                              standard_deviation == std::array<float, 3>{1, 1, 1};
      if (!raw_pixels) {
        fail("dtype", "a quantized input needs the model's scale=S (and zero_point=Z), unless it is raw u8 pixels "
                      "(mean=0,std=1)");
      }
    }
    const int64_t low = spec.output_dtype == DType::u8 ? 0 : -128, high = spec.output_dtype == DType::u8 ? 255 : 127;
    if (spec.output_zero_point < low || spec.output_zero_point > high) {
      fail("zero_point", "outside the " + std::string(dtype_name(spec.output_dtype)) + " grid " + std::to_string(low) +
                             ".." + std::to_string(high));
    }
  }
  return spec;
}

std::string preprocessing_spec_text(const PreprocessingSpec& spec) {
  std::string text(resize_mode_name(spec.mode));
  if (spec.height > 0) {
    text += "=" + (spec.height == spec.width ? std::to_string(spec.height)
                                             : std::to_string(spec.height) + "x" + std::to_string(spec.width));
  }
  if (spec.shorter_side > 0) text += ",shorter=" + std::to_string(spec.shorter_side);
  text += ",mean=" + format_triple(spec.normalization.mean) + ",std=" + format_triple(spec.standard_deviation);
  text += spec.normalization.bgr ? ",bgr" : ",rgb";
  if (spec.layout_given) text += spec.normalization.layout == TensorLayout::nchw ? ",nchw" : ",nhwc";
  if (spec.mode == ResizeMode::letterbox && spec.letterbox.pad_value != 114) {
    text += ",pad=" + std::to_string(spec.letterbox.pad_value);
  }
  if (spec.output_dtype != DType::f32) {
    text += ",dtype=" + std::string(dtype_name(spec.output_dtype)) + ",scale=" + format_number(spec.output_scale) +
            ",zero_point=" + std::to_string(spec.output_zero_point);
  }
  return text;
}

PreprocessingSpec resolve_preprocessing_spec(const PreprocessingSpec& spec, const ValueInfo& input) {
  const auto& shape = input.shape;
  auto refuse = [&](const std::string& problem) -> PreprocessingSpec {
    throw Error(ErrorKind::invalid_argument, "input '" + input.name + "' " + problem);
  };
  if (!input.has_shape || shape.size() != 4) {
    return refuse("is not a picture input (it needs rank 4, [N, 3, H, W] or [N, H, W, 3]; it has " +
                  (input.has_shape ? shape_to_string(shape) : std::string("no declared shape")) +
                  "): give .npy calibration data instead of pictures");
  }
  PreprocessingSpec resolved = spec;
  const bool channels_first = shape[1] == 3, channels_last = shape[3] == 3;
  if (!resolved.layout_given) {
    if (!channels_first && !channels_last) {
      return refuse("has shape " + shape_to_string(shape) +
                    ": neither dim 1 nor dim 3 is 3 colour channels; say nchw or nhwc in the pre-processing spec");
    }
    resolved.normalization.layout = channels_first ? TensorLayout::nchw : TensorLayout::nhwc;
    resolved.layout_given = true;
  }
  const bool nchw = resolved.normalization.layout == TensorLayout::nchw;
  const int64_t channels = nchw ? shape[1] : shape[3];
  const int64_t model_height = nchw ? shape[2] : shape[1], model_width = nchw ? shape[3] : shape[2];
  if (channels > 0 && channels != 3) {
    return refuse("has " + std::to_string(channels) + " channels in " + (nchw ? "NCHW" : "NHWC") + " shape " +
                  shape_to_string(shape) + "; pictures give 3");
  }
  auto resolve_side = [&](int& side, int64_t model_side, const char* name) {
    if (side == 0) {
      if (model_side <= 0) {
        refuse(std::string("has a dynamic ") + name + " (" + shape_to_string(shape) +
               "); give the size in the pre-processing spec, e.g. letterbox=640");
      }
      if (model_side > maximum_side) refuse(std::string("declares an absurd ") + name);
      side = static_cast<int>(model_side);
    } else if (model_side > 0 && side != model_side) {
      refuse(std::string("has ") + name + " " + std::to_string(model_side) + " but the pre-processing spec says " +
             std::to_string(side));
    }
  };
  resolve_side(resolved.height, model_height, "height");
  resolve_side(resolved.width, model_width, "width");
  if (input.dtype != DType::undefined && input.dtype != resolved.output_dtype) {
    return refuse("is " + std::string(dtype_name(input.dtype)) + " but the pre-processing spec makes " +
                  std::string(dtype_name(resolved.output_dtype)) +
                  (input.dtype == DType::u8 || input.dtype == DType::i8
                       ? "; add dtype=" + std::string(dtype_name(input.dtype)) + " (with scale=, zero_point=)"
                       : std::string()));
  }
  return resolved;
}

PreprocessingSpec default_preprocessing_spec(const ValueInfo& input) {
  return resolve_preprocessing_spec(PreprocessingSpec{}, input);
}

namespace {

// The f32 tensor of an already-sized picture (no resampling): channel order, mean / scale, layout.
Tensor picture_to_tensor(const Image& image, const Normalization& normalization) {
  const int64_t height = image.height, width = image.width;
  const bool nchw = normalization.layout == TensorLayout::nchw;
  Tensor tensor(DType::f32, nchw ? Shape{1, 3, height, width} : Shape{1, height, width, 3});
  float* out = tensor.data<float>();
  const size_t plane = static_cast<size_t>(height) * width;
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = image.row(static_cast<int>(y));
    for (int64_t x = 0; x < width; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width + x;
      for (int c = 0; c < 3; ++c) {
        const int source = normalization.bgr ? 2 - c : c;
        const float value = (row[3 * x + source] - normalization.mean[c]) * normalization.scale[c];
        out[nchw ? c * plane + pixel : 3 * pixel + c] = value;
      }
    }
  }
  return tensor;
}

// torchvision Resize(int): the shorter side to `shorter`, the longer one int(shorter · long / short).
Image resize_shorter_side_then_crop(const Image& image, int shorter, int crop_height, int crop_width,
                                    LetterboxGeometry& geometry) {
  int resized_width, resized_height;
  if (image.width <= image.height) {
    resized_width = shorter;
    resized_height = static_cast<int>(static_cast<int64_t>(shorter) * image.height / image.width);
  } else {
    resized_height = shorter;
    resized_width = static_cast<int>(static_cast<int64_t>(shorter) * image.width / image.height);
  }
  check_image_size(resized_width, resized_height, "the picture resized for center_crop");
  LetterboxOptions stretch;
  stretch.height = resized_height;
  stretch.width = resized_width;
  stretch.scale_fill = true;
  const Image resized = letterbox_image(image, stretch);
  // torchvision CenterCrop: top = int(round((h − crop_h) / 2)) (Python round: half to even). A crop larger
  // than the picture pads with 0, as torchvision does.
  const int top = static_cast<int>(std::nearbyint((resized_height - crop_height) / 2.0));
  const int left = static_cast<int>(std::nearbyint((resized_width - crop_width) / 2.0));
  Image cropped;
  cropped.width = crop_width;
  cropped.height = crop_height;
  cropped.pixels.assign(static_cast<size_t>(crop_width) * crop_height * 3, 0);
  for (int y = 0; y < crop_height; ++y) {
    const int source_y = y + top;
    if (source_y < 0 || source_y >= resized_height) continue;
    for (int x = 0; x < crop_width; ++x) {
      const int source_x = x + left;
      if (source_x < 0 || source_x >= resized_width) continue;
      std::copy_n(resized.row(source_y) + 3 * source_x, 3, cropped.row(y) + 3 * x);
    }
  }
  geometry = {};
  geometry.input_width = image.width;
  geometry.input_height = image.height;
  geometry.resized_width = resized_width;
  geometry.resized_height = resized_height;
  geometry.output_width = crop_width;
  geometry.output_height = crop_height;
  geometry.left = -left;
  geometry.top = -top;
  geometry.scale_x = static_cast<double>(resized_width) / image.width;
  geometry.scale_y = static_cast<double>(resized_height) / image.height;
  return cropped;
}

Tensor quantize_input(const Tensor& real, DType dtype, float scale, int64_t zero_point) {
  Tensor quantized(dtype, real.shape());
  const int64_t low = dtype == DType::u8 ? 0 : -128, high = dtype == DType::u8 ? 255 : 127;
  const float* values = real.data<float>();
  for (int64_t i = 0; i < real.element_count(); ++i) {
    // Half to even (the default rounding mode), as ONNX QuantizeLinear.
    // Clamped in floating point before the conversion: a huge value / scale must not overflow an integer.
    const double rounded = std::nearbyint(static_cast<double>(values[i] / scale)) + static_cast<double>(zero_point);
    const auto q = static_cast<int64_t>(std::clamp(rounded, static_cast<double>(low), static_cast<double>(high)));
    if (dtype == DType::u8) quantized.data<uint8_t>()[i] = static_cast<uint8_t>(q);
    else quantized.data<int8_t>()[i] = static_cast<int8_t>(q);
  }
  return quantized;
}

}  // namespace

Tensor preprocess(const Image& image, const PreprocessingSpec& spec, LetterboxGeometry* geometry) {
  if (spec.height <= 0 || spec.width <= 0) {
    throw Error(ErrorKind::internal, "preprocess: the spec's size was not resolved from the model");
  }
  Tensor real;
  switch (spec.mode) {
    case ResizeMode::letterbox:
    case ResizeMode::resize: {
      LetterboxOptions options = spec.letterbox;
      options.height = spec.height;
      options.width = spec.width;
      options.scale_fill = spec.mode == ResizeMode::resize;
      real = letterbox_to_tensor(image, options, spec.normalization, geometry);
      break;
    }
    case ResizeMode::center_crop: {
      if (image.width <= 0 || image.height <= 0) {
        throw Error(ErrorKind::invalid_argument, "preprocess: the picture is empty");
      }
      const int shorter = spec.shorter_side > 0 ? spec.shorter_side : std::min(spec.height, spec.width);
      LetterboxGeometry crop_geometry;
      const Image cropped = resize_shorter_side_then_crop(image, shorter, spec.height, spec.width, crop_geometry);
      if (geometry != nullptr) *geometry = crop_geometry;
      real = picture_to_tensor(cropped, spec.normalization);
      break;
    }
  }
  if (spec.output_dtype == DType::f32) return real;
  return quantize_input(real, spec.output_dtype, spec.output_scale, spec.output_zero_point);
}

}  // namespace npukit::vision
