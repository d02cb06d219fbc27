#include "sweep/sweep_document.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "npukit/error.h"

namespace npukit::sweep {

namespace {

// The first field where two condition objects differ, as "field: a vs b" (both JSON), for the refusal message.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix = "") {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& item : a.items()) keys.insert(item.key());
    for (const auto& item : b.items()) keys.insert(item.key());
    for (const std::string& key : keys) {
      const nlohmann::json left = a.contains(key) ? a[key] : nlohmann::json("(absent)");
      const nlohmann::json right = b.contains(key) ? b[key] : nlohmann::json("(absent)");
      if (left != right) return first_difference(left, right, prefix.empty() ? key : prefix + "." + key);
    }
    return prefix;
  }
  return (prefix.empty() ? "the value" : prefix) + ": " + a.dump() + " vs " + b.dump();
}

void require(bool condition, const std::string& file, const std::string& reason) {
  if (!condition) throw Error(ErrorKind::invalid_argument, reason + " (not a shard file of npukit estimate/bench --shard ... -o FILE?)", file);
}

std::string shard_text(size_t index, size_t count) { return std::to_string(index) + "/" + std::to_string(count); }

}  // namespace

nlohmann::json make_document(const SweepIdentity& sweep, const Shard& shard, const nlohmann::json& conditions,
                             std::vector<nlohmann::json> records) {
  for (nlohmann::json& record : records) {
    record["command"] = sweep.command;
    record["conditions"] = conditions;
    record["shard"] = shard.text();
  }
  std::sort(records.begin(), records.end(), [](const nlohmann::json& a, const nlohmann::json& b) { return record_key(a) < record_key(b); });
  nlohmann::json document;
  document["schema"] = document_schema;
  document["command"] = sweep.command;
  document["sweep"] = {{"items", sweep.items}, {"digest", sweep.digest}};
  document["shard_count"] = shard.count;
  document["shards"] = nlohmann::json::array({shard.index});
  document["conditions"] = conditions;
  document["records"] = std::move(records);
  return document;
}

std::string record_key(const nlohmann::json& record) {
  auto text = [&record](const char* field) { return record.contains(field) ? record[field].dump() : std::string("null"); };
  return text("command") + "\x1f" + text("model") + "\x1f" + text("model_sha256") + "\x1f" + text("target") + "\x1f" + text("settings");
}

nlohmann::json read_document(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot open the shard file (does it exist?)", path);
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& error) {
    throw Error(ErrorKind::invalid_argument, std::string("not valid JSON: ") + error.what(), path);
  }
  require(document.is_object(), path, "the file is JSON but not an object");
  require(document.contains("schema") && document["schema"].is_string(), path, "no \"schema\" field");
  if (document["schema"] != document_schema) {
    throw Error(ErrorKind::invalid_argument, "schema " + document["schema"].dump() + " is not " + document_schema +
                                                 " (written by another npukit version? rerun the shard with this one)", path);
  }
  require(document.contains("command") && document["command"].is_string(), path, "no \"command\" field");
  require(document.contains("sweep") && document["sweep"].is_object() && document["sweep"].contains("items") &&
              document["sweep"]["items"].is_number_unsigned() && document["sweep"].contains("digest") && document["sweep"]["digest"].is_string(),
          path, "no \"sweep\" identity (items and digest)");
  require(document.contains("shard_count") && document["shard_count"].is_number_unsigned() && document["shard_count"].get<size_t>() >= 1,
          path, "no valid \"shard_count\"");
  require(document.contains("shards") && document["shards"].is_array() && !document["shards"].empty(), path, "no \"shards\" list");
  for (const nlohmann::json& index : document["shards"]) {
    require(index.is_number_unsigned() && index.get<size_t>() < document["shard_count"].get<size_t>(), path,
            "a shard index is not below shard_count");
  }
  require(document.contains("conditions") && document["conditions"].is_object(), path, "no \"conditions\" object");
  require(document.contains("records") && document["records"].is_array(), path, "no \"records\" list");
  for (const nlohmann::json& record : document["records"]) {
    require(record.is_object() && record.contains("model_sha256") && record.contains("target") && record.contains("settings") &&
                record.contains("conditions") && record.contains("result"),
            path, "a record lacks model_sha256, target, settings, conditions or result");
    if (record["conditions"] != document["conditions"]) {
      throw Error(ErrorKind::invalid_argument, "a record's conditions differ from the file's (" +
                                                   first_difference(record["conditions"], document["conditions"]) + "): the file was edited",
                  path);
    }
  }
  return document;
}

