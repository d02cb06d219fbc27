// `npukit bench MODEL... --threads 1,2 --shard i/N -o FILE` writes the same mergeable document as `estimate --shard`
// and `npukit merge` joins bench shards: shards merged hold the unsharded run's records (compared without the timing
// values, which differ from run to run), and bad sweeps fail with a reason and write nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace npukit::testing {
namespace {

using BenchSweepCli = CliRunner;

std::string model(const std::string& name) { return std::string(NPUKIT_MODELS_DIR) + "/generated/" + name + ".onnx"; }

// Two small models x two thread counts, two timed runs each: a sweep of 4 items that stays fast under sanitizers.
std::string sweep_arguments() {
  return "bench '" + model("yolo_v5_raw") + "' '" + model("yolo11_depthwise") + "' --threads 1,2 --warmup 1 -n 2";
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

// A record without what differs from one run to the next: its shard, and the timing values (latencies,
// throughput, session creation time, the timed phase's duration, the clock's current frequency).
nlohmann::json without_timing(nlohmann::json record) {
  record.erase("shard");
  nlohmann::json& result = record["result"];
  for (const char* field : {"latency_ms", "throughput_per_second", "session_creation_ms"}) {
    EXPECT_TRUE(result.contains(field)) << field;
    result.erase(field);
  }
  result["conditions"].erase("duration_s");
  result["conditions"]["machine"].erase("frequency");
  return record;
}

TEST_F(BenchSweepCli, ShardsMergedHoldTheUnshardedRecords) {
  const std::string whole = path("whole.json");
  CommandResult result = run(sweep_arguments() + " -o '" + whole + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("shard 0/1"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("written to"), std::string::npos) << result.out;
  const nlohmann::json unsharded = read_json(whole);
  EXPECT_EQ(unsharded["command"], "bench");
  ASSERT_EQ(unsharded["sweep"]["items"], 4);
  ASSERT_EQ(unsharded["records"].size(), 4u);

  std::vector<std::string> shards;
  for (int index = 0; index < 2; ++index) {
    shards.push_back(path("shard" + std::to_string(index) + ".json"));
    result = run(sweep_arguments() + " --shard " + std::to_string(index) + "/2 -o '" + shards.back() + "'");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json shard = read_json(shards.back());
    EXPECT_EQ(shard["sweep"], unsharded["sweep"]);  // one sweep, whatever the shard
    EXPECT_EQ(shard["conditions"], unsharded["conditions"]);
    ASSERT_EQ(shard["records"].size(), 2u);  // items 0 and 2 (both models, 1 thread) or 1 and 3 (2 threads)
    for (const nlohmann::json& record : shard["records"]) {
      EXPECT_EQ(record["shard"], std::to_string(index) + "/2");
      EXPECT_EQ(record["target"], "cpu");
      EXPECT_EQ(record["model_sha256"].get<std::string>().size(), 64u);
      EXPECT_EQ(record["result"]["iterations"], 2);
      EXPECT_FALSE(record["result"].contains("peak_rss_mib"));  // a process figure, not the item's
    }
  }

  const std::string forward = path("forward.json"), backward = path("backward.json");
  result = run("merge '" + shards[0] + "' '" + shards[1] + "' -o '" + forward + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("2 of 2 shards, 4 of 4 records"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("p90"), std::string::npos) << result.out;  // the bench table
  ASSERT_EQ(run("merge '" + shards[1] + "' '" + shards[0] + "' -o '" + backward + "'").exit_code, 0);
  EXPECT_EQ(read_text(forward), read_text(backward));  // byte for byte, whatever the order

  const nlohmann::json merged = read_json(forward);
  ASSERT_EQ(merged["records"].size(), unsharded["records"].size());
  for (size_t i = 0; i < merged["records"].size(); ++i) {
    const nlohmann::json& record = merged["records"][i];
    EXPECT_GT(record["result"]["latency_ms"]["p50"].get<double>(), 0);  // the records carry timings, not only keys
    EXPECT_EQ(without_timing(record), without_timing(unsharded["records"][i])) << "record " << i;
  }
  // Each (model, threads) pair once, both thread counts present.
  std::set<std::pair<std::string, int>> pairs;
  for (const nlohmann::json& record : merged["records"]) {
    pairs.insert({record["model"].get<std::string>(), record["settings"]["threads"].get<int>()});
  }
  EXPECT_EQ(pairs.size(), 4u);
}

TEST_F(BenchSweepCli, BadSweepsFailWithAReasonAndWriteNothing) {
  const std::string output = path("out.json");
  CommandResult result = run(sweep_arguments() + " --shard 2/2 -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("below the count"), std::string::npos) << result.err;
  result = run(sweep_arguments() + " --profile -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--profile is for one model"), std::string::npos) << result.err;
  result = run("bench '" + model("yolo_v5_raw") + "' '" + path("missing.onnx") + "' -n 1 --warmup 0 -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("missing.onnx"), std::string::npos) << result.err;
  result = run("bench '" + model("yolo_v5_raw") + "' --threads 1,-1 -n 1 -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--threads must be 0"), std::string::npos) << result.err;
  result = run("bench '" + model("yolo_v5_raw") + "' --threads 1,2 --end-to-end -n 1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("model-only bench"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(output));
  EXPECT_FALSE(std::filesystem::exists(output + ".partial"));

  // A bench shard and an estimate shard are not one sweep.
  const std::string bench = path("bench.json"), estimate = path("estimate.json");
  ASSERT_EQ(run("bench '" + model("yolo_v5_raw") + "' --threads 1,2 --warmup 0 -n 1 --shard 0/2 -o '" + bench + "'").exit_code, 0);
  ASSERT_EQ(run("estimate '" + model("yolo_v5_raw") + "' '" + model("yolo11_depthwise") + "' --target rk3588 --no-cpu-timing --shard 1/2 -o '" +
                estimate + "'")
                .exit_code,
            0);
  result = run("merge '" + bench + "' '" + estimate + "' -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("different commands"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(output));
}

}  // namespace
}  // namespace npukit::testing
