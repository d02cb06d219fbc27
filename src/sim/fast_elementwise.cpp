// IntegerAdd, IntegerMul, IntegerRequantize, IntegerLookupTable and IntegerQuantize on the sim backend, fast,
// for 8-bit tensors (Add and Mul: of one shape, no broadcasting; Quantize: sim/vector_quantize.h). Each element does the plain kernel's integer steps
// (runtime/kernels/integer/elementwise.cpp, requantize.cpp, lookup_table.cpp) in blocks: the per-input
// rescaling of Add and the output stage run through VectorOutputStage, eight lanes at a time. Add and Mul run
// those steps once, at preparation, over every pair of input bytes, and then look each output up (apply_pair_table).
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "npukit/error.h"
#include "runtime/kernels/cpu/qlinear_lookup.h"
#include "sim/fast_integer_kernels.h"
#include "sim/vector_output_stage.h"
#include "sim/vector_quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace npukit::sim {

namespace {

constexpr int64_t kBlock = 1024;

bool is_eight_bit(DType dtype) { return dtype == DType::i8 || dtype == DType::u8; }

DType grid_of(const ir::Value* value) { return value->quant ? value->quant->storage : value->type.dtype; }

// Widens `count` bytes of an 8-bit tensor from `first` and subtracts the zero point (the compiler vectorizes it).
void centred(const Tensor& tensor, int64_t first, int64_t count, int32_t zero_point, int32_t* out) {
  if (tensor.dtype() == DType::u8) {
    const uint8_t* data = tensor.data<uint8_t>() + first;
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>(data[i]) - zero_point;
  } else {
    const int8_t* data = tensor.data<int8_t>() + first;
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>(data[i]) - zero_point;
  }
}

// Every (a, b) pair of bytes: a = i >> 8, b = i & 255 for i < 65536 (the bit patterns of a's and b's grids).
std::pair<Tensor, Tensor> every_byte_pair(DType a_type, DType b_type) {
  Tensor a(a_type, {256 * 256}), b(b_type, {256 * 256});
  auto* a_bytes = static_cast<uint8_t*>(a.raw_data());
  auto* b_bytes = static_cast<uint8_t*>(b.raw_data());
  for (int i = 0; i < 256 * 256; ++i) {
    a_bytes[i] = static_cast<uint8_t>(i >> 8);
    b_bytes[i] = static_cast<uint8_t>(i & 255);
  }
  return {std::move(a), std::move(b)};
}

// The table of every byte pair for a binary op: `compute(a, b, out)` (the op's own arithmetic) over the 65 536
// pairs of every_byte_pair, padded with the three bytes apply_pair_table_avx512 reads past the last index.
template <typename Compute>
std::vector<uint8_t> pair_table_of(DType a_type, DType b_type, DType output_type, const Compute& compute) {
  auto [a, b] = every_byte_pair(a_type, b_type);
  Tensor table(output_type, {256 * 256});
  compute(a, b, table);
  const auto* bytes = static_cast<const uint8_t*>(table.raw_data());
  std::vector<uint8_t> result(bytes, bytes + 256 * 256);
  result.resize(256 * 256 + 3);
  return result;
}

// out[i] = table[a[i] · 256 + b[i]]: a binary op of two 8-bit tensors as a function of the two bytes, whose
// 64 KiB table (computed once by the op's own block arithmetic below over every pair) stays in L2. Add and Mul
// are element-wise functions of (a, b) alone, so the table gives their bytes exactly, at a few times the speed.
#if defined(__x86_64__) && defined(__GNUC__)
// Sixteen lookups per gather: each lane reads four bytes at its index (the table has three bytes of slack at its
// end) and keeps the first.
__attribute__((target("avx512f"))) void apply_pair_table_avx512(const uint8_t* a, const uint8_t* b, uint8_t* out,
                                                                int64_t count, const uint8_t* table) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m512i high = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m512i low = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    const __m512i index = _mm512_or_si512(_mm512_slli_epi32(high, 8), low);
    const __m512i looked_up = _mm512_i32gather_epi32(index, table, 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(looked_up));
  }
  for (; i < count; ++i) out[i] = table[(size_t{a[i]} << 8) | b[i]];
}
#endif

