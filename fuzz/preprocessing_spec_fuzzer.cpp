// libFuzzer target: arbitrary text through the pre-processing spec parser (--preprocess on the command line).
// The only acceptable outcomes are a spec or an npukit::Error; a spec must print to text that parses back to
// the same text (preprocessing_spec_text is what reports and --json show). Build as the other fuzzers
// (CMake NPUKIT_FUZZ=ON, clang); run e.g.  build-fuzz/preprocessing_spec_fuzzer -max_total_time=30
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "npukit/error.h"
#include "vision/preprocessing_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const npukit::vision::PreprocessingSpec spec = npukit::vision::parse_preprocessing_spec(text);
    const std::string printed = npukit::vision::preprocessing_spec_text(spec);
    if (npukit::vision::preprocessing_spec_text(npukit::vision::parse_preprocessing_spec(printed)) != printed) {
      __builtin_trap();
    }
  } catch (const npukit::Error&) {
  }
  return 0;
}
