// The one list of `quantize --algorithm` choices. Each algorithm's file declares a function that describes it;
// add it here in the order algorithms should run when several are named.
#include "quantization/quantization_algorithm.h"

#include "quantization/algorithms/adaround.h"
#include "quantization/algorithms/block_reconstruction.h"

namespace npukit::quantization {

const std::vector<QuantizationAlgorithm>& quantization_algorithms() {
  static const std::vector<QuantizationAlgorithm> algorithms = [] {
    std::vector<QuantizationAlgorithm> list;
    list.push_back(adaround_algorithm());
    list.push_back(block_reconstruction_algorithm());
    return list;
  }();
  return algorithms;
}

}  // namespace npukit::quantization