void apply_pair_table(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t count, const uint8_t* table) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return apply_pair_table_avx512(a, b, out, count, table);
#endif
  for (int64_t i = 0; i < count; ++i) out[i] = table[(size_t{a[i]} << 8) | b[i]];
}

// A per-tensor output stage applied to a block of `count` values: VectorOutputStage over one row.
class BlockStage {
 public:
  explicit BlockStage(const runtime::integer::OutputStage& stage) : stage_(stage, kBlock) {}
  // `values` -> bytes (the stage's dtype) at out.
  void finish(const int32_t* values, int64_t count, void* out) const {
    if (count == kBlock) return stage_.finish_rows(values, 1, out);
    // The last, shorter block: the same arithmetic one element at a time.
    for (int64_t i = 0; i < count; ++i) {
      const int32_t value = stage_.stage().finish(values[i], 0);
      if (stage_.dtype() == DType::u8) {
        static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value);
      } else {
        static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value);
      }
    }
  }
  DType dtype() const { return stage_.dtype(); }

 private:
  VectorOutputStage stage_;
};

// Add: both inputs centred and shifted left, each rescaled by its own requantizer (int32), summed, finished.
class FastAdd final : public runtime::NodeExecutable {
 public:
  FastAdd(const runtime::integer::AddParameters& parameters, DType a_type, DType b_type)
      : parameters_(parameters), a_type_(a_type), b_type_(b_type), output_(parameters.output),
        a_rescale_(parameters.a_requantizer, kBlock), b_rescale_(parameters.b_requantizer, kBlock) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    if (a.dtype() != a_type_ || b.dtype() != b_type_ || a.shape() != b.shape()) {
      context.set_output(0, runtime::integer::add(a, b, parameters_));
      return;
    }
    Tensor& output = context.allocate_output(0, output_.dtype(), a.shape());
    apply_pair_table(static_cast<const uint8_t*>(a.raw_data()), static_cast<const uint8_t*>(b.raw_data()),
                     static_cast<uint8_t*>(output.raw_data()), a.element_count(), table_.data());
  }

 private:
  // The plain kernel's steps in blocks (what the table holds for every pair).
  void compute(const Tensor& a, const Tensor& b, Tensor& output) const {
    const int64_t count = a.element_count();
    std::array<int32_t, kBlock> x{}, y{};
    const int32_t shift = int32_t{1} << parameters_.left_shift;
    for (int64_t first = 0; first < count; first += kBlock) {
      const int64_t n = std::min(kBlock, count - first);
      centred(a, first, n, parameters_.a_zero_point, x.data());
      centred(b, first, n, parameters_.b_zero_point, y.data());
      for (int64_t i = 0; i < n; ++i) {
        x[static_cast<size_t>(i)] *= shift;
        y[static_cast<size_t>(i)] *= shift;
      }
      rescale(a_rescale_, x.data(), n);
      rescale(b_rescale_, y.data(), n);
      for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] += y[static_cast<size_t>(i)];
      output_.finish(x.data(), n, static_cast<uint8_t*>(output.raw_data()) + first);
    }
  }

  static void rescale(const VectorOutputStage& stage, int32_t* values, int64_t count) {
    if (count == kBlock) return stage.rescale_rows(values, 1, values);
    for (int64_t i = 0; i < count; ++i) values[i] = stage.stage().requantizer.apply(values[i], 0);
  }

  runtime::integer::AddParameters parameters_;
  DType a_type_, b_type_;
  BlockStage output_;
  VectorOutputStage a_rescale_, b_rescale_;
  std::vector<uint8_t> table_ = pair_table_of(
      a_type_, b_type_, output_.dtype(), [this](const Tensor& a, const Tensor& b, Tensor& out) { compute(a, b, out); });
};

