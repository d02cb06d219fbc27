// SHA-256 of a file or a text (OpenSSL's libcrypto), in lower-case hex: the identity of a model in sweep records,
// so a merged table says exactly which bytes each figure belongs to.
#pragma once

#include <string>

namespace npukit::cli {

// Throws Error(io) naming the file when it cannot be read.
std::string sha256_of_file(const std::string& path);
std::string sha256_of_text(const std::string& text);

}  // namespace npukit::cli
