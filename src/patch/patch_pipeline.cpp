#include "patch/patch_pipeline.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "check/fix_suggestions.h"
#include "check/target_check.h"
#include "passes/batchnorm_folding.h"
#include "passes/batchnorm_to_scale.h"
#include "passes/constant_folding.h"
#include "passes/conv_stride_to_pool.h"
#include "passes/decompose_gelu.h"
#include "passes/decompose_hardswish.h"
#include "passes/decompose_layernorm.h"
#include "passes/decompose_softmax.h"
#include "passes/div_to_mul.h"
#include "passes/focus_to_conv.h"
#include "passes/fuse_layernorm.h"
#include "passes/gemm_to_conv.h"
#include "passes/identity_elimination.h"
#include "passes/pow_to_mul.h"
#include "passes/resize_half_pixel.h"
#include "passes/silu_to_relu.h"
#include "passes/split_global_pool.h"
#include "passes/split_matmul_k.h"
#include "passes/split_resize_scale.h"
#include "passes/static_shapes.h"
#include "passes/yolo_postprocess_cut.h"

namespace npukit::patch {

namespace {

using passes::NodeFilter;
using passes::PassResult;

struct PatchContext {
  const targets::TargetProfile& profile;
  const PatchOptions& options;
  PatchReport& report;
  // `check` on the model as it is now. It depends on the model and the profile only, so it is computed once and
  // kept until a step changes the model (patch_model clears it then), not once per target-driven step.
  std::optional<check::CheckResult> verdicts;
};

// Nodes `check` says this pass fixes on this target, by name and op (names may repeat across exporters).
NodeFilter refused_nodes_fixed_by(const ir::Model& model, PatchContext& context, const std::string& pass) {
  if (!context.verdicts) context.verdicts = check::check_model(model, context.profile);
  const check::CheckResult& result = *context.verdicts;
  auto wanted = std::make_shared<std::set<std::pair<std::string, std::string>>>();
  for (const check::NodeVerdict& verdict : result.nodes) {
    if (verdict.patch == pass) wanted->insert({verdict.name, verdict.op_type});
  }
  return [wanted](const ir::Node& node) { return wanted->count({node.name, node.op_type}) != 0; };
}

// The largest MatMul reduction the profile allows (its MatMul "reduction_dim" rule), 0 when it sets none.
int64_t largest_matmul_k(const targets::TargetProfile& profile) {
  auto matmul = profile.ops.find("MatMul");
  if (matmul == profile.ops.end()) return 0;
  for (const targets::Rule& rule : matmul->second.rules) {
    if (rule.check == "reduction_dim" && rule.maximum) return static_cast<int64_t>(*rule.maximum);
  }
  return 0;
}

// The integer Resize factors the profile allows (its Resize "resize_scale" rule); {0, 0} when it sets none.
std::pair<int64_t, int64_t> resize_factor_range(const targets::TargetProfile& profile) {
  auto resize = profile.ops.find("Resize");
  if (resize == profile.ops.end()) return {0, 0};
  for (const targets::Rule& rule : resize->second.rules) {
    if (rule.check == "resize_scale" && rule.maximum) {
      return {static_cast<int64_t>(rule.minimum.value_or(1)), static_cast<int64_t>(*rule.maximum)};
    }
  }
  return {0, 0};
}

struct PatchStep {
  std::string name;
  std::function<PassResult(ir::Model&, PatchContext&)> run;
};

// A pass that rewrites only the nodes the target refuses and `check` attributes to it.
template <typename Pass>
PatchStep target_driven(const std::string& name, Pass pass) {
  return {name, [name, pass](ir::Model& model, PatchContext& context) {
            return pass(model, refused_nodes_fixed_by(model, context, name));
          }};
}

std::vector<PatchStep> default_steps() {
  return {
      {"static-shapes", [](ir::Model& model, PatchContext& context) {
         return passes::make_shapes_static(model, context.options.input_shapes);
       }},
      // Cleanup first, so the patterns below see the graph an NPU compiler would (BatchNorm folded into its
      // Conv, no Identity between a Conv and its activation, shape arithmetic already computed).
      {"fold-constants", [](ir::Model& model, PatchContext&) { return passes::fold_constants(model); }},
      {"fold-batchnorm", [](ir::Model& model, PatchContext&) { return passes::fold_batchnorm_into_conv(model); }},
      {"eliminate-identities", [](ir::Model& model, PatchContext&) { return passes::eliminate_identities(model); }},
      {"focus-to-conv", [](ir::Model& model, PatchContext&) { return passes::focus_to_conv(model); }},
      {"cut-yolo-postprocess", [](ir::Model& model, PatchContext& context) {
         if (!context.options.cut_yolo_postprocess) {
           PassResult skipped;
           skipped.pass = "cut-yolo-postprocess";
           skipped.notes.push_back("skipped (--keep-postprocess)");
           return skipped;
         }
         passes::YoloCutResult cut = passes::cut_yolo_postprocess(model);
         // Later rounds find no head left to cut: the sidecar of the round that cut it stays.
         if (!cut.sidecar_json.empty()) context.report.yolo_sidecar_json = cut.sidecar_json;
         return cut.pass;
       }},
      target_driven("resize-half-pixel", [](ir::Model& model, const NodeFilter& filter) {
        return passes::resize_nearest_to_half_pixel(model, filter);
      }),
      {"split-resize-scale", [](ir::Model& model, PatchContext& context) {
         auto [low, high] = resize_factor_range(context.profile);
         return passes::split_resize_scale(model, low, high,
                                           refused_nodes_fixed_by(model, context, "split-resize-scale"));
       }},
      target_driven("fuse-layernorm", [](ir::Model& model, const NodeFilter& filter) {
        return passes::fuse_layernorm(model, filter);
      }),
      target_driven("batchnorm-to-scale", [](ir::Model& model, const NodeFilter& filter) {
        return passes::batchnorm_to_scale(model, filter);
      }),
      target_driven("div-to-mul", [](ir::Model& model, const NodeFilter& filter) {
        return passes::div_to_mul(model, filter);
      }),
      {"pow-to-mul", [](ir::Model& model, PatchContext& context) {
         return passes::pow_to_mul(model, check::target_lists_op(context.profile, "Sqrt"),
                                   refused_nodes_fixed_by(model, context, "pow-to-mul"));
       }},
      {"split-global-pool", [](ir::Model& model, PatchContext& context) {
         return passes::split_global_pool(model, check::global_pool_limits(context.profile, "GlobalAveragePool"),
                                          check::global_pool_limits(context.profile, "GlobalMaxPool"),
                                          refused_nodes_fixed_by(model, context, "split-global-pool"));
       }},
      target_driven("decompose-hardswish", [](ir::Model& model, const NodeFilter& filter) {
        return passes::decompose_hardswish(model, filter);
      }),
      target_driven("decompose-layernorm", [](ir::Model& model, const NodeFilter& filter) {
        return passes::decompose_layernorm(model, filter);
      }),
      target_driven("decompose-gelu", [](ir::Model& model, const NodeFilter& filter) {
        return passes::decompose_gelu(model, filter);
      }),
      target_driven("decompose-softmax", [](ir::Model& model, const NodeFilter& filter) {
        return passes::decompose_softmax(model, filter);
      }),
      target_driven("gemm-to-conv", [](ir::Model& model, const NodeFilter& filter) {
        return passes::gemm_to_conv(model, filter);
      }),
      {"split-matmul-k", [](ir::Model& model, PatchContext& context) {
         return passes::split_matmul_k(model, largest_matmul_k(context.profile),
                                       refused_nodes_fixed_by(model, context, "split-matmul-k"));
       }},
      {"conv-stride-to-pool", [](ir::Model& model, PatchContext& context) {
         if (!context.options.optimized_path) return PassResult{"conv-stride-to-pool", 0, false, {}};
         const targets::TargetProfile& profile = context.profile;
         return passes::conv_stride_to_pool(
             model, [&profile](const ir::Node& node) { return check::plan_kept_stride(node, profile); },
             refused_nodes_fixed_by(model, context, "conv-stride-to-pool"));
       }},
  };
}

// Passes that change what the model computes: run only when the user allows retraining.
std::vector<PatchStep> retraining_steps(const PatchOptions& options) {
  std::vector<PatchStep> steps;
  if (options.allow_retraining || options.silu_to_relu) {
    steps.push_back({"silu-to-relu", [](ir::Model& model, PatchContext&) { return passes::silu_to_relu(model); }});
  }
  return steps;
}

// What the host must send once the normalization is in the model (docs/sidecar.md).
nlohmann::json input_contract(const passes::NormalizationFold& fold, const passes::InputNormalization& normalization) {
  nlohmann::json json;
  json["format"] = "npukit-input-contract/1";
  json["input"] = fold.input_name;
  json["shape"] = fold.raw_shape;
  json["dtype"] = fold.raw_dtype;
  json["layout"] = fold.raw_layout;
  json["normalization"] = "inside the model: send raw values; the model computes (x - mean) / std";
  json["folded_mean"] = normalization.mean;
  json["folded_std"] = normalization.std;
  json["mean_kept_as_sub"] = fold.mean_kept_as_sub;
  return json;
}

}  // namespace

std::vector<std::string> default_pass_names() {
  std::vector<std::string> names;
  for (const PatchStep& step : default_steps()) names.push_back(step.name);
  return names;
}

PatchReport patch_model(ir::Model& model, const targets::TargetProfile& profile, const PatchOptions& options) {
  PatchReport report;
  PatchContext context{profile, options, report, std::nullopt};
  if (options.fold_normalization) {
    // Once, before the passes: it changes the model's input, so a second round would fold twice.
    report.normalization = passes::fold_input_normalization(model, *options.fold_normalization);
    report.input_contract_json = input_contract(*report.normalization, *options.fold_normalization).dump(2);
  }
  std::vector<PatchStep> steps = default_steps();
  for (PatchStep& step : retraining_steps(options)) steps.push_back(std::move(step));
  for (report.rounds = 1; report.rounds <= max_patch_rounds; ++report.rounds) {
    int rewrites_this_round = 0;
    for (size_t index = 0; index < steps.size(); ++index) {
      PassResult result = steps[index].run(model, context);
      // A step that rewrote (or re-inferred, which it says in a note) changed what `check` would say.
      if (result.rewrites > 0 || !result.notes.empty()) context.verdicts.reset();
      if (result.pass.empty()) result.pass = steps[index].name;
      if (result.changes_meaning && result.rewrites > 0) report.needs_retraining = true;
      rewrites_this_round += result.rewrites;
      if (report.rounds == 1) {
        report.passes.push_back(std::move(result));
        continue;
      }
      PassResult& total = report.passes[index];
      total.rewrites += result.rewrites;
      if (result.rewrites > 0) {
        for (std::string& note : result.notes) total.notes.push_back(std::move(note));
      }
    }
    if (rewrites_this_round == 0) {
      report.converged = true;
      break;
    }
  }
  report.rounds = std::min(report.rounds, max_patch_rounds);
  return report;
}

}  // namespace npukit::patch
