// libFuzzer target: arbitrary bytes through the picture decoders (JPEG, PNG, BMP, EXIF). The only acceptable
// outcome besides a picture is an npukit::Error; a crash, a sanitizer report or another exception is a bug.
// Build as the ONNX loader fuzzer (CMake NPUKIT_FUZZ=ON, clang); run e.g.
//   build-fuzz/image_decoding_fuzzer -max_total_time=60 CORPUS_DIR   (seed it with a few small pictures)
#include <cstddef>
#include <cstdint>

#include "npukit/error.h"
#include "npukit/tensor.h"
#include "vision/image_decoding.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Declared sizes beyond 64 MiB of f32 are refused by the limit, not by running the fuzzer out of memory.
  npukit::set_tensor_memory_limit(size_t{64} << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const npukit::vision::Image image = npukit::vision::decode_image(data, size, "fuzz");
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) __builtin_trap();
  } catch (const npukit::Error&) {
  }
  return 0;
}
