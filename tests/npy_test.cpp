// .npy reader/writer: round trips of every dtype, byte-compatibility with numpy, and each kind of bad file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "core/float16.h"
#include "core/npy.h"

namespace npukit {
namespace {

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("npukit_npy_test_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  std::string write_bytes(const std::string& name, const std::string& bytes) const {
    std::string file_path = path(name);
    std::ofstream file(file_path, std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file_path;
  }

  static std::string read_bytes(const std::string& file_path) {
    std::ifstream file(file_path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

  // A version 1.0 file with the given header dict text, padded as numpy pads it, followed by `data`.
  static std::string npy_bytes(const std::string& header_dict, const std::string& data, int version = 1) {
    std::string header = header_dict;
    size_t length_bytes = version == 1 ? 2 : 4;
    size_t unpadded = 6 + 2 + length_bytes + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string bytes("\x93NUMPY", 6);
    bytes += static_cast<char>(version);
    bytes += '\0';
    for (size_t i = 0; i < length_bytes; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return bytes + header + data;
  }

  // Expects read_npy to throw an Error of `kind` whose message names the file and contains `words`.
  void expect_read_error(const std::string& file_path, ErrorKind kind, const std::string& words) {
    try {
      read_npy(file_path);
      FAIL() << "expected an error reading " << file_path;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), kind) << error.what();
      EXPECT_EQ(error.file(), file_path);
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos)
          << "message '" << error.what() << "' lacks '" << words << "'";
    }
  }

  std::filesystem::path directory_;
};

template <typename T>
void expect_round_trip(const std::string& file_path, DType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor original = Tensor::from_vector<T>(dtype, shape, values);
  write_npy(file_path, original);
  Tensor loaded = read_npy(file_path);
  ASSERT_EQ(loaded.dtype(), dtype) << dtype_name(dtype);
  ASSERT_EQ(loaded.shape(), shape) << dtype_name(dtype);
  ASSERT_EQ(loaded.byte_size(), original.byte_size());
  EXPECT_EQ(std::memcmp(loaded.raw_data(), original.raw_data(), original.byte_size()), 0) << dtype_name(dtype);
}

TEST_F(NpyTest, RoundTripsEveryDtype) {
  expect_round_trip<float>(path("f32.npy"), DType::f32, {2, 3}, {1.5f, -2.0f, 0.0f, 3.25e-8f, 1e30f, -7.0f});
  expect_round_trip<double>(path("f64.npy"), DType::f64, {3}, {1.0 / 3.0, -1e300, 0.0});
  expect_round_trip<uint16_t>(path("f16.npy"), DType::f16, {2, 2},
                              {Float16(1.0f).bits, Float16(-0.5f).bits, Float16(65504.0f).bits, 0x0001});
  expect_round_trip<int8_t>(path("i8.npy"), DType::i8, {4}, {-128, -1, 0, 127});
  expect_round_trip<uint8_t>(path("u8.npy"), DType::u8, {2, 1, 2}, {0, 1, 128, 255});
  expect_round_trip<int16_t>(path("i16.npy"), DType::i16, {3}, {-32768, 0, 32767});
  expect_round_trip<uint16_t>(path("u16.npy"), DType::u16, {2}, {0, 65535});
  expect_round_trip<int32_t>(path("i32.npy"), DType::i32, {1, 3}, {INT32_MIN, 7, INT32_MAX});
  expect_round_trip<uint32_t>(path("u32.npy"), DType::u32, {2}, {0u, UINT32_MAX});
  expect_round_trip<int64_t>(path("i64.npy"), DType::i64, {2}, {INT64_MIN, INT64_MAX});
  expect_round_trip<uint64_t>(path("u64.npy"), DType::u64, {1}, {UINT64_MAX});
  expect_round_trip<uint8_t>(path("bool.npy"), DType::boolean, {5}, {1, 0, 0, 1, 1});
}

TEST_F(NpyTest, RoundTripsScalarsAndEmptyTensors) {
  expect_round_trip<float>(path("scalar.npy"), DType::f32, {}, {42.0f});
  expect_round_trip<float>(path("empty.npy"), DType::f32, {0, 3}, {});
  expect_round_trip<int64_t>(path("rank1.npy"), DType::i64, {1}, {-5});
}

TEST_F(NpyTest, WritesExactlyWhatNumpyWrites) {
  // Bytes of np.save(f, np.arange(6, dtype='<i4').reshape(2, 3)) from numpy 1.24.
  std::string expected = npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                                   std::string("\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5\0\0\0", 24));
  ASSERT_EQ(expected.size(), 128u + 24u);  // numpy aligns the data to 64 bytes
  write_npy(path("arange.npy"), Tensor::from_vector<int32_t>(DType::i32, {2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(read_bytes(path("arange.npy")), expected);

  std::string rank1 = read_bytes((write_npy(path("b.npy"), Tensor(DType::boolean, {3})), path("b.npy")));
  EXPECT_NE(rank1.find("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }"), std::string::npos);
  std::string scalar = read_bytes((write_npy(path("s.npy"), Tensor(DType::f64, {})), path("s.npy")));
  EXPECT_NE(scalar.find("'shape': (), }"), std::string::npos);
}

TEST_F(NpyTest, ReadsVersionTwoAndThreeAndOtherKeyOrders) {
  std::string data(8, '\0');
  float values[2] = {2.5f, -1.0f};
  std::memcpy(data.data(), values, 8);
  for (int version : {2, 3}) {
    std::string file_path = write_bytes("v" + std::to_string(version) + ".npy",
                                        npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, version));
    Tensor tensor = read_npy(file_path);
    ASSERT_EQ(tensor.shape(), (Shape{2}));
    EXPECT_EQ(tensor.data<float>()[0], 2.5f);
    EXPECT_EQ(tensor.data<float>()[1], -1.0f);
  }
  Tensor reordered = read_npy(
      write_bytes("order.npy", npy_bytes("{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", data)));
  EXPECT_EQ(reordered.shape(), (Shape{1, 2}));
  EXPECT_EQ(reordered.data<float>()[1], -1.0f);
}

TEST_F(NpyTest, MissingFileIsAnIoError) {
  expect_read_error(path("does_not_exist.npy"), ErrorKind::io, "cannot open");
}

TEST_F(NpyTest, BigEndianIsUnsupported) {
  expect_read_error(
      write_bytes("big.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'))),
      ErrorKind::unsupported, "big-endian");
}

TEST_F(NpyTest, FortranOrderIsUnsupported) {
  expect_read_error(
      write_bytes("fortran.npy",
                  npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, '\0'))),
      ErrorKind::unsupported, "Fortran");
}

TEST_F(NpyTest, UnknownElementTypeIsUnsupported) {
  expect_read_error(
      write_bytes("complex.npy", npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0'))),
      ErrorKind::unsupported, "'<c8'");
}

TEST_F(NpyTest, BadMagicIsInvalid) {
  std::string bytes = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'));
  bytes[1] = 'X';
  expect_read_error(write_bytes("magic.npy", bytes), ErrorKind::invalid_argument, "bad magic");
}

TEST_F(NpyTest, UnknownVersionIsInvalid) {
  std::string bytes = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'));
  bytes[6] = 9;
  expect_read_error(write_bytes("version.npy", bytes), ErrorKind::invalid_argument, "version 9.0");
}

TEST_F(NpyTest, TruncatedFilesAreInvalid) {
  std::string complete =
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", std::string(16, '\0'));
  expect_read_error(write_bytes("empty.npy", ""), ErrorKind::invalid_argument, "truncated");
  expect_read_error(write_bytes("preamble.npy", complete.substr(0, 9)), ErrorKind::invalid_argument, "truncated");
  expect_read_error(write_bytes("header.npy", complete.substr(0, 40)), ErrorKind::invalid_argument, "truncated");
  expect_read_error(write_bytes("data.npy", complete.substr(0, complete.size() - 3)), ErrorKind::invalid_argument,
                    "truncated");
}

TEST_F(NpyTest, DataSizeMismatchIsInvalid) {
  // Too many bytes after the header: the shape and the data disagree.
  expect_read_error(
      write_bytes("extra.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", std::string(8, '\0'))),
      ErrorKind::invalid_argument, "data size mismatch");
}

TEST_F(NpyTest, BadHeadersAreInvalid) {
  const std::string data(4, '\0');
  const char* bad_headers[] = {
      "not a dict",
      "{'descr': '<f4', 'fortran_order': False}",                              // no shape
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",   // unknown key
      "{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }",             // not a boolean
      "{'descr': '<f4', 'fortran_order': False, 'shape': (one,), }",           // not an integer
      "{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }",              // broken quoting
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",                // missing comma
  };
  int index = 0;
  for (const char* header : bad_headers) {
    SCOPED_TRACE(header);
    expect_read_error(write_bytes("header" + std::to_string(index++) + ".npy", npy_bytes(header, data)),
                      ErrorKind::invalid_argument, "bad header");
  }
}

TEST_F(NpyTest, AbsurdShapesAreInvalidWithoutAllocating) {
  const std::string data(4, '\0');
  expect_read_error(
      write_bytes("negative.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", data)),
      ErrorKind::invalid_argument, "negative");
  expect_read_error(write_bytes("overflow.npy",
                                npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                          "'shape': (4611686018427387904, 4611686018427387904), }",
                                          data)),
                    ErrorKind::invalid_argument, "absurd shape");
  expect_read_error(write_bytes("huge_digits.npy",
                                npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                          "'shape': (99999999999999999999999,), }",
                                          data)),
                    ErrorKind::invalid_argument, "absurd shape");
  // A shape of 2^40 floats is a size mismatch against a 4-byte payload, not a 4 TiB allocation.
  expect_read_error(
      write_bytes("large.npy",
                  npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", data)),
      ErrorKind::invalid_argument, "data size mismatch");
}

TEST_F(NpyTest, AbsurdHeaderLengthIsInvalid) {
  std::string bytes("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 14);
  expect_read_error(write_bytes("header_length.npy", bytes), ErrorKind::invalid_argument, "header length");
}

TEST_F(NpyTest, WritingUnrepresentableTypesOrPathsFails) {
  try {
    write_npy(path("bf16.npy"), Tensor(DType::bf16, {2}));
    FAIL() << "bf16 has no numpy element type";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
  try {
    write_npy(path("no_such_folder/x.npy"), Tensor(DType::f32, {2}));
    FAIL() << "expected an io error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::io);
  }
}

}  // namespace
TEST_F(NpyTest, ShapeFromTheHeaderAloneWithTheSameChecks) {
  const std::string file_path = path("image.npy");
  write_npy(file_path, Tensor(DType::f32, {2, 3, 5}));
  EXPECT_EQ(read_npy_shape(file_path), (Shape{2, 3, 5}));
  // A file whose data is cut short is refused as read_npy refuses it, though the data is not read.
  const std::string truncated = write_bytes("short.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", std::string(8, '\0')));
  try {
    read_npy_shape(truncated);
    FAIL() << "a truncated file must be refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.file(), truncated);
    EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
  }
}

}  // namespace npukit