class FastMul final : public runtime::NodeExecutable {
 public:
  FastMul(const runtime::integer::MulParameters& parameters, DType a_type, DType b_type)
      : parameters_(parameters), a_type_(a_type), b_type_(b_type), output_(parameters.output) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    if (a.dtype() != a_type_ || b.dtype() != b_type_ || a.shape() != b.shape()) {
      context.set_output(0, runtime::integer::mul(a, b, parameters_));
      return;
    }
    Tensor& output = context.allocate_output(0, output_.dtype(), a.shape());
    apply_pair_table(static_cast<const uint8_t*>(a.raw_data()), static_cast<const uint8_t*>(b.raw_data()),
                     static_cast<uint8_t*>(output.raw_data()), a.element_count(), table_.data());
  }

 private:
  // The plain kernel's steps in blocks (what the table holds for every pair).
  void compute(const Tensor& a, const Tensor& b, Tensor& output) const {
    const int64_t count = a.element_count();
    std::array<int32_t, kBlock> x{}, y{};
    for (int64_t first = 0; first < count; first += kBlock) {
      const int64_t n = std::min(kBlock, count - first);
      centred(a, first, n, parameters_.a_zero_point, x.data());
      centred(b, first, n, parameters_.b_zero_point, y.data());
      for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] *= y[static_cast<size_t>(i)];
      output_.finish(x.data(), n, static_cast<uint8_t*>(output.raw_data()) + first);
    }
  }

  runtime::integer::MulParameters parameters_;
  DType a_type_, b_type_;
  BlockStage output_;
  std::vector<uint8_t> table_ = pair_table_of(
      a_type_, b_type_, output_.dtype(), [this](const Tensor& a, const Tensor& b, Tensor& out) { compute(a, b, out); });
};

class FastRequantize final : public runtime::NodeExecutable {
 public:
  FastRequantize(const runtime::integer::RequantizeParameters& parameters, DType input_type)
      : parameters_(parameters), input_type_(input_type), output_(parameters.output) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != input_type_) {
      context.set_output(0, runtime::integer::requantize(input, parameters_));
      return;
    }
    Tensor& output = context.allocate_output(0, output_.dtype(), input.shape());
    const int64_t count = input.element_count();
    std::array<int32_t, kBlock> x{};
    for (int64_t first = 0; first < count; first += kBlock) {
      const int64_t n = std::min(kBlock, count - first);
      centred(input, first, n, parameters_.input_zero_point, x.data());
      output_.finish(x.data(), n, static_cast<uint8_t*>(output.raw_data()) + first);
    }
  }

 private:
  runtime::integer::RequantizeParameters parameters_;
  DType input_type_;
  BlockStage output_;
};

// A table over every value of an 8-bit input: the stored byte indexes 256 output bytes.
class FastLookupTable final : public runtime::NodeExecutable {
 public:
  FastLookupTable(const runtime::integer::LookupTable& table, DType input_type) : table_(table), input_type_(input_type) {
    for (int byte = 0; byte < 256; ++byte) {
      const int32_t value = input_type == DType::i8 ? static_cast<int8_t>(byte) : byte;
      const int32_t result = table.values[static_cast<size_t>(value - table.input_minimum)];
      bytes_[static_cast<size_t>(byte)] = static_cast<uint8_t>(result);  // an 8-bit output: its bit pattern
    }
  }

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != input_type_) {
      context.set_output(0, runtime::integer::look_up(input, table_));
      return;
    }
    Tensor& output = context.allocate_output(0, table_.output_dtype, input.shape());
    const auto* in = static_cast<const uint8_t*>(input.raw_data());
    auto* out = static_cast<uint8_t*>(output.raw_data());
    const int64_t count = input.element_count();
    // The cpu backend's table loop (64 bytes per AVX-512 VBMI permute where the CPU has it): byte by byte,
    // YOLOv8n's tables ran at half the speed once their inputs were held channels-last.
    runtime::cpu::int8::apply_byte_table(in, out, count, bytes_);
  }

 private:
  runtime::integer::LookupTable table_;
  DType input_type_;
  std::array<uint8_t, 256> bytes_{};
};

