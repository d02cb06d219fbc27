// npukit::Session and `npukit run` prepare a model the one same way (preparation/model_preparation.h) and run
// it on the same backend: at the same --input-shape / SessionOptions::input_shapes and the same data they give
// the same bytes.
#include <gtest/gtest.h>

#include <cstring>

#include "cli_runner.h"
#include "core/npy.h"
#include "npukit/session.h"

namespace npukit {
namespace {

using testing::CommandResult;

class SessionCliAgreement : public testing::CliRunner {};

TEST_F(SessionCliAgreement, DynamicBatchRunAtAFixedShapeGivesTheCliOutputs) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_dynamic_batch.onnx";
  Tensor images(DType::f32, {2, 3, 256, 256});
  for (int64_t i = 0; i < images.element_count(); ++i) {
    images.data<float>()[i] = static_cast<float>((i * 104729) % 1009) / 1009.0f;
  }
  write_npy(path("images.npy"), images);
  for (const std::string backend : {"cpu", "ref"}) {
    SCOPED_TRACE(backend);
    const CommandResult result =
        run("run '" + model + "' --input-shape images=2,3,256,256 -i images=" + path("images.npy") + " --backend " +
            backend + " -o " + path("out_" + backend));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const Tensor expected = read_npy(path("out_" + backend + "/output0.npy"));

    SessionOptions options;
    options.backend = backend;
    options.input_shapes["images"] = {2, 3, 256, 256};
    auto session = Session::load(model, options);
    const Tensor actual = session->run({{"images", images}}).at("output0");
    ASSERT_EQ(actual.shape(), expected.shape());
    ASSERT_EQ(actual.dim(0), 2);
    EXPECT_EQ(std::memcmp(actual.raw_data(), expected.raw_data(), expected.byte_size()), 0);
  }
}

}  // namespace
}  // namespace npukit
