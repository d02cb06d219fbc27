// The domain of ONNX Runtime's contrib operators (com.microsoft: QLinearAdd, ...). The cpu backend's QDQ fusion
// (passes/qdq_integer_fusion.h) writes them where ONNX Runtime's CPU execution provider would, and the cpu
// kernels implement them with ORT's arithmetic.
#pragma once

namespace npukit::ir {

inline constexpr const char* microsoft_domain = "com.microsoft";

}  // namespace npukit::ir
