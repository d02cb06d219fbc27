// Signal processing (opset 17): window generators (Hann, Hamming, Blackman), DFT, STFT, MelWeightMatrix.
// The transforms are direct O(n^2) sums in double: the oracle favours obvious correctness over speed, and
// these ops appear on short frames.
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "core/dtype_traits.h"
#include "onnx/dtype_mapping.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

int64_t scalar_int(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.element_count() != 1) context.invalid(std::string(what) + " must hold one value");
  return tensor.value_as_int64(0);
}

double scalar_double(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.element_count() != 1) context.invalid(std::string(what) + " must hold one value");
  return tensor.value_as_double(0);
}

DType output_datatype(const KernelContext& context) {
  const auto onnx_type = static_cast<int32_t>(context.attribute_int("output_datatype", 1));
  std::optional<DType> type = onnx_io::dtype_from_onnx(onnx_type);
  if (!type || *type == DType::boolean) {
    context.unsupported("output_datatype " + onnx_io::onnx_type_name(onnx_type) + " is not supported");
  }
  return *type;
}

void store_doubles(Tensor& tensor, const std::vector<double>& values) {
  dispatch_dtype(tensor.dtype(), kNumericTypes, "signal op", [&]<typename T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      T* destination = tensor.data<T>();
      for (size_t i = 0; i < values.size(); ++i) destination[i] = static_cast<T>(static_cast<compute_type_t<T>>(values[i]));
    }
  });
}

std::vector<double> load_doubles(const Tensor& tensor) {
  std::vector<double> values(static_cast<size_t>(tensor.element_count()));
  dispatch_dtype(tensor.dtype(), kFloatTypes, "signal op", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<compute_type_t<T>>) {
      const T* source = tensor.data<T>();
      for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(static_cast<compute_type_t<T>>(source[i]));
    }
  });
  return values;
}

// Generalized cosine window a0 - a1 cos(2πn/D) + a2 cos(4πn/D), D = N (periodic) or N-1 (symmetric).
void cosine_window(KernelContext& context, double a0, double a1, double a2) {
  const int64_t size = scalar_int(context, context.input(0), "window size");
  if (size < 0) context.invalid("window size must not be negative");
  const bool periodic = context.attribute_int("periodic", 1) != 0;
  const double denominator = static_cast<double>(periodic ? size : size - 1);
  std::vector<double> values(static_cast<size_t>(size));
  for (int64_t n = 0; n < size; ++n) {
    const double angle = denominator > 0 ? 2.0 * std::numbers::pi * static_cast<double>(n) / denominator : 0.0;
    values[static_cast<size_t>(n)] = a0 - a1 * std::cos(angle) + a2 * std::cos(2.0 * angle);
  }
  store_doubles(context.allocate_output(0, output_datatype(context), {size}), values);
}