nlohmann::json merge_documents(const std::vector<MergeInput>& inputs, bool allow_partial) {
  if (inputs.empty()) throw Error(ErrorKind::invalid_argument, "give at least one shard file to merge");
  const MergeInput& first = inputs.front();
  const nlohmann::json& reference = first.document;
  std::map<size_t, std::string> shard_owner;       // shard index -> file that holds it
  std::map<std::string, std::string> record_owner;  // record key -> file that holds it
  nlohmann::json records = nlohmann::json::array();
  for (const MergeInput& input : inputs) {
    const nlohmann::json& document = input.document;
    auto refuse = [&](const std::string& reason) {
      throw Error(ErrorKind::invalid_argument, reason + " (" + first.file + " and " + input.file + ")", input.file);
    };
    if (document["command"] != reference["command"]) {
      refuse("shards of different commands: " + reference["command"].dump() + " and " + document["command"].dump());
    }
    if (document["sweep"] != reference["sweep"] || document["shard_count"] != reference["shard_count"]) {
      refuse("shards of different sweeps (other models, targets, settings or shard count): merge only the shards of one run of the "
             "array job");
    }
    if (document["conditions"] != reference["conditions"]) {
      refuse("different conditions, " + first_difference(reference["conditions"], document["conditions"]) +
             ": figures made under other conditions do not belong in one table; rerun those shards with the same npukit build on "
             "the same kind of node");
    }
    const size_t count = document["shard_count"].get<size_t>();
    for (const nlohmann::json& index_json : document["shards"]) {
      const size_t index = index_json.get<size_t>();
      auto [place, added] = shard_owner.emplace(index, input.file);
      if (!added) {
        throw Error(ErrorKind::invalid_argument, "shard " + shard_text(index, count) + " is in both " + place->second + " and " +
                                                     input.file + ": give each shard once",
                    input.file);
      }
    }
    for (const nlohmann::json& record : document["records"]) {
      const std::string key = record_key(record);
      auto [place, added] = record_owner.emplace(key, input.file);
      if (!added) {
        throw Error(ErrorKind::invalid_argument, "duplicate record (model " + record.value("model", std::string("?")) + ", target " +
                                                     record["target"].dump() + ", same settings) in " + place->second + " and " +
                                                     input.file,
                    input.file);
      }
      records.push_back(record);
    }
  }
  const size_t count = reference["shard_count"].get<size_t>();
  std::string missing;
  for (size_t index = 0; index < count; ++index) {
    if (!shard_owner.count(index)) missing += (missing.empty() ? "" : ", ") + shard_text(index, count);
  }
  if (!missing.empty() && !allow_partial) {
    throw Error(ErrorKind::invalid_argument, "shards missing: " + missing + " (rerun them, or merge what there is with --allow-partial)");
  }
  const size_t items = reference["sweep"]["items"].get<size_t>();
  if (missing.empty() && records.size() != items) {
    throw Error(ErrorKind::invalid_argument, "the shards hold " + std::to_string(records.size()) + " records but the sweep has " +
                                                 std::to_string(items) + " items: a shard file was edited or truncated");
  }
  std::vector<nlohmann::json> sorted(records.begin(), records.end());
  std::sort(sorted.begin(), sorted.end(), [](const nlohmann::json& a, const nlohmann::json& b) { return record_key(a) < record_key(b); });
  nlohmann::json merged;
  merged["schema"] = document_schema;
  merged["command"] = reference["command"];
  merged["sweep"] = reference["sweep"];
  merged["shard_count"] = count;
  merged["shards"] = nlohmann::json::array();
  for (const auto& [index, file] : shard_owner) merged["shards"].push_back(index);  // std::map: ascending
  merged["conditions"] = reference["conditions"];
  merged["records"] = std::move(sorted);
  return merged;
}

void write_document(const std::string& path, const nlohmann::json& document) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << document.dump(2) << "\n";
    file.flush();
    if (!file) {
      std::remove(temporary.c_str());
      throw Error(ErrorKind::io, "cannot write the sweep file (is the folder there and writable, the disk not full?)", path);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw Error(ErrorKind::io, "cannot move the sweep file into place", path);
  }
}

}  // namespace npukit::sweep
