// Sweeps beyond one machine: `npukit estimate MODEL... --shard i/N -o FILE` and `npukit merge`, as a Slurm array
// job uses them (docs/sweeps.md). Shards merged give the same records as the unsharded run; bad shard specs and bad
// merge inputs fail with a reason and write nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "npukit/error.h"
#include "sweep/shard.h"
#include "sweep/sweep_document.h"

namespace npukit::testing {
namespace {

using SweepCli = CliRunner;

std::string model(const std::string& name) { return std::string(NPUKIT_MODELS_DIR) + "/generated/" + name + ".onnx"; }

// Two small models x every target: enough items (2 x 12) that each of 3 shards holds several of each model.
std::string sweep_models() { return "'" + model("yolo_v5_raw") + "' '" + model("yolo11_depthwise") + "'"; }

// A record without its shard (the only field that says where it was computed).
nlohmann::json without_shard(nlohmann::json record) {
  record.erase("shard");
  return record;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

TEST(SweepShard, ParsesIndexOverCountAndSplitsItemsDisjointly) {
  const sweep::Shard shard = sweep::parse_shard("2/5");
  EXPECT_EQ(shard.index, 2u);
  EXPECT_EQ(shard.count, 5u);
  EXPECT_EQ(shard.text(), "2/5");
  for (size_t item = 0; item < 40; ++item) {
    size_t owners = 0;
    for (size_t index = 0; index < 5; ++index) owners += sweep::Shard{index, 5}.takes(item) ? 1 : 0;
    EXPECT_EQ(owners, 1u) << "item " << item;
  }
  EXPECT_TRUE(sweep::parse_shard("0/1").takes(17));
}

TEST(SweepShard, RefusesBadSpecsWithTheReason) {
  auto reason = [](const std::string& text) {
    try {
      sweep::parse_shard(text);
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
      return error.reason();
    }
    return std::string("accepted");
  };
  EXPECT_NE(reason("3/3").find("below the count (shards of 3 are 0 to 2)"), std::string::npos) << reason("3/3");
  EXPECT_NE(reason("0/0").find("N must be 1 or more"), std::string::npos) << reason("0/0");
  for (const std::string bad : {"a/b", "1", "/3", "1/", "-1/3", "+1/3", " 1/3", "1/3/4", "1.0/3", "99999999999/3"}) {
    EXPECT_NE(reason(bad).find("not two whole numbers"), std::string::npos) << bad << ": " << reason(bad);
  }
}

TEST_F(SweepCli, ShardsMergedEqualTheUnshardedRunInAnyOrder) {
  const std::string whole = path("whole.json");
  CommandResult result = run("estimate " + sweep_models() + " --target all --no-cpu-timing -o '" + whole + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("shard 0/1"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("written to"), std::string::npos);
  const nlohmann::json unsharded = read_json(whole);
  const size_t items = unsharded["sweep"]["items"].get<size_t>();
  ASSERT_GE(items, 20u);
  ASSERT_EQ(unsharded["records"].size(), items);

  std::vector<std::string> shards;
  size_t records = 0;
  for (int index = 0; index < 3; ++index) {
    shards.push_back(path("shard" + std::to_string(index) + ".json"));
    result = run("estimate " + sweep_models() + " --target all --no-cpu-timing --shard " + std::to_string(index) + "/3 -o '" +
                 shards.back() + "'");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json shard = read_json(shards.back());
    EXPECT_EQ(shard["shards"], nlohmann::json::array({index}));
    EXPECT_EQ(shard["sweep"], unsharded["sweep"]);  // one sweep, whatever the shard
    for (const nlohmann::json& record : shard["records"]) {
      EXPECT_EQ(record["shard"], std::to_string(index) + "/3");
      EXPECT_EQ(record["model_sha256"].get<std::string>().size(), 64u);
      EXPECT_TRUE(record.contains("conditions") && record.contains("settings") && record.contains("target"));
    }
    records += shard["records"].size();
  }
  EXPECT_EQ(records, items);  // disjoint and complete

  const std::string forward = path("forward.json"), backward = path("backward.json");
  result = run("merge '" + shards[0] + "' '" + shards[1] + "' '" + shards[2] + "' -o '" + forward + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("3 of 3 shards"), std::string::npos) << result.out;
  ASSERT_EQ(run("merge '" + shards[2] + "' '" + shards[0] + "' '" + shards[1] + "' -o '" + backward + "'").exit_code, 0);
  EXPECT_EQ(read_text(forward), read_text(backward));  // byte for byte, whatever the order

  const nlohmann::json merged = read_json(forward);
  EXPECT_EQ(merged["shards"], nlohmann::json::array({0, 1, 2}));
  ASSERT_EQ(merged["records"].size(), unsharded["records"].size());
  for (size_t i = 0; i < merged["records"].size(); ++i) {
    EXPECT_EQ(without_shard(merged["records"][i]), without_shard(unsharded["records"][i])) << "record " << i;
  }
  // A figure, to be sure the records carry estimates and not only keys.
  bool saw_latency = false;
  for (const nlohmann::json& record : merged["records"]) {
    if (record["target"] == "rk3588" && record["result"]["available"].get<bool>()) saw_latency = record["result"]["latency_ms"].get<double>() > 0;
  }
  EXPECT_TRUE(saw_latency);
}

TEST_F(SweepCli, ModelListFileGivesTheSameSweepAsArguments) {
  const std::string list = path("models.txt");
  std::ofstream(list) << "# the sweep's models\n" << model("yolo_v8_raw_concat") << "\n\n  " << model("yolo_v5_raw") << "  \n";
  const std::string from_list = path("list.json"), from_arguments = path("arguments.json");
  CommandResult result = run("estimate --model-list '" + list + "' --target rk3588 --no-cpu-timing --json -o '" + from_list + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out), read_json(from_list));  // --json prints what -o writes
  ASSERT_EQ(run("estimate '" + model("yolo_v8_raw_concat") + "' '" + model("yolo_v5_raw") + "' --target rk3588 --no-cpu-timing -o '" +
                from_arguments + "'")
                .exit_code,
            0);
  EXPECT_EQ(read_json(from_list)["records"], read_json(from_arguments)["records"]);
  EXPECT_EQ(read_json(from_list)["records"].size(), 2u);

  std::ofstream(path("empty.txt")) << "# nothing\n\n";
  result = run("estimate --model-list '" + path("empty.txt") + "' --target rk3588 --no-cpu-timing");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("names no model"), std::string::npos) << result.err;
  result = run("estimate --model-list '" + path("absent.txt") + "' --target rk3588");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cannot open the model list"), std::string::npos) << result.err;
}

TEST_F(SweepCli, BadShardSpecsAndBadModelsFailAndWriteNothing) {
  const std::string output = path("out.json");
  for (const std::string spec : {"3/3", "0/0", "a/b"}) {
    CommandResult result = run("estimate " + sweep_models() + " --target all --no-cpu-timing --shard " + spec + " -o '" + output + "'");
    EXPECT_EQ(result.exit_code, 1) << spec;
    EXPECT_NE(result.err.find("--shard '" + spec + "'"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("expected --shard i/N"), std::string::npos) << result.err;
  }
  const std::string broken = path("broken.onnx");
  std::ofstream(broken) << "not a model";
  CommandResult result = run("estimate '" + model("yolo_v5_raw") + "' '" + broken + "' --target rk3588 --no-cpu-timing -o '" + output + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("broken.onnx"), std::string::npos) << result.err;
  result = run("estimate " + sweep_models() + " --target rk3588 --no-cpu-timing --report '" + path("r.html") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--report is for one model"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(output));
  EXPECT_FALSE(std::filesystem::exists(output + ".partial"));
}

class SweepMergeCli : public CliRunner {
 protected:
  // Shards 0/2 and 1/2 of a small sweep (one model x every target).
  void SetUp() override {
    CliRunner::SetUp();
    for (int index = 0; index < 2; ++index) {
      shard_[index] = path("shard" + std::to_string(index) + ".json");
      CommandResult result = run("estimate '" + model("yolo_v5_raw") + "' --target all --no-cpu-timing --shard " + std::to_string(index) +
                                 "/2 -o '" + shard_[index] + "'");
      ASSERT_EQ(result.exit_code, 0) << result.err;
    }
  }
  // Runs merge and expects a refusal whose message contains `reason`, with no output written.
  void expect_refused(const std::string& files, const std::string& reason) {
    const std::string output = path("merged.json");
    CommandResult result = run("merge " + files + " -o '" + output + "'");
    EXPECT_EQ(result.exit_code, 1) << files;
    EXPECT_NE(result.err.find(reason), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(output));
  }
  void write_edited(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json document = read_json(shard_[1]);
    edit(document);
    std::ofstream(path(name)) << document.dump();
  }
  std::string quoted(const std::string& file) { return "'" + file + "' "; }
  std::string shard_[2];
};

TEST_F(SweepMergeCli, RefusesMixedDuplicateMissingAndBrokenInputs) {
  ASSERT_EQ(run("merge " + quoted(shard_[0]) + quoted(shard_[1]) + "-o '" + path("good.json") + "'").exit_code, 0);
  expect_refused(quoted(shard_[0]), "shards missing: 1/2");
  expect_refused(quoted(shard_[0]) + quoted(shard_[0]) + quoted(shard_[1]), "shard 0/2 is in both");
  write_edited("version.json", [](nlohmann::json& document) {
    document["conditions"]["npukit"] = "npukit 0.0.1";
    for (nlohmann::json& record : document["records"]) record["conditions"] = document["conditions"];
  });
  expect_refused(quoted(shard_[0]) + quoted(path("version.json")), "different conditions, npukit:");
  write_edited("other_sweep.json", [](nlohmann::json& document) { document["sweep"]["digest"] = "0123"; });
  expect_refused(quoted(shard_[0]) + quoted(path("other_sweep.json")), "shards of different sweeps");
  write_edited("duplicate.json", [this](nlohmann::json& document) {
    document["shards"] = {1};
    document["records"].push_back(read_json(shard_[0])["records"][0]);
  });
  expect_refused(quoted(shard_[0]) + quoted(path("duplicate.json")), "duplicate record");
  write_edited("edited_record.json", [](nlohmann::json& document) { document["records"][0]["conditions"]["host_cpu"] = "elsewhere"; });
  expect_refused(quoted(path("edited_record.json")), "a record's conditions differ from the file's (host_cpu");
  write_edited("schema.json", [](nlohmann::json& document) { document["schema"] = "npukit-sweep/0"; });
  expect_refused(quoted(shard_[0]) + quoted(path("schema.json")), "is not npukit-sweep/1");
  std::ofstream(path("truncated.json")) << read_text(shard_[1]).substr(0, 100);
  expect_refused(quoted(shard_[0]) + quoted(path("truncated.json")), "not valid JSON");
  std::ofstream(path("other.json")) << "{\"hello\": 1}";
  expect_refused(quoted(shard_[0]) + quoted(path("other.json")), "no \"schema\" field");
  expect_refused(quoted(shard_[0]) + quoted(path("absent.json")), "cannot open the shard file");
  expect_refused("", "give the shard files to merge");
  CommandResult result = run("merge " + quoted(shard_[0]) + quoted(shard_[1]) + "-o '" + shard_[0] + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("-o is one of the inputs"), std::string::npos) << result.err;

  // --allow-partial takes what there is and says which shards it holds.
  result = run("merge " + quoted(shard_[1]) + "--allow-partial -o '" + path("partial.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("1 of 2 shards"), std::string::npos) << result.out;
  EXPECT_EQ(read_json(path("partial.json"))["shards"], nlohmann::json::array({1}));
}

}  // namespace
}  // namespace npukit::testing
