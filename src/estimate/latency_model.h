// The per-layer latency model of one model on one target, from the check result (where each node runs), the
// layer features (what each node computes and moves), the target's facts (profile or stated assumption) and the
// fitted parameters.
//
// A layer on the accelerator takes   max(compute, memory) + layer overhead
//   compute = (dense MACs / alignment + depthwise MACs / (alignment · depthwise efficiency)
//              + other operations / other-op efficiency) / (peak MAC/s of the cores used · efficiency)
//   memory  = bytes through DRAM / DRAM bandwidth: the layer's weights (unless all the model's weights fit the
//             on-chip memory) and its activations (unless input + output + weights fit it)
// A node on the fallback device takes what this host's cpu backend measured for it, times the board's CPU
// slowdown. Each NPU<->host transfer (model inputs and outputs included) takes the link's latency plus bytes over
// the link's payload rate, or on a SoC the hand-over cost plus bytes over DRAM. Each accelerator segment adds one
// invoke overhead. Weights beyond the on-chip memory of a target that streams them cross the link every frame.
// The latency is the sum; on a pipelined (dataflow) target, consecutive frames overlap, so the time per frame
// is the largest of the accelerator, link and CPU totals.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "check/target_check.h"
#include "estimate/estimator_data.h"
#include "estimate/layer_features.h"

namespace npukit::estimate {

// Fallback-node times measured on this host (node name -> seconds), or why there are none.
struct HostCpuTimes {
  bool measured = false;
  std::map<std::string, double> seconds_by_node;
  std::string description;  // "cpu backend, 1 thread, median of 3 runs on <cpu>" or why not measured
};

struct LayerEstimate {
  size_t node_index = 0;
  std::string name;
  std::string op_type;
  std::string device;          // accelerator name or fallback device
  bool on_accelerator = true;
  double compute_seconds = 0;
  double memory_seconds = 0;
  double overhead_seconds = 0;
  double cpu_seconds = 0;      // fallback: scaled host time
  double seconds = 0;
  std::string bound;           // "compute", "memory", "overhead", "cpu"
  bool cpu_time_measured = false;
  bool slow_path = false;      // check said: on the NPU but off its optimized path
};

struct SegmentEstimate {
  bool on_accelerator = true;
  std::string device;
  size_t first_node = 0, last_node = 0, node_count = 0;
  double seconds = 0;
};

struct TransferEstimate {
  std::string value, from_device, to_device;
  double bytes = 0;
  double seconds = 0;
};

struct ErrorBand {
  double typical_error = 0;      // median leave-one-out error of the points it comes from
  double low_seconds = 0;        // estimate × the lowest published/predicted ratio seen in leave-one-out
  double high_seconds = 0;       // estimate × the highest
  size_t points = 0;
  std::string basis;             // "leave-one-out on 4 rk3588 points", "... on all 22 points (none for this target)"
};

struct Estimate {
  std::string target_id, target_name, accelerator, fallback_device;
  bool available = true;
  std::string unavailable_reason;
  double seconds = 0;            // latency (or time per frame at throughput when pipelined)
  bool pipelined = false;
  double compute_seconds = 0, memory_seconds = 0, overhead_seconds = 0, link_seconds = 0, cpu_seconds = 0;
  double link_fixed_seconds = 0; // the part of link_seconds paid per transfer whatever its size (latency, hand-over)
  std::string bottleneck;        // compute, memory, overhead, link, cpu
  ErrorBand band;
  std::vector<LayerEstimate> layers;
  std::vector<SegmentEstimate> segments;
  std::vector<TransferEstimate> transfers;
  double streamed_weight_bytes = 0;
  std::vector<std::string> assumptions;  // every assumed fact used, in words
  std::vector<std::string> notes;
  TargetFacts facts;
  ModelParameters parameters;
  HostCpuTimes cpu_times;
  int cores_used = 1;

  double fps() const { return seconds > 0 ? 1.0 / seconds : 0; }
};

struct EstimateOptions {
  int cores = 0;  // 0: the target's default (one core, as published)
};

Estimate estimate_latency(const ir::Graph& graph, const check::CheckResult& check, const std::vector<LayerFeatures>& layers,
                          const TargetFacts& facts, const ModelParameters& parameters, const HostCpuTimes& cpu_times,
                          const EstimateOptions& options = {});

// The error band from the fit: the target's own leave-one-out errors when it has at least two points, else all
// points' (and the basis says so). Empty (0) when there is no fit.
ErrorBand error_band(const FittedParameters& fitted, const std::string& target_id, double seconds);

// The same formula, reduced for fitting: what a model on a target costs, split into the parts that do not depend
// on the parameters and the per-layer work that does.
struct CompactEstimate {
  struct Layer {
    double dense_work = 0;      // MACs / alignment
    double depthwise_work = 0;  // depthwise MACs / alignment
    double other_work = 0;      // other operations
    double memory_seconds = 0;
    bool fused = false;         // fused into its producer: no layer overhead
  };
  std::vector<Layer> layers;    // accelerator layers only
  double peak_macs_per_second = 0;
  double fixed_seconds = 0;     // link + cpu + streamed weights (parameter-free)
  double link_seconds = 0, cpu_seconds = 0;
  double link_fixed_seconds = 0;  // per-transfer costs whatever the size: paid once per batch
  size_t accelerator_segments = 0;
  bool pipelined = false;
  std::string family;           // the target's architecture family: the fit shares the depthwise efficiency within it
};
CompactEstimate compact_estimate(const Estimate& estimate, const std::vector<LayerFeatures>& layers, const check::CheckResult& check);
// Seconds per image. At batch > 1 (a published figure's condition) the costs paid per call rather than per image —
// the invoke, the per-layer overhead and each transfer's fixed latency — are shared by the batch's images.
double predict_seconds(const CompactEstimate& compact, const ModelParameters& parameters, int batch = 1);

}  // namespace npukit::estimate
