// run_in_child_process: what the work returns comes back whole; a crash, a throw or a hang in the work ends
// only the child and comes back as a failure that names it, with the milestones reached before.
#include "core/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>

namespace npukit {
namespace {

TEST(ChildProcess, ReturnsWhatTheWorkReturns) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone& milestone) {
        milestone('a');
        milestone('b');
        return std::string("result");
      },
      10'000);
  ASSERT_TRUE(result.finished) << result.failure;
  EXPECT_EQ(result.result, "result");
  EXPECT_EQ(result.milestones, "ab");
  EXPECT_TRUE(result.failure.empty());
}

TEST(ChildProcess, LargeResultsArriveWhole) {
  // Larger than a pipe's buffer many times over, with every byte value, protocol bytes included.
  std::string expected(5'000'000, '\0');
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<char>((i * 7919) % 256);
  const ChildProcessResult result =
      run_in_child_process([&](const Milestone&) { return expected; }, 10'000);
  ASSERT_TRUE(result.finished) << result.failure;
  EXPECT_EQ(result.result.size(), expected.size());
  EXPECT_TRUE(result.result == expected);
}

TEST(ChildProcess, ACrashEndsOnlyTheChild) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone& milestone) -> std::string {
        milestone('1');
        ::raise(SIGSEGV);
        milestone('2');
        return "unreachable";
      },
      10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.milestones, "1");
  EXPECT_NE(result.failure.find("signal 11"), std::string::npos) << result.failure;
  EXPECT_TRUE(result.result.empty());
}

TEST(ChildProcess, AnAbortIsReportedAsItsSignal) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone&) -> std::string {
        ::abort();
      },
      10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_NE(result.failure.find("signal " + std::to_string(SIGABRT)), std::string::npos) << result.failure;
}

TEST(ChildProcess, AnExitWithoutResultIsAFailure) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone&) -> std::string { ::_exit(3); }, 10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.failure, "exit status 3");
}

TEST(ChildProcess, AnExceptionComesBackAsItsMessage) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone&) -> std::string { throw std::runtime_error("bad input"); }, 10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.failure, "threw: bad input");
}

TEST(ChildProcess, AHangIsStoppedAtTheTimeout) {
  const ChildProcessResult result = run_in_child_process(
      [](const Milestone& milestone) -> std::string {
        milestone('w');
        for (;;) ::pause();
      },
      300);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.milestones, "w");
  EXPECT_EQ(result.failure, "did not finish within 300 ms");
}

}  // namespace
}  // namespace npukit