// Quantize of a float tensor onto an 8-bit grid (sim/vector_quantize.h).
class FastQuantize final : public runtime::NodeExecutable {
 public:
  explicit FastQuantize(const runtime::integer::QuantizeParameters& parameters) : parameters_(parameters) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32) {
      context.set_output(0, runtime::integer::quantize(input, parameters_));  // says what is wrong
      return;
    }
    Tensor& output = context.allocate_output(0, parameters_.dtype, input.shape());
    quantize_to_bytes(input.data<float>(), input.element_count(), parameters_, output.raw_data());
  }

 private:
  runtime::integer::QuantizeParameters parameters_;
};

bool eight_bit_inputs(const ir::Node& node, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!node.input(i) || !is_eight_bit(grid_of(node.input(i)))) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<runtime::NodeExecutable> prepare_fast_add(const ir::Node& node, const runtime::integer::AddParameters& parameters) {
  if (!eight_bit_inputs(node, 2) || VectorOutputStage::unsupported_reason(parameters.output)) return nullptr;
  if (VectorOutputStage::unsupported_rescaling_reason(parameters.a_requantizer) ||
      VectorOutputStage::unsupported_rescaling_reason(parameters.b_requantizer)) {
    return nullptr;
  }
  return std::make_unique<FastAdd>(parameters, grid_of(node.input(0)), grid_of(node.input(1)));
}

std::unique_ptr<runtime::NodeExecutable> prepare_fast_mul(const ir::Node& node, const runtime::integer::MulParameters& parameters) {
  if (!eight_bit_inputs(node, 2) || VectorOutputStage::unsupported_reason(parameters.output)) return nullptr;
  return std::make_unique<FastMul>(parameters, grid_of(node.input(0)), grid_of(node.input(1)));
}

std::unique_ptr<runtime::NodeExecutable> prepare_fast_requantize(const ir::Node& node,
                                                                 const runtime::integer::RequantizeParameters& parameters) {
  if (!eight_bit_inputs(node, 1) || VectorOutputStage::unsupported_reason(parameters.output)) return nullptr;
  return std::make_unique<FastRequantize>(parameters, grid_of(node.input(0)));
}

std::unique_ptr<runtime::NodeExecutable> prepare_fast_lookup_table(const ir::Node& node,
                                                                   const runtime::integer::LookupTable& table) {
  if (!eight_bit_inputs(node, 1) || !is_eight_bit(table.output_dtype)) return nullptr;
  const DType input_type = grid_of(node.input(0));
  const int32_t lowest = input_type == DType::i8 ? -128 : 0;
  // The table must cover every byte value; a narrower one goes to the plain kernel, which reports the miss.
  if (table.input_minimum > lowest || table.input_minimum + static_cast<int64_t>(table.values.size()) < lowest + 256) return nullptr;
  return std::make_unique<FastLookupTable>(table, input_type);
}

std::unique_ptr<runtime::NodeExecutable> prepare_fast_quantize(const runtime::integer::QuantizeParameters& parameters) {
  // The grid's bounds must fit the byte type the output is stored as.
  const int32_t lowest = parameters.dtype == DType::i8 ? -128 : 0;
  if (!is_eight_bit(parameters.dtype) || parameters.minimum < lowest || parameters.maximum > lowest + 255 ||
      parameters.minimum > parameters.maximum) {
    return nullptr;
  }
  return std::make_unique<FastQuantize>(parameters);
}

}  // namespace npukit::sim
