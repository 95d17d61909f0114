// The chexgen program as a whole: version, help, usage errors and exit codes (docs/errors.md).
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;

TEST(Program, VersionNamesTheProgramAndItsLibraries) {
  const auto r = run_chexgen({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("chexgen 0."));
  EXPECT_THAT(r.out, HasSubstr("fmt"));
  EXPECT_THAT(r.out, HasSubstr("OpenBLAS 0."));
}

// The BLAS kernel set decides the last bits of floating-point results (docs/models.md): --version says which one
// runs, and OPENBLAS_CORETYPE changes it.
TEST(Program, VersionNamesTheBlasKernelsInUse) {
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  const auto r = run_chexgen({"--version"});
  unsetenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(kernels: Prescott)"));
}

TEST(Program, HelpListsEverySubcommand) {
  const auto r = run_chexgen({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"inspect", "resize", "metrics"}) EXPECT_THAT(r.out, HasSubstr(name)) << name;
}

TEST(Program, NoSubcommandIsAUsageError) {
  const auto r = run_chexgen({});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Program, UnknownOptionIsAUsageError) {
  const auto r = run_chexgen({"inspect", "data/sample/labels.csv", "--no-such-option"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err + r.out, HasSubstr("--no-such-option"));
}

TEST(Program, NegativeThreadsIsAUsageError) {
  const auto r =
      run_chexgen({"--threads", "-3", "inspect", "data/sample/labels.csv", "--format", "onehot", "--label-set", "nih"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--threads"));
}

}  // namespace
}  // namespace chexgen::testing
