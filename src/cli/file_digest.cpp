#include "cli/file_digest.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "npukit/error.h"

namespace npukit::cli {

namespace {

class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
      throw Error(ErrorKind::internal, "OpenSSL cannot start a SHA-256 digest");
    }
  }
  void add(const char* data, size_t size) {
    if (EVP_DigestUpdate(context_.get(), data, size) != 1) throw Error(ErrorKind::internal, "OpenSSL SHA-256 update failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest, &length) != 1) throw Error(ErrorKind::internal, "OpenSSL SHA-256 final failed");
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
      text += digits[digest[i] >> 4];
      text += digits[digest[i] & 15];
    }
    return text;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

}  // namespace

std::string sha256_of_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot open the file to hash it (does it exist?)", path);
  Sha256 digest;
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (file.gcount() > 0) digest.add(buffer.data(), static_cast<size_t>(file.gcount()));
  }
  if (file.bad()) throw Error(ErrorKind::io, "read error while hashing the file", path);
  return digest.hex();
}

std::string sha256_of_text(const std::string& text) {
  Sha256 digest;
  digest.add(text.data(), text.size());
  return digest.hex();
}

}  // namespace npukit::cli
