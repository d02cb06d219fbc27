// The mergeable JSON a sharded sweep writes (`npukit estimate MODEL... --shard i/N -o FILE`, `npukit bench MODEL...
// --threads 1,2 --shard i/N -o FILE`) and `npukit merge` joins. One document per shard:
//   {"schema": "npukit-sweep/1", "command": "estimate",
//    "sweep": {"items": 40, "digest": "<sha256 of the ordered work items and settings>"},
//    "shard_count": 4, "shards": [1],
//    "conditions": {...what every figure depends on: npukit version and commit, fitted parameters, host CPU...},
//    "records": [{"command", "model", "model_sha256", "target", "settings", "conditions", "shard": "1/4",
//                 "result": {...}}, ...]}
// Each record is self-describing (it repeats the conditions and its shard), so records copied out of a file keep
// their meaning. Merging refuses what would give a wrong table in silence: other schemas or commands, shards of
// another sweep, different conditions (versions, parameters, host), a shard or record given twice, and missing
// shards (unless asked). The merged document is the same whatever order the files come in: records are sorted by
// their key (model, model hash, target, settings).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/shard.h"

namespace npukit::sweep {

inline constexpr const char* document_schema = "npukit-sweep/1";

// Which sweep a shard belongs to: how many work items the whole sweep has and a digest of them in order (with the
// settings), so shards of two different sweeps are not merged as one.
struct SweepIdentity {
  std::string command;
  size_t items = 0;
  std::string digest;
};

// One shard's document. `records` are the CLI's records (model, model_sha256, target, settings, result); each gets
// the command, the conditions and the shard added.
nlohmann::json make_document(const SweepIdentity& sweep, const Shard& shard, const nlohmann::json& conditions,
                             std::vector<nlohmann::json> records);

// A record's identity: two records with the same key are the same work done twice.
std::string record_key(const nlohmann::json& record);

struct MergeInput {
  std::string file;  // for messages
  nlohmann::json document;
};

// Merges shard documents into one (see above). Throws Error(invalid_argument) naming the file(s) and the reason.
nlohmann::json merge_documents(const std::vector<MergeInput>& inputs, bool allow_partial);

// Reads and validates the shape of one document (schema, fields); throws Error naming the file.
nlohmann::json read_document(const std::string& path);

// Writes through a temporary file renamed into place: a failed write leaves nothing half written.
void write_document(const std::string& path, const nlohmann::json& document);

}  // namespace npukit::sweep
