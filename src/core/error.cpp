#include "npukit/error.h"

namespace npukit {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_model: return "invalid model";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::invalid_argument: return "invalid argument";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::resource_limit: return "resource limit";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

Error::Error(ErrorKind kind, std::string reason, std::string file, std::string node)
    : std::runtime_error(compose(reason, file, node)),
      kind_(kind),
      reason_(std::move(reason)),
      file_(std::move(file)),
      node_(std::move(node)) {}

std::string Error::compose(const std::string& reason, const std::string& file, const std::string& node) {
  std::string message;
  if (!file.empty()) message += file + ": ";
  if (!node.empty()) message += "node " + node + ": ";
  return message + reason;
}

Error Error::with_file(const std::string& file) const {
  return file_.empty() ? Error(kind_, reason_, file, node_) : *this;
}

Error Error::with_node(const std::string& node) const {
  return node_.empty() ? Error(kind_, reason_, file_, node) : *this;
}

std::string describe_node(const std::string& name, const std::string& op_type, size_t index) {
  std::string label;
  if (name.empty()) {
    label = "#" + std::to_string(index);
  } else {
    label.append("'").append(name).append("'");
  }
  return label.append(" (").append(op_type).append(")");
}

}  // namespace npukit
