#include "runtime/kernel_registry.h"

namespace npukit::runtime {

void KernelRegistry::add(const std::string& op_type, KernelFunction function, int64_t first_opset, int64_t last_opset,
                         const std::string& domain) {
  auto& entries = entries_[{domain, op_type}];
  for (const KernelEntry& entry : entries) {
    if (first_opset <= entry.last_opset && entry.first_opset <= last_opset) {
      throw Error(ErrorKind::internal, "kernel for " + op_type + " registered twice for overlapping opsets");
    }
  }
  entries.push_back(KernelEntry{function, first_opset, last_opset});
}

const KernelEntry* KernelRegistry::find(const std::string& domain, const std::string& op_type, int64_t opset) const {
  auto found = entries_.find({domain == "ai.onnx" ? "" : domain, op_type});
  if (found == entries_.end()) return nullptr;
  for (const KernelEntry& entry : found->second) {
    if (opset >= entry.first_opset && opset <= entry.last_opset) return &entry;
  }
  return nullptr;
}

bool KernelRegistry::has_op(const std::string& domain, const std::string& op_type) const {
  return entries_.count({domain == "ai.onnx" ? "" : domain, op_type}) != 0;
}

std::vector<std::pair<std::string, std::string>> KernelRegistry::ops() const {
  std::vector<std::pair<std::string, std::string>> result;
  for (const auto& [key, entries] : entries_) result.push_back(key);
  return result;
}

}  // namespace npukit::runtime
