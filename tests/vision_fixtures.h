// The pictures and OpenCV results tools/make_vision_fixtures.py writes, generated once per test run into a
// temporary folder (PIL and OpenCV from Debian: python3-pil, python3-opencv, the test profile of
// tools/install_dependencies.sh).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/npy.h"
#include "vision/image.h"

namespace npukit::vision::testing {

// Removes the fixture folder when the test binary exits.
struct FixtureFolder {
  std::string path;
  ~FixtureFolder() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

// The fixture folder; empty when the script failed (the test then fails with the reason: a missing fixture is a
// defect of the set-up, never a reason to pass).
inline const std::string& vision_fixture_directory() {
  static const FixtureFolder folder{[] {
    const std::filesystem::path folder =
        std::filesystem::temp_directory_path() / ("npukit_vision_fixtures_" + std::to_string(::getpid()));
    const std::string command = std::string("/usr/bin/python3 '") + NPUKIT_MODELS_DIR +
                                "/../tools/make_vision_fixtures.py' '" + folder.string() + "' > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) return std::string();
    return folder.string();
  }()};
  return folder.path;
}

#define NPUKIT_REQUIRE_VISION_FIXTURES()                                                            \
  if (vision_fixture_directory().empty())                                                         \
  GTEST_FAIL() << "tools/make_vision_fixtures.py failed: install python3-pil and python3-opencv " \
                  "(tools/install_dependencies.sh test)"

inline std::string fixture(const std::string& name) { return vision_fixture_directory() + "/" + name; }

// A [H, W, 3] or [H, W] uint8 .npy as an RGB Image.
inline Image image_from_npy(const std::string& path) {
  const Tensor array = read_npy(path);
  Image image;
  image.height = static_cast<int>(array.dim(0));
  image.width = static_cast<int>(array.dim(1));
  const bool gray = array.rank() == 2;
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  const uint8_t* data = array.data<uint8_t>();
  for (size_t i = 0; i < static_cast<size_t>(image.width) * image.height; ++i) {
    for (int c = 0; c < 3; ++c) image.pixels[3 * i + c] = gray ? data[i] : data[3 * i + c];
  }
  return image;
}

// Largest absolute difference of two pictures of the same size; 256 when the sizes differ.
inline int largest_difference(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height) return 256;
  int largest = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) largest = std::max(largest, std::abs(a.pixels[i] - b.pixels[i]));
  return largest;
}

}  // namespace npukit::vision::testing
