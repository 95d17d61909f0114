// Running a shell command: every output line handed over, the exit status or signal, the tail of stderr.
#include <signal.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/subprocess.h"

namespace chexgen {
namespace {

using ::testing::ElementsAre;

TEST(RunShell, LinesOfBothStreamsStatusAndStderrTail) {
  std::vector<std::string> lines;
  const ShellOutcome r = run_shell("printf 'a\\nb\\r\\nno end'; echo oops >&2; exit 3",
                                   [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(r.status, 3);
  EXPECT_FALSE(r.signalled);
  EXPECT_EQ(r.stderr_tail, "oops\n");
  EXPECT_THAT(lines, ::testing::UnorderedElementsAre("a", "b", "no end", "oops"));
}

TEST(RunShell, ASignalIsReportedAndOnlyTheLastStderrBytesAreKept) {
  const ShellOutcome killed = run_shell("kill -9 $$", [](const std::string&) {});
  EXPECT_TRUE(killed.signalled);
  EXPECT_EQ(killed.status, 9);
  const ShellOutcome loud = run_shell(
      "for i in $(seq 1 200); do echo line$i >&2; done", [](const std::string&) {}, 12);
  EXPECT_EQ(loud.status, 0);
  EXPECT_EQ(loud.stderr_tail, "199\nline200\n");  // the last 12 bytes
}

// Issue 18: the command is waited for, not every process that inherited its output. The command leaves a process
// holding its stdout for a minute and prints its pid; run_shell returns while that process still lives.
TEST(RunShell, ReturnsWhenTheCommandExitsThoughItsChildStillHoldsTheOutput) {
  std::vector<std::string> lines;
  const ShellOutcome r =
      run_shell("sleep 60 & echo \"$!\"; echo done", [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "done");
  const pid_t left_running = static_cast<pid_t>(std::stol(lines[0]));
  EXPECT_EQ(::kill(left_running, 0), 0) << "run_shell waited for the background process";
  ::kill(left_running, SIGKILL);
}

TEST(ShellQuote, OneWordForTheShell) {
  EXPECT_EQ(shell_quote("/tmp/a b/it's.txt"), "'/tmp/a b/it'\\''s.txt'");
  EXPECT_EQ(shell_quote(""), "''");
  std::vector<std::string> lines;
  run_shell("printf '%s\\n' " + shell_quote("$HOME `x` \"q\" 'y'"), [&](const std::string& l) { lines.push_back(l); });
  EXPECT_THAT(lines, ElementsAre("$HOME `x` \"q\" 'y'"));
}

}  // namespace
}  // namespace chexgen
