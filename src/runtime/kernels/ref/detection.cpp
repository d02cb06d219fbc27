// Object-detection ops: NonMaxSuppression and RoiAlign, with ONNX's semantics as ONNX Runtime implements
// them (the conformance outputs were produced that way): strict comparisons against both thresholds,
// candidates ordered by descending score with ties broken by the lower box index, and RoiAlign's bilinear
// sampling grid with its edge rules.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

struct Corners {
  float x_min, y_min, x_max, y_max;
};

// center_point_box 0: [y1, x1, y2, x2] with either corner order; 1: [x_center, y_center, width, height].
Corners box_corners(const float* box, bool center_point_box) {
  if (center_point_box) {
    const float half_width = box[2] / 2.0f, half_height = box[3] / 2.0f;
    return {box[0] - half_width, box[1] - half_height, box[0] + half_width, box[1] + half_height};
  }
  return {std::min(box[1], box[3]), std::min(box[0], box[2]), std::max(box[1], box[3]), std::max(box[0], box[2])};
}

bool suppresses(const Corners& a, const Corners& b, float iou_threshold) {
  const float intersection_width = std::max(std::min(a.x_max, b.x_max) - std::max(a.x_min, b.x_min), 0.0f);
  const float intersection_height = std::max(std::min(a.y_max, b.y_max) - std::max(a.y_min, b.y_min), 0.0f);
  const float intersection = intersection_width * intersection_height;
  if (intersection <= 0.0f) return false;
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float union_area = area_a + area_b - intersection;
  if (area_a <= 0.0f || area_b <= 0.0f || union_area <= 0.0f) return false;
  return intersection / union_area > iou_threshold;
}

void non_max_suppression_kernel(KernelContext& context) {
  const Tensor& boxes_tensor = context.input(0);
  const Tensor& scores_tensor = context.input(1);
  if (boxes_tensor.rank() != 3 || boxes_tensor.dim(2) != 4) {
    context.invalid("boxes must be [batch, boxes, 4], got " + shape_to_string(boxes_tensor.shape()));
  }
  if (scores_tensor.rank() != 3 || scores_tensor.dim(0) != boxes_tensor.dim(0) || scores_tensor.dim(2) != boxes_tensor.dim(1)) {
    context.invalid("scores must be [batch, classes, boxes] matching boxes " + shape_to_string(boxes_tensor.shape()) +
                    ", got " + shape_to_string(scores_tensor.shape()));
  }
  if (!dtype_is_float(boxes_tensor.dtype()) || !dtype_is_float(scores_tensor.dtype())) {
    context.unsupported("boxes and scores must be floating point");
  }
  int64_t max_per_class = 0;
  if (const Tensor* input = context.optional_input(2); input && input->element_count() > 0) {
    max_per_class = input->value_as_int64(0);
  }
  float iou_threshold = 0.0f;
  if (const Tensor* input = context.optional_input(3); input && input->element_count() > 0) {
    iou_threshold = static_cast<float>(input->value_as_double(0));
  }
  const Tensor* score_threshold_input = context.optional_input(4);
  const bool has_score_threshold = score_threshold_input && score_threshold_input->element_count() > 0;
  const float score_threshold = has_score_threshold ? static_cast<float>(score_threshold_input->value_as_double(0)) : 0.0f;
  if (iou_threshold < 0.0f || iou_threshold > 1.0f) context.invalid("iou_threshold must be in [0, 1]");
  const bool center_point_box = context.attribute_int("center_point_box", 0) != 0;

  const std::vector<float> boxes = boxes_tensor.to_float_vector();
  const std::vector<float> scores = scores_tensor.to_float_vector();
  const int64_t batches = boxes_tensor.dim(0), box_count = boxes_tensor.dim(1), classes = scores_tensor.dim(1);
  std::vector<int64_t> selected_triples;
  for (int64_t batch = 0; batch < batches && max_per_class > 0; ++batch) {
    std::vector<Corners> corners(static_cast<size_t>(box_count));
    for (int64_t i = 0; i < box_count; ++i) {
      corners[static_cast<size_t>(i)] = box_corners(&boxes[static_cast<size_t>((batch * box_count + i) * 4)], center_point_box);
    }
    for (int64_t class_index = 0; class_index < classes; ++class_index) {
      const float* class_scores = &scores[static_cast<size_t>((batch * classes + class_index) * box_count)];
      std::vector<int64_t> candidates;
      for (int64_t i = 0; i < box_count; ++i) {
        if (!has_score_threshold || class_scores[i] > score_threshold) candidates.push_back(i);
      }
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](int64_t a, int64_t b) { return class_scores[a] > class_scores[b]; });
      std::vector<int64_t> kept;
      for (int64_t candidate : candidates) {
        if (static_cast<int64_t>(kept.size()) >= max_per_class) break;
        bool suppressed = false;
        for (int64_t chosen : kept) {
          if (suppresses(corners[static_cast<size_t>(candidate)], corners[static_cast<size_t>(chosen)], iou_threshold)) {
            suppressed = true;
            break;
          }
        }
        if (!suppressed) kept.push_back(candidate);
      }
      for (int64_t chosen : kept) selected_triples.insert(selected_triples.end(), {batch, class_index, chosen});
    }
  }
  Tensor& output = context.allocate_output(0, DType::i64, {static_cast<int64_t>(selected_triples.size() / 3), 3});
  std::copy(selected_triples.begin(), selected_triples.end(), output.data<int64_t>());
}

