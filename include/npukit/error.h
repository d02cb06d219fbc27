// npukit::Error: the one exception type npukit throws for anything a user can cause or fix.
//
// Every error carries, where known, the file it came from, the node it concerns and the reason in words,
// so the CLI can print "model.onnx: node 'conv_3' (Conv): kernel rank 3 but input rank 4" and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace npukit {

enum class ErrorKind {
  invalid_model,     // the file is not a valid model (parse failure, checker failure, bad graph)
  unsupported,       // valid, but npukit cannot do it (unknown op, unsupported dtype or attribute)
  invalid_argument,  // the caller passed something wrong (input shape, dtype, option)
  io,                // a file could not be read or written
  resource_limit,    // a tensor or allocation beyond the configured limits
  internal,          // a bug in npukit: please report
};

std::string_view error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string reason, std::string file = {}, std::string node = {});

  ErrorKind kind() const { return kind_; }
  const std::string& reason() const { return reason_; }
  const std::string& file() const { return file_; }
  const std::string& node() const { return node_; }

  // Returns a copy with the file (or node) filled in when it was not known where the error was raised.
  Error with_file(const std::string& file) const;
  Error with_node(const std::string& node) const;

 private:
  static std::string compose(const std::string& reason, const std::string& file, const std::string& node);

  ErrorKind kind_;
  std::string reason_;
  std::string file_;
  std::string node_;
};

// Describes a node for error messages: "'conv_3' (Conv)" or "#12 (Conv)" when it has no name.
std::string describe_node(const std::string& name, const std::string& op_type, size_t index);

}  // namespace npukit
