// NumPy .npy reader and writer.
//
// The format (numpy/lib/format.py): magic "\x93NUMPY", a version byte pair, the header length (uint16 for
// version 1.0, uint32 for 2.0 and 3.0), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
// padded with spaces and a newline, then the raw elements. Files come from users and from tools, so the
// reader checks every field and the data size before it allocates anything.
#include "core/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <optional>

namespace npukit {

namespace {

constexpr char npy_magic[] = "\x93NUMPY";
constexpr size_t npy_magic_size = 6;
// A header longer than this is not something numpy writes; refusing it keeps a hostile file from making
// us read megabytes of "header".
constexpr uint32_t maximum_header_length = 1u << 20;

struct DescriptorEntry {
  const char* code;  // type code without the byte-order character
  DType dtype;
};

// The element types npukit stores that numpy can describe. bf16 and i4/u4 have no standard numpy code.
constexpr DescriptorEntry descriptor_table[] = {
    {"f4", DType::f32}, {"f8", DType::f64}, {"f2", DType::f16},  {"i1", DType::i8},
    {"u1", DType::u8},  {"i2", DType::i16}, {"u2", DType::u16},  {"i4", DType::i32},
    {"u4", DType::u32}, {"i8", DType::i64}, {"u8", DType::u64},  {"b1", DType::boolean},
};

[[noreturn]] void fail_invalid(const std::string& path, const std::string& problem) {
  throw Error(ErrorKind::invalid_argument, "not a valid .npy file: " + problem, path);
}

// A parsed header dict. Only the three keys numpy defines are accepted.
struct NpyHeader {
  std::string descriptor;
  bool fortran_order = false;
  Shape shape;
};

// Parses the small subset of Python literal syntax numpy writes: a dict of string keys to strings,
// booleans and tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool has_descriptor = false, has_fortran_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++position_;
        break;
      }
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        header.descriptor = parse_string();
        has_descriptor = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_boolean();
        has_fortran_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        has_shape = true;
      } else {
        fail("unexpected header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++position_;
      } else if (peek() != '}') {
        fail("expected ',' or '}' in the header dictionary");
      }
    }
    skip_space();
    if (position_ != text_.size()) fail("unexpected text after the header dictionary");
    if (!has_descriptor || !has_fortran_order || !has_shape) {
      fail("the header must have the keys 'descr', 'fortran_order' and 'shape'");
    }
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    fail_invalid(path_, "bad header (" + problem + ") in \"" + std::string(text_.substr(0, 200)) + "\"");
  }

  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }

  void skip_space() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) ++position_;
  }

  void expect(char wanted) {
    skip_space();
    if (peek() != wanted) fail(std::string("expected '") + wanted + "'");
    ++position_;
  }

  std::string parse_string() {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    ++position_;
    size_t end = text_.find(quote, position_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string value(text_.substr(position_, end - position_));
    position_ = end + 1;
    return value;
  }

  bool parse_boolean() {
    skip_space();
    if (text_.substr(position_, 4) == "True") {
      position_ += 4;
      return true;
    }
    if (text_.substr(position_, 5) == "False") {
      position_ += 5;
      return false;
    }
    fail("expected True or False");
  }

  Shape parse_shape() {
    expect('(');
    Shape shape;
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++position_;
        return shape;
      }
      shape.push_back(parse_dimension());
      skip_space();
      if (peek() == ',') {
        ++position_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
      if (shape.size() > 64) fail("absurd shape: more than 64 dimensions");
    }
  }

  int64_t parse_dimension() {
    skip_space();
    if (peek() == '-') fail("absurd shape: negative dimension");
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected an integer dimension");
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      int digit = peek() - '0';
      if (value > (INT64_MAX - digit) / 10) fail("absurd shape: dimension does not fit in 64 bits");
      value = value * 10 + digit;
      ++position_;
    }
    // Python 2 era files may write long integers as "3L".
    if (peek() == 'L') ++position_;
    return value;
  }

  std::string_view text_;
  const std::string& path_;
  size_t position_ = 0;
};