void hann_window_kernel(KernelContext& context) { cosine_window(context, 0.5, 0.5, 0.0); }
void hamming_window_kernel(KernelContext& context) { cosine_window(context, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
void blackman_window_kernel(KernelContext& context) { cosine_window(context, 0.42, 0.5, 0.08); }

// Direct DFT of `input` (length n after zero padding / truncation) into `output` (first `bins` terms).
void transform(const std::vector<std::complex<double>>& input, int64_t n, bool inverse, int64_t bins,
               std::vector<std::complex<double>>& output) {
  output.assign(static_cast<size_t>(bins), {0.0, 0.0});
  const double sign = inverse ? 1.0 : -1.0;
  const int64_t available = std::min<int64_t>(n, static_cast<int64_t>(input.size()));
  for (int64_t k = 0; k < bins; ++k) {
    std::complex<double> sum = 0;
    for (int64_t t = 0; t < available; ++t) {
      // (k * t) mod n keeps the angle small, so large k*t loses no precision.
      const double angle = sign * 2.0 * std::numbers::pi * static_cast<double>((k * t) % n) / static_cast<double>(n);
      sum += input[static_cast<size_t>(t)] * std::complex<double>(std::cos(angle), std::sin(angle));
    }
    output[static_cast<size_t>(k)] = inverse ? sum / static_cast<double>(n) : sum;
  }
}

void dft_kernel(KernelContext& context) {
  const Tensor& signal = context.input(0);
  const int64_t rank = static_cast<int64_t>(signal.rank());
  if (rank < 3) context.invalid("DFT input must have rank >= 3 ([batch, ..., n, 1 or 2])");
  const int64_t components = signal.dim(static_cast<size_t>(rank - 1));
  if (components != 1 && components != 2) context.invalid("DFT input's last dimension must be 1 (real) or 2 (complex)");
  int64_t axis = context.attribute_int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 1 || axis > rank - 2) context.invalid("DFT axis " + std::to_string(axis) + " is out of range");
  const bool inverse = context.attribute_int("inverse", 0) != 0;
  const bool onesided = context.attribute_int("onesided", 0) != 0;
  const int64_t length = signal.dim(static_cast<size_t>(axis));
  int64_t n = length;
  if (const Tensor* dft_length = context.optional_input(1)) n = scalar_int(context, *dft_length, "dft_length");
  if (n < 1) context.invalid("DFT length must be positive");
  if (onesided && components == 2) context.invalid("onesided DFT needs a real input");
  if (onesided && inverse) context.unsupported("onesided inverse DFT is not supported");
  const int64_t bins = onesided ? n / 2 + 1 : n;
  Shape output_shape = signal.shape();
  output_shape[static_cast<size_t>(axis)] = bins;
  output_shape.back() = 2;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= signal.dim(static_cast<size_t>(i));
  for (int64_t i = axis + 1; i < rank - 1; ++i) inner *= signal.dim(static_cast<size_t>(i));
  const std::vector<double> values = load_doubles(signal);
  std::vector<double> result(static_cast<size_t>(shape_element_count(output_shape)), 0.0);
  std::vector<std::complex<double>> sequence(static_cast<size_t>(length)), spectrum;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      for (int64_t t = 0; t < length; ++t) {
        const size_t base = static_cast<size_t>(((o * length + t) * inner + in) * components);
        sequence[static_cast<size_t>(t)] = {values[base], components == 2 ? values[base + 1] : 0.0};
      }
      transform(sequence, n, inverse, bins, spectrum);
      for (int64_t k = 0; k < bins; ++k) {
        const size_t base = static_cast<size_t>(((o * bins + k) * inner + in) * 2);
        result[base] = spectrum[static_cast<size_t>(k)].real();
        result[base + 1] = spectrum[static_cast<size_t>(k)].imag();
      }
    }
  }
  store_doubles(context.allocate_output(0, signal.dtype(), output_shape), result);
}

void stft_kernel(KernelContext& context) {
  const Tensor& signal = context.input(0);
  if (signal.rank() != 3) context.invalid("STFT signal must have shape [batch, length, 1 or 2]");
  const int64_t batch = signal.dim(0), length = signal.dim(1), components = signal.dim(2);
  if (components != 1 && components != 2) context.invalid("STFT signal's last dimension must be 1 or 2");
  const int64_t step = scalar_int(context, context.input(1), "frame_step");
  if (step < 1) context.invalid("STFT frame_step must be positive");
  const Tensor* window_tensor = context.optional_input(2);
  int64_t frame_length = -1;
  if (const Tensor* frame_length_tensor = context.optional_input(3)) {
    frame_length = scalar_int(context, *frame_length_tensor, "frame_length");
  }
  std::vector<double> window;
  if (window_tensor) {
    if (window_tensor->rank() != 1) context.invalid("STFT window must be 1-D");
    if (frame_length >= 0 && frame_length != window_tensor->dim(0)) context.invalid("STFT window length differs from frame_length");
    frame_length = window_tensor->dim(0);
    window = load_doubles(*window_tensor);
  }
  if (frame_length < 1 || frame_length > length) context.invalid("STFT frame length must be in [1, signal length]");
  const bool onesided = context.attribute_int("onesided", 1) != 0;
  if (onesided && components == 2) context.invalid("onesided STFT needs a real signal");
  const int64_t bins = onesided ? frame_length / 2 + 1 : frame_length;
  const int64_t frames = (length - frame_length) / step + 1;
  const Shape output_shape{batch, frames, bins, 2};
  const std::vector<double> values = load_doubles(signal);
  std::vector<double> result(static_cast<size_t>(shape_element_count(output_shape)), 0.0);
  std::vector<std::complex<double>> frame(static_cast<size_t>(frame_length)), spectrum;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t t = 0; t < frame_length; ++t) {
        const size_t base = static_cast<size_t>((b * length + f * step + t) * components);
        const double weight = window.empty() ? 1.0 : window[static_cast<size_t>(t)];
        frame[static_cast<size_t>(t)] = {values[base] * weight, components == 2 ? values[base + 1] * weight : 0.0};
      }
      transform(frame, frame_length, false, bins, spectrum);
      for (int64_t k = 0; k < bins; ++k) {
        const size_t base = static_cast<size_t>(((b * frames + f) * bins + k) * 2);
        result[base] = spectrum[static_cast<size_t>(k)].real();
        result[base + 1] = spectrum[static_cast<size_t>(k)].imag();
      }
    }
  }
  store_doubles(context.allocate_output(0, signal.dtype(), output_shape), result);
}