// One bilinear sample of RoiAlign's grid: four input positions (within a channel plane) and weights.
struct BilinearSample {
  int64_t positions[4] = {0, 0, 0, 0};
  float weights[4] = {0, 0, 0, 0};
};

BilinearSample bilinear_sample(float y, float x, int64_t height, int64_t width) {
  BilinearSample sample;
  if (y < -1.0f || y > static_cast<float>(height) || x < -1.0f || x > static_cast<float>(width)) return sample;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<float>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<float>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const float ly = y - static_cast<float>(y_low), lx = x - static_cast<float>(x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  sample.positions[0] = y_low * width + x_low;
  sample.positions[1] = y_low * width + x_high;
  sample.positions[2] = y_high * width + x_low;
  sample.positions[3] = y_high * width + x_high;
  sample.weights[0] = hy * hx;
  sample.weights[1] = hy * lx;
  sample.weights[2] = ly * hx;
  sample.weights[3] = ly * lx;
  return sample;
}

void roi_align_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& rois_tensor = context.input(1);
  const Tensor& batch_indices_tensor = context.input(2);
  if (data.rank() != 4) context.invalid("X must be [N, C, H, W], got " + shape_to_string(data.shape()));
  if (rois_tensor.rank() != 2 || rois_tensor.dim(1) != 4) context.invalid("rois must be [num_rois, 4]");
  if (batch_indices_tensor.element_count() != rois_tensor.dim(0)) context.invalid("batch_indices must have one entry per roi");
  const std::string mode = context.attribute_string("mode", "avg");
  if (mode != "avg" && mode != "max") context.unsupported("mode '" + mode + "' is not supported");
  const std::string coordinate_mode =
      context.opset() < 16 ? "output_half_pixel" : context.attribute_string("coordinate_transformation_mode", "half_pixel");
  if (coordinate_mode != "half_pixel" && coordinate_mode != "output_half_pixel") {
    context.unsupported("coordinate_transformation_mode '" + coordinate_mode + "' is not supported");
  }
  const bool half_pixel = coordinate_mode == "half_pixel";
  const int64_t output_height = context.attribute_int("output_height", 1);
  const int64_t output_width = context.attribute_int("output_width", 1);
  const int64_t sampling_ratio = context.attribute_int("sampling_ratio", 0);
  const float spatial_scale = static_cast<float>(context.attribute_float("spatial_scale", 1.0));
  if (output_height <= 0 || output_width <= 0 || sampling_ratio < 0) context.invalid("bad output size or sampling_ratio");
  const int64_t batches = data.dim(0), channels = data.dim(1), height = data.dim(2), width = data.dim(3);
  const int64_t roi_count = rois_tensor.dim(0);
  const std::vector<float> rois = rois_tensor.to_float_vector();
  const std::vector<int64_t> batch_indices = batch_indices_tensor.to_int64_vector();
  Tensor& output = context.allocate_output(0, data.dtype(), {roi_count, channels, output_height, output_width});
  dispatch_dtype(data.dtype(), kFloatTypes, "RoiAlign", [&]<typename T>() {
    // float for every float type but f64 (dispatch also instantiates this body for the other types).
    using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const T* source = data.data<T>();
    T* destination = output.data<T>();
    for (int64_t roi = 0; roi < roi_count; ++roi) {
      const int64_t batch = batch_indices[static_cast<size_t>(roi)];
      if (batch < 0 || batch >= batches) context.invalid("batch index " + std::to_string(batch) + " is out of range");
      const float offset = half_pixel ? 0.5f : 0.0f;
      const float* box = &rois[static_cast<size_t>(roi * 4)];
      const float start_x = box[0] * spatial_scale - offset, start_y = box[1] * spatial_scale - offset;
      const float end_x = box[2] * spatial_scale - offset, end_y = box[3] * spatial_scale - offset;
      float roi_width = end_x - start_x, roi_height = end_y - start_y;
      if (!half_pixel) {
        roi_width = std::max(roi_width, 1.0f);
        roi_height = std::max(roi_height, 1.0f);
      }
      const float bin_height = roi_height / static_cast<float>(output_height);
      const float bin_width = roi_width / static_cast<float>(output_width);
      const int64_t grid_height =
          sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_height / static_cast<float>(output_height)));
      const int64_t grid_width =
          sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_width / static_cast<float>(output_width)));
      const float count = static_cast<float>(std::max<int64_t>(grid_height * grid_width, 1));
      std::vector<BilinearSample> samples;
      for (int64_t ph = 0; ph < output_height; ++ph) {
        for (int64_t pw = 0; pw < output_width; ++pw) {
          for (int64_t iy = 0; iy < grid_height; ++iy) {
            const float y = start_y + static_cast<float>(ph) * bin_height +
                            (static_cast<float>(iy) + 0.5f) * bin_height / static_cast<float>(grid_height);
            for (int64_t ix = 0; ix < grid_width; ++ix) {
              const float x = start_x + static_cast<float>(pw) * bin_width +
                              (static_cast<float>(ix) + 0.5f) * bin_width / static_cast<float>(grid_width);
              samples.push_back(bilinear_sample(y, x, height, width));
            }
          }
        }
      }
      const size_t per_bin = static_cast<size_t>(std::max<int64_t>(grid_height * grid_width, 0));
      for (int64_t channel = 0; channel < channels; ++channel) {
        const T* plane = source + (batch * channels + channel) * height * width;
        T* out = destination + ((roi * channels + channel) * output_height) * output_width;
        for (int64_t bin = 0; bin < output_height * output_width; ++bin) {
          C value = 0;
          for (size_t s = 0; s < per_bin; ++s) {
            const BilinearSample& sample = samples[static_cast<size_t>(bin) * per_bin + s];
            if (mode == "avg") {
              for (int k = 0; k < 4; ++k) value += sample.weights[k] * static_cast<C>(plane[sample.positions[k]]);
            } else {
              // ONNX Runtime's max mode: the largest weighted corner, then the largest over samples.
              C sample_max = sample.weights[0] * static_cast<C>(plane[sample.positions[0]]);
              for (int k = 1; k < 4; ++k) sample_max = std::max<C>(sample_max, sample.weights[k] * static_cast<C>(plane[sample.positions[k]]));
              value = s == 0 ? sample_max : std::max(value, sample_max);
            }
          }
          if (mode == "avg") value /= count;
          out[bin] = static_cast<T>(value);
        }
      }
    }
  });
}

}  // namespace

void register_detection_kernels(KernelRegistry& registry) {
  registry.add("NonMaxSuppression", non_max_suppression_kernel, 10, 21);
  registry.add("RoiAlign", roi_align_kernel, 10, 21);
}

}  // namespace npukit::runtime::ref
