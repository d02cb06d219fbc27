// npukit merge A.json B.json ... -o all.json: joins the shard files of a sweep (`npukit estimate ... --shard i/N
// -o FILE` or `npukit bench ... --shard i/N -o FILE`) into one document, refusing mixed versions or conditions, shards of another sweep, a shard or record
// given twice and missing shards (sweep/sweep_document.h). The output is the same whatever order the files come in.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/bench_sweep.h"
#include "cli/commands.h"
#include "cli/estimate_sweep.h"
#include "npukit/error.h"
#include "sweep/sweep_document.h"

namespace npukit::cli {

namespace {

struct MergeArguments {
  std::vector<std::string> files;
  std::string output;
  bool allow_partial = false;
  bool json = false;
};

void run_merge(const MergeArguments& arguments) {
  if (arguments.files.empty()) throw Error(ErrorKind::invalid_argument, "give the shard files to merge: npukit merge A.json B.json ... -o all.json");
  if (arguments.output.empty()) throw Error(ErrorKind::invalid_argument, "give -o FILE: where the merged records go");
  for (const std::string& file : arguments.files) {
    std::error_code error;
    if (std::filesystem::equivalent(file, arguments.output, error)) {
      throw Error(ErrorKind::invalid_argument, "-o is one of the inputs: write the merge to a new file", arguments.output);
    }
  }
  const std::filesystem::path folder = std::filesystem::path(arguments.output).parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder)) throw Error(ErrorKind::io, "the folder for -o does not exist", arguments.output);
  std::vector<sweep::MergeInput> inputs;
  for (const std::string& file : arguments.files) inputs.push_back({file, sweep::read_document(file)});
  const nlohmann::json merged = sweep::merge_documents(inputs, arguments.allow_partial);
  sweep::write_document(arguments.output, merged);
  if (arguments.json) {
    std::cout << merged.dump(2) << "\n";
    return;
  }
  const size_t count = merged["shard_count"].get<size_t>();
  std::cout << "merged " << arguments.files.size() << " file(s): " << merged["shards"].size() << " of " << count << " shards, "
            << merged["records"].size() << " of " << merged["sweep"]["items"].get<size_t>() << " records\n\n";
  if (merged["command"] == "estimate") print_sweep_table(std::cout, merged);
  if (merged["command"] == "bench") print_bench_sweep_table(std::cout, merged);
  std::cout << "\nwritten to " << arguments.output << "\n";
}

}  // namespace

void register_merge_command(CLI::App& app) {
  auto arguments = std::make_shared<MergeArguments>();
  CLI::App* command = app.add_subcommand("merge", "Join the shard files of a sweep (estimate or bench --shard i/N -o FILE) into one");
  command->add_option("files", arguments->files, "The shard files (any order)")->type_name("FILE...");
  command->add_option("-o,--output", arguments->output, "Where the merged records go")->type_name("FILE");
  command->add_flag("--allow-partial", arguments->allow_partial, "Merge even when some shards are missing (the output says which it holds)");
  command->add_flag("--json", arguments->json, "Print the merged document as JSON too");
  command->callback([arguments] { run_merge(*arguments); });
}

}  // namespace npukit::cli
