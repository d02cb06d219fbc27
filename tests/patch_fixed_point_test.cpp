// Every whole model through the one preparation path: `inspect` and `check` count the same MACs and see the same
// shapes; `patch` for every built-in target reports the figures `check` finds in the file it wrote, and patching that
// file again changes nothing (the pass list ran to a fixed point).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "inspect/model_statistics.h"
#include "onnx/onnx_export.h"
#include "onnx_test_models.h"
#include "patch/patch_pipeline.h"
#include "preparation/model_preparation.h"
#include "targets/profile_loader.h"

namespace npukit::patch {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

struct WholeModel {
  std::string name;
  std::string path;
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

// The models of tools/reference_models.json at the input sizes the ONNX Runtime references use.
std::vector<WholeModel> whole_models() {
  std::ifstream list(std::filesystem::path(NPUKIT_MODELS_DIR).parent_path() / "tools" / "reference_models.json");
  std::vector<WholeModel> models;
  // A missing list must fail the tests that read it, never let them pass over zero models.
  if (!list) throw std::runtime_error("tools/reference_models.json cannot be read");
  const nlohmann::json json = nlohmann::json::parse(list);
  for (const auto& entry : json.at("models")) {
    WholeModel model{entry.at("name"), (models_directory / entry.at("model").get<std::string>()).string(), {}};
    for (const auto& [input, description] : entry.at("inputs").items()) {
      model.input_shapes[input] = description.at("shape").get<std::vector<int64_t>>();
    }
    models.push_back(std::move(model));
  }
  return models;
}

// The figures patch prints before/after and `check` prints, compared as a user would.
void expect_same_figures(const check::CheckResult& reported, const check::CheckResult& file, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(reported.nodes.size(), file.nodes.size());
  EXPECT_EQ(reported.macs_total, file.macs_total);
  EXPECT_EQ(reported.macs_accelerator, file.macs_accelerator);
  EXPECT_EQ(reported.segments.size(), file.segments.size());
  EXPECT_EQ(reported.transfers.size(), file.transfers.size());
  EXPECT_EQ(reported.transfer_bytes, file.transfer_bytes);
  for (check::Placement placement : {check::Placement::accelerator, check::Placement::accelerator_with_condition,
                                     check::Placement::fallback, check::Placement::fallback_after_first,
                                     check::Placement::rejected, check::Placement::unverified}) {
    EXPECT_EQ(reported.count(placement), file.count(placement)) << check::placement_name(placement);
  }
}

TEST(PatchWholeModelFixedPoint, InspectAndCheckCountTheSameMacsOnThePreparedModel) {
  const std::vector<WholeModel> models = whole_models();
  ASSERT_GE(models.size(), 10u) << "tools/reference_models.json lists the whole models";
  for (const WholeModel& whole : models) {
    SCOPED_TRACE(whole.name);
    preparation::PreparationOptions options;
    options.input_shapes = whole.input_shapes;
    const preparation::PreparedModel prepared = preparation::load_prepared_model(whole.path, options);
    EXPECT_EQ(prepared.report.values_with_unknown_shape, 0u);
    const inspect::ModelStatistics statistics = inspect::compute_statistics(prepared.model);
    EXPECT_TRUE(statistics.complete());
    for (const targets::TargetProfile& profile : targets::builtin_target_profiles()) {
      const check::CheckResult result = check::check_model(prepared.model, profile);
      EXPECT_TRUE(result.macs_known) << profile.id;
      EXPECT_EQ(result.macs_total, statistics.macs) << profile.id;
    }
  }
}

TEST(PatchWholeModelFixedPoint, ReportedFiguresAreTheWrittenFilesAndASecondPatchChangesNothing) {
  const std::vector<WholeModel> models = whole_models();
  ASSERT_GE(models.size(), 10u) << "tools/reference_models.json lists the whole models";
  testing::TemporaryFolder folder;
  for (const WholeModel& whole : models) {
    if (!std::filesystem::exists(whole.path)) FAIL() << whole.path << " is missing: run make models";
    preparation::PreparationOptions preparation_options;
    preparation_options.input_shapes = whole.input_shapes;
    for (const targets::TargetProfile& profile : targets::builtin_target_profiles()) {
      const std::string what = whole.name + " on " + profile.id;
      SCOPED_TRACE(what);
      ir::Model model = preparation::load_prepared_model(whole.path, preparation_options).model;
      PatchOptions options;
      const PatchReport first = patch_model(model, profile, options);
      EXPECT_LT(first.rounds, max_patch_rounds) << "the passes kept rewriting";
      EXPECT_TRUE(first.converged);
      const check::CheckResult in_memory = check::check_model(model, profile);

      const std::string written = folder.file(whole.name + "_" + profile.id + ".onnx");
      onnx_io::save_model(model, written);
      ir::Model reloaded = preparation::load_prepared_model(written).model;
      expect_same_figures(in_memory, check::check_model(reloaded, profile), what + ": patched model vs its file");

      const PatchReport second = patch_model(reloaded, profile, options);
      int rewrites = 0;
      std::string rewriting;
      for (const passes::PassResult& pass : second.passes) {
        rewrites += pass.rewrites;
        if (pass.rewrites) rewriting += " " + pass.pass;
      }
      EXPECT_EQ(rewrites, 0) << "patching the written file again rewrote:" << rewriting;
      EXPECT_EQ(second.rounds, 1);
      expect_same_figures(in_memory, check::check_model(reloaded, profile), what + ": patched twice");
    }
  }
}

}  // namespace
}  // namespace npukit::patch
