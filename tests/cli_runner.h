// Runs the npukit binary (NPUKIT_CLI_PATH) as a user does, for the tests of what people and scripts see: each
// test gets a fresh folder for its files, and `run` returns the exit code with stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace npukit::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class CliRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::temp_directory_path() /
                 ("npukit_cli_" + std::to_string(::getpid()) + "_" + test->test_suite_name() + "_" + test->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  // `environment` goes before the command ("COLUMNS=60"); COLUMNS is cleared otherwise, so a terminal width
  // exported by whoever runs the tests cannot change what they see.
  CommandResult run(const std::string& arguments, const std::string& environment = "") {
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const std::string command = "env -u COLUMNS " + environment + " '" + std::string(NPUKIT_CLI_PATH) + "' " +
                                arguments + " > '" + out + "' 2> '" + err + "'";
    const int status = std::system(command.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text(out);
    result.err = read_text(err);
    return result;
  }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  std::filesystem::path directory_;
};

}  // namespace npukit::testing
