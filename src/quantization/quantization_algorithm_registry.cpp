// The one list of `quantize --algorithm` choices. Each algorithm's file declares a function that describes it;
// add it here in the order algorithms should run when several are named.
#include "quantization/quantization_algorithm.h"
#include "quantization/algorithms/adaround.h"
#include "quantization/algorithms/bias_correction.h"
#include "quantization/algorithms/block_reconstruction.h"
#include "quantization/algorithms/clipping_search.h"
#include "quantization/algorithms/cross_layer_equalization.h"
#include "quantization/algorithms/sensitivity.h"

namespace npukit::quantization {

const std::vector<QuantizationAlgorithm>& quantization_algorithms() {
  static const std::vector<QuantizationAlgorithm> algorithms = [] {
    std::vector<QuantizationAlgorithm> list;
    list.push_back(cross_layer_equalization_algorithm());
    list.push_back(clipping_search_algorithm());
    list.push_back(adaround_algorithm());  // rounding learned before bias correction measures what is left
    list.push_back(block_reconstruction_algorithm());
    list.push_back(empirical_bias_correction_algorithm());
    list.push_back(analytic_bias_correction_algorithm());
    list.push_back(sensitivity_algorithm());  // last: it measures what the others left
    return list;
  }();
  return algorithms;
}

}  // namespace npukit::quantization
