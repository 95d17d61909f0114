#include "chexgen/core/parallel.h"

#include <atomic>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"

namespace chexgen {
namespace {

TEST(ParallelFor, VisitsEveryIndexOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 8}) {
    std::vector<std::atomic<int>> hits(1001);
    parallel_for(hits.size(), threads, [&](std::size_t i) { hits[i]++; });
    for (std::size_t i = 0; i < hits.size(); ++i)
      ASSERT_EQ(hits[i].load(), 1) << "index " << i << " threads " << threads;
  }
}

TEST(ParallelFor, ZeroItemsIsANoOp) {
  int calls = 0;
  parallel_for(0, 4, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelFor, RethrowsTheWorkerExceptionOnTheCaller) {
  EXPECT_THROW(parallel_for(100, 4,
                            [](std::size_t i) {
                              if (i == 37) throw InputError({"x.png"}, "corrupt");
                            }),
               InputError);
}

TEST(ParallelFor, NegativeThreadsIsAUsageError) {
  EXPECT_THROW(parallel_for(1, -1, [](std::size_t) {}), UsageError);
  EXPECT_GE(resolve_threads(0), 1);
  EXPECT_EQ(resolve_threads(3), 3);
}

TEST(Progress, CountsAndPrintsPlainLinesWithoutATerminal) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    Progress progress("decode", 50, ProgressOptions{true, 1000.0, 0.1}, out);
    parallel_for(
        50, 3, [](std::size_t) {}, &progress);
    EXPECT_EQ(progress.done(), 50u);
  }
  std::rewind(out);
  std::string text;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, out)) text += buffer;
  std::fclose(out);
  EXPECT_NE(text.find("decode: 50/50 (100%)"), std::string::npos) << text;
  EXPECT_NE(text.find("done in"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << "no carriage returns outside a terminal";
}

TEST(Progress, QuietPrintsNothing) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    Progress progress("decode", 10, ProgressOptions{false}, out);
    progress.advance(10);
  }
  EXPECT_EQ(std::ftell(out), 0);
  std::fclose(out);
}

}  // namespace
}  // namespace chexgen
