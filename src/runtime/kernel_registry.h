// A table from (domain, op type) to a kernel function, with the opset range the kernel implements.
//
// Each kernel family file registers its ops in one function (see kernels/ref/ref_kernels.h); a backend
// builds its registry once and looks kernels up when a session is created.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/kernel.h"

namespace npukit::runtime {

struct KernelEntry {
  KernelFunction function = nullptr;
  int64_t first_opset = 1;      // the kernel implements versions [first_opset, last_opset]
  int64_t last_opset = 10000;
};

class KernelRegistry {
 public:
  // domain "" is the default ONNX domain. Registering the same op twice with overlapping ranges is a bug.
  void add(const std::string& op_type, KernelFunction function, int64_t first_opset = 1, int64_t last_opset = 10000,
           const std::string& domain = "");

  // nullptr when no kernel covers this op at this opset.
  const KernelEntry* find(const std::string& domain, const std::string& op_type, int64_t opset) const;
  bool has_op(const std::string& domain, const std::string& op_type) const;
  std::vector<std::pair<std::string, std::string>> ops() const;  // (domain, op type), sorted

 private:
  std::map<std::pair<std::string, std::string>, std::vector<KernelEntry>> entries_;
};

}  // namespace npukit::runtime