DType dtype_from_descriptor(const std::string& descriptor, const std::string& path) {
  if (descriptor.size() == 3) {
    char byte_order = descriptor[0];
    std::string code = descriptor.substr(1);
    for (const DescriptorEntry& entry : descriptor_table) {
      if (code != entry.code) continue;
      bool single_byte = dtype_size(entry.dtype) == 1;
      // '|' means "byte order does not apply"; for one-byte types any order mark is harmless.
      if (single_byte && (byte_order == '|' || byte_order == '<' || byte_order == '>' || byte_order == '=')) {
        return entry.dtype;
      }
      if (byte_order == '<' || byte_order == '=') return entry.dtype;  // files we read are little-endian
      if (byte_order == '>') {
        throw Error(ErrorKind::unsupported,
                    "big-endian .npy data ('" + descriptor + "') is not supported; save it little-endian "
                    "(numpy: array.astype(array.dtype.newbyteorder('<')))",
                    path);
      }
      break;
    }
  }
  throw Error(ErrorKind::unsupported,
              "the .npy element type '" + descriptor +
                  "' is not supported (supported: f4 f8 f2 i1 u1 i2 u2 i4 u4 i8 u8 b1, little-endian)",
              path);
}

const char* descriptor_for(DType dtype) {
  switch (dtype) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::f16: return "<f2";
    case DType::i8: return "|i1";
    case DType::u8: return "|u1";
    case DType::i16: return "<i2";
    case DType::u16: return "<u2";
    case DType::i32: return "<i4";
    case DType::u32: return "<u4";
    case DType::i64: return "<i8";
    case DType::u64: return "<u8";
    case DType::boolean: return "|b1";
    default: return nullptr;
  }
}

uint32_t read_little_endian(const unsigned char* bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = 0; i < count; ++i) value |= static_cast<uint32_t>(bytes[i]) << (8 * i);
  return value;
}

// What the header and the file's size tell, every check made; the stream is left at the first data byte.
struct NpyLayout {
  DType dtype = DType::undefined;
  Shape shape;
  uint64_t data_bytes = 0;
};

NpyLayout read_layout(std::ifstream& file, const std::string& path) {
  if (!file) throw Error(ErrorKind::io, "cannot open the .npy file for reading", path);
  file.seekg(0, std::ios::end);
  const std::streamoff file_size = file.tellg();
  file.seekg(0, std::ios::beg);
  if (file_size < 0) throw Error(ErrorKind::io, "cannot determine the size of the .npy file", path);

  unsigned char preamble[12] = {};
  if (file_size < 10) fail_invalid(path, "truncated: " + std::to_string(file_size) + " bytes, shorter than the preamble");
  file.read(reinterpret_cast<char*>(preamble), 8);
  if (std::memcmp(preamble, npy_magic, npy_magic_size) != 0) fail_invalid(path, "bad magic (expected \\x93NUMPY)");
  const int major_version = preamble[6];
  const int minor_version = preamble[7];
  if (major_version < 1 || major_version > 3 || minor_version != 0) {
    fail_invalid(path, "unknown format version " + std::to_string(major_version) + "." + std::to_string(minor_version));
  }
  const size_t length_bytes = major_version == 1 ? 2 : 4;
  if (static_cast<size_t>(file_size) < 8 + length_bytes) fail_invalid(path, "truncated in the header length");
  file.read(reinterpret_cast<char*>(preamble + 8), static_cast<std::streamsize>(length_bytes));
  const uint32_t header_length = read_little_endian(preamble + 8, length_bytes);
  const size_t data_offset = 8 + length_bytes + header_length;
  if (header_length > maximum_header_length) {
    fail_invalid(path, "absurd header length " + std::to_string(header_length));
  }
  if (data_offset > static_cast<size_t>(file_size)) {
    fail_invalid(path, "truncated: header of " + std::to_string(header_length) + " bytes but the file has " +
                           std::to_string(file_size) + " bytes");
  }
  std::string header_text(header_length, '\0');
  file.read(header_text.data(), header_length);
  if (!file) throw Error(ErrorKind::io, "read error in the .npy header", path);

  NpyHeader header = HeaderParser(header_text, path).parse();
  const DType dtype = dtype_from_descriptor(header.descriptor, path);
  if (header.fortran_order) {
    throw Error(ErrorKind::unsupported,
                "Fortran-order .npy data is not supported; save it in C order (numpy: np.ascontiguousarray)", path);
  }

  // Element count with overflow checks: a hostile shape must not wrap around to a small allocation.
  const uint64_t element_size = dtype_size(dtype);
  uint64_t element_count = 1;
  for (int64_t dim : header.shape) {
    if (dim != 0 && element_count > static_cast<uint64_t>(INT64_MAX) / element_size / static_cast<uint64_t>(dim)) {
      fail_invalid(path, "absurd shape " + shape_to_string(header.shape) + ": its size does not fit in 64 bits");
    }
    element_count *= static_cast<uint64_t>(dim);
  }
  const uint64_t expected_bytes = element_count * element_size;
  const uint64_t actual_bytes = static_cast<uint64_t>(file_size) - data_offset;
  if (expected_bytes != actual_bytes) {
    fail_invalid(path, "data size mismatch: shape " + shape_to_string(header.shape) + " of " +
                           std::string(dtype_name(dtype)) + " needs " + std::to_string(expected_bytes) +
                           " bytes after the header, the file has " + std::to_string(actual_bytes) +
                           (expected_bytes > actual_bytes ? " (truncated)" : ""));
  }
  return {dtype, header.shape, expected_bytes};
}

}  // namespace