// Triangular filters on the mel scale, following the ONNX reference (mel step over num_mel_bins + 2 points,
// bin edges floor((dft_length + 1) * hz / sample_rate)).
void mel_weight_matrix_kernel(KernelContext& context) {
  const int64_t mel_bins = scalar_int(context, context.input(0), "num_mel_bins");
  const int64_t dft_length = scalar_int(context, context.input(1), "dft_length");
  const int64_t sample_rate = scalar_int(context, context.input(2), "sample_rate");
  const double lower_hertz = scalar_double(context, context.input(3), "lower_edge_hertz");
  const double upper_hertz = scalar_double(context, context.input(4), "upper_edge_hertz");
  if (mel_bins < 1 || dft_length < 1 || sample_rate < 1) {
    context.invalid("num_mel_bins, dft_length and sample_rate must be positive");
  }
  const int64_t spectrogram_bins = dft_length / 2 + 1;
  const double low_mel = 2595.0 * std::log10(1.0 + lower_hertz / 700.0);
  const double high_mel = 2595.0 * std::log10(1.0 + upper_hertz / 700.0);
  const double mel_step = (high_mel - low_mel) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> edges(static_cast<size_t>(mel_bins + 2));
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double mel = static_cast<double>(i) * mel_step + low_mel;
    const double hertz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    edges[static_cast<size_t>(i)] = static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hertz /
                                                                     static_cast<double>(sample_rate)));
  }
  std::vector<double> weights(static_cast<size_t>(spectrogram_bins * mel_bins), 0.0);
  auto at = [&](int64_t row, int64_t column) -> double& {
    if (row < 0 || row >= spectrogram_bins) context.invalid("MelWeightMatrix edges fall outside the spectrogram bins");
    return weights[static_cast<size_t>(row * mel_bins + column)];
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t low = edges[static_cast<size_t>(i)], center = edges[static_cast<size_t>(i + 1)];
    const int64_t high = edges[static_cast<size_t>(i + 2)];
    if (center == low) {
      at(center, i) = 1.0;
    } else {
      for (int64_t j = low; j <= center; ++j) at(j, i) = static_cast<double>(j - low) / static_cast<double>(center - low);
    }
    if (high > center) {
      for (int64_t j = center; j < high; ++j) at(j, i) = static_cast<double>(high - j) / static_cast<double>(high - center);
    }
  }
  store_doubles(context.allocate_output(0, output_datatype(context), {spectrogram_bins, mel_bins}), weights);
}

}  // namespace

void register_signal_processing_kernels(KernelRegistry& registry) {
  registry.add("HannWindow", hann_window_kernel, 17);
  registry.add("HammingWindow", hamming_window_kernel, 17);
  registry.add("BlackmanWindow", blackman_window_kernel, 17);
  registry.add("DFT", dft_kernel, 17);
  registry.add("STFT", stft_kernel, 17);
  registry.add("MelWeightMatrix", mel_weight_matrix_kernel, 17);
}

}  // namespace npukit::runtime::ref
