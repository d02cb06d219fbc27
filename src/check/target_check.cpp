#include "check/target_check.h"

#include <algorithm>
#include <map>
#include <set>

#include "check/fix_suggestions.h"
#include "inspect/node_cost.h"
#include "npukit/dtype.h"
#include "passes/layernorm_pattern.h"
#include "passes/yolo_head_detection.h"

namespace npukit::check {

namespace {

using targets::FallbackPolicy;
using targets::TargetProfile;
using targets::UnlistedOps;

// Ops that compilers drop at inference: they compute nothing.
bool is_no_op(const std::string& op) { return op == "Identity" || op == "Dropout"; }

// Ops whose output depends on more than their inputs: never folded even when their inputs are constant.
bool is_nondeterministic(const std::string& op) {
  return op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike" || op == "RandomUniformLike" ||
         op == "Multinomial" || op == "Bernoulli";
}

bool has_static_shape(const ir::Value* value) { return value && value->type.has_static_shape(); }

// Nodes every NPU compiler evaluates at build time: constant inputs only, or the shape of a static tensor.
std::set<const ir::Node*> find_folded_nodes(const ir::Graph& graph) {
  std::set<const ir::Node*> folded;
  std::set<const ir::Value*> constant_values;
  for (const auto& value : graph.values()) {
    if (value->initializer) constant_values.insert(value.get());
  }
  for (const auto& owned : graph.nodes()) {
    const ir::Node& node = *owned;
    // Control flow carries subgraphs whose constants are out of view here: never folded.
    if (is_nondeterministic(node.op_type) || node.op_type == "If" || node.op_type == "Loop" || node.op_type == "Scan") continue;
    bool constant = true;
    if ((node.op_type == "Shape" || node.op_type == "Size") && has_static_shape(node.input(0))) {
      constant = true;
    } else {
      for (const ir::Value* input : node.inputs) {
        if (input && !constant_values.count(input)) constant = false;
      }
    }
    if (constant || is_no_op(node.op_type)) {
      folded.insert(&node);
      // A no-op's output is as constant as its input; a folded node's outputs are constants.
      if (constant) {
        for (const ir::Value* output : node.outputs) {
          if (output) constant_values.insert(output);
        }
      }
    }
  }
  return folded;
}

std::optional<int64_t> value_bytes(const ir::Value* value) {
  auto count = inspect::static_element_count(value);
  size_t element_size = dtype_size(value->type.dtype);
  if (!count || element_size == 0) return std::nullopt;
  return *count * static_cast<int64_t>(element_size);
}

std::string policy_name(FallbackPolicy policy) {
  switch (policy) {
    case FallbackPolicy::per_segment: return "per_segment";
    case FallbackPolicy::after_first_unsupported: return "after_first_unsupported";
    case FallbackPolicy::none: return "none";
  }
  return "per_segment";
}

// Places one node by the profile's op list and rules, before any policy that depends on other nodes (folding,
// after-first-unsupported). Fills placement, reason, findings, patch and fix; returns whether the NPU refuses it.
// `in_written_layernorm`: the node is a piece of a LayerNorm written out by hand (fuse-layernorm can make it one op).
bool evaluate_node_into(NodeVerdict& verdict, const ir::Node& node, const TargetProfile& profile,
                        const ConstantPredicate& is_constant, bool in_written_layernorm) {
  std::vector<std::string> refusal_checks;  // every refused rule's check, for the patch suggestion
  bool refused = false;
  const std::string label = describe_op_kind(node);
  const bool rejected_op =
      std::find(profile.rejected_ops.begin(), profile.rejected_ops.end(), node.op_type) != profile.rejected_ops.end();
  const bool listed = target_lists_op(profile, node.op_type);
  if (rejected_op) {
    verdict.placement = Placement::rejected;
    verdict.reason = node.op_type + " is not supported by " + profile.toolkit + ": cut it off the graph and run it on the host";
    refused = true;
  } else if (!listed) {
    const bool known_fallback =
        std::find(profile.fallback_ops.begin(), profile.fallback_ops.end(), node.op_type) != profile.fallback_ops.end();
    if (profile.unlisted_ops == UnlistedOps::unverified && !known_fallback) {
      verdict.placement = Placement::unverified;
      verdict.reason = node.op_type + " is not in the public op list of " + profile.name + ": cannot verify";
    } else {
      refused = true;
      verdict.reason = node.op_type + " is not in the " + profile.accelerator_name + " op list of " + profile.name;
      if (profile.unlisted_ops == UnlistedOps::rejected && !known_fallback) {
        verdict.placement = Placement::rejected;
        verdict.reason += " (the toolkit refuses it)";
      } else {
        verdict.placement = Placement::fallback;
      }
    }
  } else {
    // Listed: the general rules and the op's own rules decide.
    auto equivalent = profile.op_equivalents.find(node.op_type);
    const targets::OpSupport& support =
        profile.ops.at(equivalent != profile.op_equivalents.end() && !profile.ops.count(node.op_type)
                           ? equivalent->second : node.op_type);
    std::vector<const targets::Rule*> rules;
    for (const targets::Rule& rule : profile.general_rules) rules.push_back(&rule);
    for (const targets::Rule& rule : support.rules) rules.push_back(&rule);
    std::vector<RuleFinding> slow_findings, conditions;
    for (const targets::Rule* rule : rules) {
      std::optional<RuleFinding> finding = evaluate_rule(*rule, node, profile, is_constant);
      if (!finding) continue;
      if (finding->refuses) {
        refusal_checks.push_back(rule->check);
        refused = true;
        verdict.findings.push_back(std::move(*finding));
      } else if (finding->off_optimized_path) {
        slow_findings.push_back(std::move(*finding));
      } else {
        conditions.push_back(std::move(*finding));
      }
    }
    const bool slow = !slow_findings.empty();
    for (RuleFinding& finding : slow_findings) verdict.findings.push_back(std::move(finding));
    for (RuleFinding& condition : conditions) verdict.findings.push_back(std::move(condition));
    if (refused) {
      verdict.placement = Placement::fallback;
      verdict.reason = verdict.findings.front().explanation;
    } else if (slow) {
      verdict.placement = Placement::accelerator_slow;
      verdict.reason = verdict.findings.front().explanation;
      // A meaning-keeping rewrite onto the optimized path, or the statement that npukit knows none.
      PatchSuggestion rewrite = suggest_optimized_path_rewrite(node, profile);
      verdict.patch = rewrite.pass;
      if (rewrite.pass.empty()) verdict.fix = rewrite.text;
    } else if (!verdict.findings.empty()) {
      verdict.placement = Placement::accelerator_with_condition;
      verdict.reason = verdict.findings.front().explanation;
    } else {
      verdict.placement = Placement::accelerator;
    }
  }
  if (refused && profile.fallback_policy == FallbackPolicy::none && verdict.placement == Placement::fallback) {
    verdict.placement = Placement::rejected;
    verdict.reason += " (" + profile.name + " has no fallback device)";
  }
  if (refused) {
    if (refusal_checks.empty()) refusal_checks.push_back("");  // the op itself is missing
    for (const std::string& check : refusal_checks) {
      verdict.patch = suggest_patch(node, profile, check, verdict.in_yolo_postprocess, in_written_layernorm).pass;
      if (!verdict.patch.empty()) break;
    }
    for (const RuleFinding& finding : verdict.findings) {
      if (finding.refuses && !finding.fix.empty()) {
        verdict.fix = finding.fix;
        break;
      }
    }
  }
  return refused;
}

// The graph inputs a value is computed from (for an If condition: which input to hold at a value).
std::vector<std::string> graph_inputs_deciding(const ir::Value* value) {
  std::vector<std::string> inputs;
  std::set<const ir::Value*> seen;
  std::vector<const ir::Value*> pending{value};
  while (!pending.empty()) {
    const ir::Value* current = pending.back();
    pending.pop_back();
    if (!current || !seen.insert(current).second) continue;
    if (current->is_graph_input && !current->initializer) inputs.push_back(current->name);
    if (current->producer) {
      for (const ir::Value* input : current->producer->inputs) pending.push_back(input);
    }
  }
  return inputs;
}

// Verdicts for every node of `holder`'s bodies, recursively. The body nodes are judged by the same rules (so a
// user sees what the NPU could run once the If is specialized), but placed with their holder.
void place_body_nodes(const ir::Node& holder, const NodeVerdict& holder_verdict, const std::string& holder_path,
                      const TargetProfile& profile, CheckResult& result) {
  for (const auto& [key, attribute] : holder.attributes) {
    std::vector<std::shared_ptr<ir::Graph>> bodies = attribute.graph_values;
    if (attribute.graph_value) bodies.push_back(attribute.graph_value);
    for (const auto& body : bodies) {
      ConstantPredicate body_constant = [](const ir::Value* value) {
        return value && value->initializer && !value->is_graph_input;
      };
      for (const auto& owned : body->nodes()) {
        const ir::Node& node = *owned;
        NodeVerdict verdict;
        verdict.name = node.name;
        verdict.op_type = node.op_type;
        verdict.index = result.subgraph_nodes.size();
        verdict.macs = inspect::estimate_node_cost(node).macs;
        verdict.inside = holder_path + " " + key;
        const bool refused = evaluate_node_into(verdict, node, profile, body_constant, false);
        if (!on_accelerator(holder_verdict.placement)) {
          const std::string own = refused ? " (and the " + profile.accelerator_name + " refuses it: " + verdict.reason + ")"
                                          : " (the " + profile.accelerator_name + " could run it on its own)";
          verdict.placement = holder_verdict.placement == Placement::rejected ? Placement::rejected : Placement::fallback;
          verdict.reason = "inside " + holder_path + ", which runs on the " + profile.fallback_device + own;
          verdict.patch = holder_verdict.patch;
          verdict.fix = holder_verdict.fix;
        }
        const NodeVerdict placed = verdict;
        result.subgraph_nodes.push_back(std::move(verdict));
        place_body_nodes(node, placed, describe_node(node.name, node.op_type, node.index), profile, result);
      }
    }
  }
}

}  // namespace

std::string_view placement_name(Placement placement) {
  switch (placement) {
    case Placement::accelerator: return "npu";
    case Placement::accelerator_with_condition: return "npu-condition";
    case Placement::accelerator_slow: return "npu-slow";
    case Placement::unverified: return "unverified";
    case Placement::fallback: return "fallback";
    case Placement::fallback_after_first: return "fallback-after-first";
    case Placement::rejected: return "rejected";
    case Placement::folded: return "folded";
  }
  return "npu";
}

bool on_accelerator(Placement placement) {
  return placement == Placement::accelerator || placement == Placement::accelerator_with_condition ||
         placement == Placement::accelerator_slow || placement == Placement::unverified;
}

size_t CheckResult::count(Placement placement) const {
  return static_cast<size_t>(std::count_if(nodes.begin(), nodes.end(),
                                           [&](const NodeVerdict& node) { return node.placement == placement; }));
}

CheckResult check_model(const ir::Model& model, const TargetProfile& profile) {
  const ir::Graph& graph = *model.graph;
  CheckResult result;
  result.target_id = profile.id;
  result.target_name = profile.name;
  result.accelerator = profile.accelerator_name;
  result.fallback_device = profile.fallback_device;
  result.fallback_policy = policy_name(profile.fallback_policy);
  result.nms = profile.nms.display();

  const std::set<const ir::Node*> folded = find_folded_nodes(graph);
  std::set<const ir::Value*> constant_values;
  for (const auto& value : graph.values()) {
    if (value->initializer) constant_values.insert(value.get());
  }
  for (const ir::Node* node : folded) {
    if (is_no_op(node->op_type)) continue;
    for (const ir::Value* output : node->outputs) constant_values.insert(output);
  }
  ConstantPredicate is_constant = [&](const ir::Value* value) { return constant_values.count(value) != 0; };

  const std::optional<passes::YoloHead> yolo = passes::find_yolo_head(graph);
  result.has_yolo_postprocess = yolo.has_value();

  // Pieces of LayerNorms written out by hand: fuse-layernorm can make them one op (opset 17 and later).
  std::set<const ir::Node*> written_layernorm_pieces;
  if (model.opset() >= 17) {
    for (const passes::WrittenLayerNorm& norm : passes::find_written_layernorms(graph)) {
      written_layernorm_pieces.insert(norm.nodes.begin(), norm.nodes.end());
    }
  }

  std::optional<std::string> first_refused;  // for the after-first-unsupported policy
  for (const auto& owned : graph.nodes()) {
    const ir::Node& node = *owned;
    NodeVerdict verdict;
    verdict.name = node.name;
    verdict.op_type = node.op_type;
    verdict.index = result.nodes.size();
    verdict.macs = inspect::estimate_node_cost(node).macs;
    verdict.in_yolo_postprocess = yolo && yolo->postprocess.count(&node);
    if (folded.count(&node)) {
      verdict.placement = Placement::folded;
      verdict.reason = is_no_op(node.op_type) ? "no-op, removed by the compiler" : "constant, computed at compile time";
      result.nodes.push_back(std::move(verdict));
      continue;
    }

    const bool refused =
        evaluate_node_into(verdict, node, profile, is_constant, written_layernorm_pieces.count(&node) != 0);
    if (refused && node.op_type == "If" && verdict.patch.empty()) {
      // An If whose condition comes from an input (a sample rate, a mode flag) is one branch at deployment: the
      // preparation of every command inlines it once that input is held at a value.
      std::vector<std::string> deciding = graph_inputs_deciding(node.input(0));
      if (!deciding.empty()) {
        verdict.fix = "--input-value " + deciding.front() + "=VALUE (its deployed value) inlines the branch it selects";
      }
    }
    // Everything after the first refusal leaves the accelerator on targets that compile one subgraph only.
    if (profile.fallback_policy == FallbackPolicy::after_first_unsupported) {
      if (first_refused && on_accelerator(verdict.placement)) {
        verdict.placement = Placement::fallback_after_first;
        verdict.reason = "supported, but after the first unsupported op " + *first_refused + ": " + profile.name +
                         " runs everything after it on the " + profile.fallback_device;
      }
      if (refused && !first_refused) first_refused = "'" + node.name + "' (" + node.op_type + ")";
    }
    if (!ir::subgraphs_of(node).empty()) place_body_nodes(node, verdict, node.describe(), profile, result);
    result.nodes.push_back(std::move(verdict));
  }

  // MACs and the share on the accelerator.
  for (const NodeVerdict& verdict : result.nodes) {
    if (verdict.placement == Placement::rejected) result.compiles = false;
    if (verdict.placement == Placement::folded) continue;
    if (!verdict.macs) {
      result.macs_known = false;
      continue;
    }
    result.macs_total += *verdict.macs;
    if (on_accelerator(verdict.placement)) result.macs_accelerator += *verdict.macs;
    if (verdict.placement == Placement::unverified) result.macs_unverified += *verdict.macs;
    if (verdict.placement == Placement::accelerator_slow) result.macs_off_optimized_path += *verdict.macs;
  }

  // Segments: runs of consecutive (graph-order) nodes on the same side.
  std::map<const ir::Node*, bool> side;
  size_t position = 0;
  for (const auto& owned : graph.nodes()) {
    const NodeVerdict& verdict = result.nodes[position++];
    if (verdict.placement == Placement::folded) continue;
    const bool accelerator = on_accelerator(verdict.placement);
    side[owned.get()] = accelerator;
    if (result.segments.empty() || result.segments.back().on_accelerator != accelerator) {
      Segment segment;
      segment.on_accelerator = accelerator;
      segment.device = accelerator ? profile.accelerator_name : profile.fallback_device;
      segment.first_node = verdict.index;
      result.segments.push_back(segment);
    }
    Segment& segment = result.segments.back();
    segment.last_node = verdict.index;
    ++segment.node_count;
    segment.macs += verdict.macs.value_or(0);
    if (!verdict.macs) segment.macs_known = false;
  }

  // Transfers: every run-time tensor that crosses between the accelerator and the host side (graph inputs
  // and outputs live on the host). One transfer per tensor and direction, however many consumers read it.
  const std::string host = profile.fallback_policy == FallbackPolicy::none ? "host" : profile.fallback_device;
  auto side_of_producer = [&](const ir::Value* value) -> bool {
    if (!value->producer) return false;  // graph input: host
    auto found = side.find(value->producer);
    return found != side.end() && found->second;
  };
  for (const auto& owned : graph.values()) {
    const ir::Value* value = owned.get();
    if (constant_values.count(value) || value->outer_scope) continue;
    if (value->producer && !side.count(value->producer)) continue;  // a no-op's output follows its input
    const bool produced_on_accelerator = side_of_producer(value);
    bool read_on_accelerator = false, read_on_host = value->is_graph_output;
    for (const ir::Node* consumer : value->consumers) {
      auto found = side.find(consumer);
      if (found == side.end()) {
        // Read by a no-op: its readers decide, counted when that no-op's output is visited; a graph output
        // behind an Identity is read by the host.
        if (is_no_op(consumer->op_type) && consumer->output(0) && consumer->output(0)->is_graph_output) read_on_host = true;
        continue;
      }
      (found->second ? read_on_accelerator : read_on_host) = true;
    }
    auto add_transfer = [&](const std::string& from, const std::string& to) {
      Transfer transfer{value->name, from, to, value_bytes(value)};
      if (transfer.bytes) {
        result.transfer_bytes += *transfer.bytes;
      } else {
        result.transfer_bytes_known = false;
      }
      result.transfers.push_back(std::move(transfer));
    };
    if (produced_on_accelerator && read_on_host) add_transfer(profile.accelerator_name, host);
    if (!produced_on_accelerator && read_on_accelerator) add_transfer(host, profile.accelerator_name);
  }
  return result;
}

}  // namespace npukit::check
