// Calibration data sources: a .npy batch, a directory of .npy (one or several inputs), a directory of pictures;
// and the hostile cases (empty, wrong shape, wrong dtype, truncated, not a picture), each an error naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/npy.h"
#include "npukit/error.h"
#include "quantization/calibration_data.h"
#include "vision/image_encoding.h"

namespace npukit::quantization {
namespace {

namespace fs = std::filesystem;

class CalibrationData : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("npukit_calibration_data_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  // A [rows, 3, 2, 2] f32 batch whose element i is i.
  std::string write_batch(const std::string& name, int64_t rows, DType dtype = DType::f32) {
    Tensor batch(DType::f32, {rows, 3, 2, 2});
    for (int64_t i = 0; i < batch.element_count(); ++i) batch.data<float>()[i] = static_cast<float>(i);
    if (dtype == DType::f64) {
      Tensor wide(DType::f64, batch.shape());
      for (int64_t i = 0; i < batch.element_count(); ++i) wide.data<double>()[i] = static_cast<double>(i);
      batch = wide;
    }
    fs::create_directories(fs::path(path(name)).parent_path());
    write_npy(path(name), batch);
    return path(name);
  }

  static ValueInfo input(const std::string& name, std::vector<int64_t> shape, DType dtype = DType::f32) {
    ValueInfo info;
    info.name = name;
    info.dtype = dtype;
    info.shape = std::move(shape);
    return info;
  }

  static std::string error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  }