Shape read_npy_shape(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return read_layout(file, path).shape;
}

Tensor read_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const NpyLayout layout = read_layout(file, path);
  const DType dtype = layout.dtype;
  Tensor tensor;
  try {
    tensor = Tensor(dtype, layout.shape);
  } catch (const Error& error) {
    throw error.with_file(path);
  }
  file.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(layout.data_bytes));
  if (!file) throw Error(ErrorKind::io, "read error in the .npy data", path);
  if (dtype == DType::boolean) {
    // numpy writes 0/1; normalise anything else so kernels can rely on bool bytes being 0 or 1.
    for (uint8_t& value : tensor.values<uint8_t>()) value = value != 0;
  }
  return tensor;
}

DType read_npy_dtype(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return read_layout(file, path).dtype;
}

Tensor read_npy_rows(const std::string& path, int64_t first, int64_t count) {
  std::ifstream file(path, std::ios::binary);
  const NpyLayout layout = read_layout(file, path);
  if (layout.shape.empty()) throw Error(ErrorKind::invalid_argument, "a scalar .npy has no rows to read", path);
  const int64_t rows = layout.shape[0];
  if (first < 0 || count < 0 || first > rows || count > rows - first) {
    throw Error(ErrorKind::invalid_argument,
                "rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") are outside the " +
                    std::to_string(rows) + " rows of shape " + shape_to_string(layout.shape),
                path);
  }
  Shape shape = layout.shape;
  shape[0] = count;
  Tensor tensor;
  try {
    tensor = Tensor(layout.dtype, shape);
  } catch (const Error& error) {
    throw error.with_file(path);
  }
  // Bytes per row: the data size over the rows (exact: read_layout checked it against the shape).
  const uint64_t row_bytes = rows == 0 ? 0 : layout.data_bytes / static_cast<uint64_t>(rows);
  file.seekg(static_cast<std::streamoff>(row_bytes * static_cast<uint64_t>(first)), std::ios::cur);
  file.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(tensor.byte_size()));
  if (!file) throw Error(ErrorKind::io, "read error in the .npy data", path);
  if (layout.dtype == DType::boolean) {
    for (uint8_t& value : tensor.values<uint8_t>()) value = value != 0;
  }
  return tensor;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  const char* descriptor = descriptor_for(tensor.dtype());
  if (!descriptor) {
    throw Error(ErrorKind::unsupported,
                "a tensor of type " + std::string(dtype_name(tensor.dtype())) +
                    " has no standard .npy element type; cast it to f32 or an integer type first",
                path);
  }
  std::string shape_text = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) shape_text += std::to_string(tensor.dim(i)) + ", ";
  if (tensor.rank() > 1) shape_text.resize(shape_text.size() - 2);  // "(2, 3)" but "(3,)" for rank 1
  if (tensor.rank() == 1) shape_text.resize(shape_text.size() - 1);
  shape_text += ")";
  std::string header =
      std::string("{'descr': '") + descriptor + "', 'fortran_order': False, 'shape': " + shape_text + ", }";

  // numpy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
  size_t length_bytes = 2;
  int major_version = 1;
  if (header.size() + 1 + 10 > 65535) {
    length_bytes = 4;
    major_version = 2;
  }
  const size_t unpadded = npy_magic_size + 2 + length_bytes + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  std::string preamble(npy_magic, npy_magic_size);
  preamble += static_cast<char>(major_version);
  preamble += '\0';
  const uint32_t header_length = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < length_bytes; ++i) preamble += static_cast<char>((header_length >> (8 * i)) & 0xff);

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw Error(ErrorKind::io, "cannot open the .npy file for writing", path);
  file.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
  file.write(header.data(), static_cast<std::streamsize>(header.size()));
  if (tensor.byte_size() > 0) {
    file.write(static_cast<const char*>(tensor.raw_data()), static_cast<std::streamsize>(tensor.byte_size()));
  }
  file.flush();
  if (!file) throw Error(ErrorKind::io, "write error (disk full or file not writable)", path);
}

}  // namespace npukit