  fs::path directory_;
};

TEST_F(CalibrationData, NpyBatchIsSplitIntoSamplesOfTheModelsBatchSize) {
  const std::string file = write_batch("batch.npy", 6);
  auto source = open_calibration_source(file, {input("images", {2, 3, 2, 2})}, {});
  ASSERT_EQ(source->size(), 3u);
  const CalibrationSample sample = source->sample(1);
  EXPECT_EQ(sample.origin, file + "#1");
  const Tensor& tensor = sample.inputs.at("images");
  EXPECT_EQ(tensor.shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(tensor.data<float>()[0], 24.0f);   // rows 2 and 3: elements from 2·12
  EXPECT_EQ(tensor.data<float>()[23], 47.0f);
  EXPECT_NE(source->describe().find("3 samples"), std::string::npos);
}

TEST_F(CalibrationData, NpyBatchIsReadOneSampleAtATime) {
  // A 100-row batch (4800 bytes) under a 1 KiB tensor limit: reading it whole would be refused, each 48-byte
  // sample is not.
  const std::string file = write_batch("large.npy", 100);
  struct LimitGuard {
    size_t previous = tensor_memory_limit();
    ~LimitGuard() { set_tensor_memory_limit(previous); }
  } guard;
  set_tensor_memory_limit(1024);
  EXPECT_THROW(read_npy(file), Error);
  auto source = open_calibration_source(file, {input("images", {1, 3, 2, 2})}, {});
  ASSERT_EQ(source->size(), 100u);
  const Tensor last = source->sample(99).inputs.at("images");
  EXPECT_EQ(last.data<float>()[0], 99.0f * 12);
  EXPECT_EQ(last.data<float>()[11], 99.0f * 12 + 11);
}

TEST_F(CalibrationData, DynamicBatchTakesOneRowPerSample) {
  const std::string file = write_batch("batch.npy", 5);
  auto source = open_calibration_source(file, {input("images", {-1, 3, 2, 2})}, {});
  ASSERT_EQ(source->size(), 5u);
  EXPECT_EQ(source->sample(4).inputs.at("images").data<float>()[0], 48.0f);
}

TEST_F(CalibrationData, NpyBatchMistakesNameTheFile) {
  const std::string file = write_batch("batch.npy", 5);
  std::string message = error_of([&] { open_calibration_source(file, {input("images", {2, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("batch.npy"), std::string::npos) << message;
  EXPECT_NE(message.find("not a multiple"), std::string::npos) << message;
  message = error_of([&] { open_calibration_source(file, {input("images", {1, 3, 4, 4})}, {}); });
  EXPECT_NE(message.find("batch.npy"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 3, 4, 4]"), std::string::npos) << message;
  const std::string wide = write_batch("wide.npy", 2, DType::f64);
  message = error_of([&] { open_calibration_source(wide, {input("images", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("wide.npy"), std::string::npos) << message;
  EXPECT_NE(message.find("f64"), std::string::npos) << message;
  EXPECT_NE(message.find("astype(np.float32)"), std::string::npos) << message;
  message = error_of([&] {
    open_calibration_source(file, {input("a", {1, 3, 2, 2}), input("b", {1, 3, 2, 2})}, {});
  });
  EXPECT_NE(message.find("2 inputs"), std::string::npos) << message;
}

TEST_F(CalibrationData, TruncatedNpyIsAnErrorNamingIt) {
  const std::string file = write_batch("cut.npy", 4);
  fs::resize_file(file, fs::file_size(file) - 10);
  const std::string message = error_of([&] { open_calibration_source(file, {input("x", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("cut.npy"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST_F(CalibrationData, DirectoryOfNpyGivesOneSampleEachSortedByName) {
  write_batch("set/b.npy", 1);
  write_batch("set/a.npy", 1);
  std::ofstream(path("set/readme.txt")) << "not data";
  auto source = open_calibration_source(path("set"), {input("x", {1, 3, 2, 2})}, {});
  ASSERT_EQ(source->size(), 2u);
  EXPECT_EQ(source->sample(0).origin, path("set/a.npy"));
  EXPECT_EQ(source->sample(1).inputs.at("x").dim(0), 1);
}

TEST_F(CalibrationData, DirectoryOfNpyChecksEveryHeaderWhenOpened) {
  write_batch("set/a.npy", 1);
  write_batch("set/b.npy", 2);  // a batch of 2 where the model takes 1
  const std::string message = error_of([&] { open_calibration_source(path("set"), {input("x", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("b.npy"), std::string::npos) << message;
}

TEST_F(CalibrationData, SeveralInputsPairFilesByNameAcrossSubdirectories) {
  write_batch("set/left/001.npy", 1);
  write_batch("set/left/002.npy", 1);
  write_batch("set/right/001.npy", 1);
  write_batch("set/right/002.npy", 1);
  const std::vector<ValueInfo> inputs{input("left", {1, 3, 2, 2}), input("right", {1, 3, 2, 2})};
  auto source = open_calibration_source(path("set"), inputs, {});
  ASSERT_EQ(source->size(), 2u);
  const CalibrationSample sample = source->sample(1);
  EXPECT_EQ(sample.inputs.size(), 2u);
  EXPECT_NE(sample.origin.find("002.npy"), std::string::npos);
  fs::remove(path("set/right/002.npy"));
  const std::string message = error_of([&] { open_calibration_source(path("set"), inputs, {}); });
  EXPECT_NE(message.find("002.npy is in only one"), std::string::npos) << message;
}

TEST_F(CalibrationData, EmptyOrMissingOrMixedDirectoriesAreErrors) {
  fs::create_directories(path("empty"));
  std::string message = error_of([&] { open_calibration_source(path("empty"), {input("x", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("holds no calibration data"), std::string::npos) << message;
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
  message = error_of([&] { open_calibration_source(path("nowhere"), {input("x", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("no such file"), std::string::npos) << message;
  write_batch("mixed/a.npy", 1);
  vision::Image picture{4, 4, std::vector<uint8_t>(48, 100)};
  vision::write_jpeg(picture, path("mixed/b.jpg"));
  message = error_of([&] { open_calibration_source(path("mixed"), {input("x", {1, 3, 2, 2})}, {}); });
  EXPECT_NE(message.find("mixes .npy files"), std::string::npos) << message;
}

TEST_F(CalibrationData, PicturesArePreprocessedOneAtATimeAndABrokenOneIsNamed) {
  fs::create_directories(path("pictures"));
  vision::Image picture{8, 4, std::vector<uint8_t>(8 * 4 * 3, 200)};
  vision::write_jpeg(picture, path("pictures/a.jpg"));
  vision::write_jpeg(picture, path("pictures/c.jpg"));
  std::ofstream(path("pictures/b.jpg")) << "this is not a JPEG";
  std::ofstream(path("pictures/labels.txt")) << "cat";
  auto source = open_calibration_source(path("pictures"), {input("images", {1, 3, 16, 16})},
                                        vision::parse_preprocessing_spec("letterbox"));
  ASSERT_EQ(source->size(), 3u);
  EXPECT_NE(source->describe().find("3 pictures"), std::string::npos) << source->describe();
  EXPECT_NE(source->describe().find("letterbox=16"), std::string::npos) << source->describe();
  EXPECT_NE(source->describe().find("1 other file ignored"), std::string::npos) << source->describe();
  const CalibrationSample first = source->sample(0);
  const Tensor& tensor = first.inputs.at("images");
  EXPECT_EQ(tensor.shape(), (Shape{1, 3, 16, 16}));
  // An 8×4 grey picture letterboxed to 16×16: rows 0..3 are padding (114), the middle is the picture (≈200).
  EXPECT_NEAR(tensor.data<float>()[0], 114.0f / 255, 1e-6);
  EXPECT_NEAR(tensor.data<float>()[8 * 16 + 8], 200.0f / 255, 3.0f / 255);  // JPEG may move a grey level
  const std::string message = error_of([&] { source->sample(1); });
  EXPECT_NE(message.find("b.jpg"), std::string::npos) << message;
  EXPECT_EQ(source->sample(2).origin, path("pictures/c.jpg"));
  ASSERT_TRUE(source->preprocessing().has_value());
  EXPECT_EQ(source->preprocessing()->height, 16);
}

TEST_F(CalibrationData, PicturesForAModelThatIsNotAPictureModelAreRefused) {
  fs::create_directories(path("pictures"));
  vision::Image picture{4, 4, std::vector<uint8_t>(48, 10)};
  vision::write_jpeg(picture, path("pictures/a.jpg"));
  std::string message =
      error_of([&] { open_calibration_source(path("pictures"), {input("tokens", {1, 128}, DType::i64)}, {}); });
  EXPECT_NE(message.find("not a picture input"), std::string::npos) << message;
  message = error_of([&] { open_calibration_source(path("pictures"), {input("images", {1, 3, -1, -1})}, {}); });
  EXPECT_NE(message.find("dynamic height"), std::string::npos) << message;
  auto source = open_calibration_source(path("pictures"), {input("images", {1, 3, -1, -1})},
                                        vision::parse_preprocessing_spec("resize=8x12"));
  EXPECT_EQ(source->sample(0).inputs.at("images").shape(), (Shape{1, 3, 8, 12}));
}

}  // namespace
}  // namespace npukit::quantization
