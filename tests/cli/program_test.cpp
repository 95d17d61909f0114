// The chexgen program as a whole: version, help, usage errors and exit codes (docs/errors.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/wait.h>

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

// The shared libraries the loader maps for a program (what ldd prints), without running it.
std::string loaded_libraries(const std::filesystem::path& program) {
  const std::string command = "LD_TRACE_LOADED_OBJECTS=1 '" + program.string() + "' 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

// chexgen starts without LibTorch (~15 ms instead of ~0.5 s); chexgen-torch, beside it, has the neural stage.
TEST(Program, ChexgenDoesNotLoadLibTorchButChexgenTorchDoes) {
  const std::filesystem::path chexgen = CHEXGEN_BINARY;
  const std::string light = loaded_libraries(chexgen);
  const std::string neural = loaded_libraries(chexgen.parent_path() / "chexgen-torch");
  EXPECT_THAT(light, HasSubstr("libopenblas"));
  EXPECT_THAT(light, ::testing::Not(HasSubstr("libtorch")));
  EXPECT_THAT(neural, HasSubstr("libtorch"));
}

// A command that needs a network is run by chexgen-torch with the same arguments: its help is the real one.
TEST(Program, NetworkCommandsAreRunByChexgenTorch) {
  const auto help = run_chexgen({"utility", "train", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_THAT(help.out, HasSubstr("--epochs"));
  const auto missing = run_chexgen({"utility", "evaluate", "--test", "data/sample/labels.csv"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_THAT(missing.err + missing.out, HasSubstr("--checkpoint is required"));
}

// Without chexgen-torch beside it, such a command says what is missing and how to build it; others still work.
TEST(Program, NetworkCommandWithoutChexgenTorchSaysSo) {
  const std::filesystem::path dir = make_temp_dir();
  const std::filesystem::path alone = dir / "chexgen";
  std::filesystem::copy_file(CHEXGEN_BINARY, alone);
  const std::string source = CHEXGEN_SOURCE_DIR;
  const std::string prefix = "cd '" + source + "' && '" + alone.string() + "' ";
  EXPECT_EQ(std::system((prefix + "--version > /dev/null").c_str()), 0);
  const std::string err = (dir / "err").string();
  const int status = std::system((prefix + "extract data/sample/labels.csv --model m.pt 2> '" + err + "'").c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  const std::string message = read_text(err);
  EXPECT_THAT(message, HasSubstr("extract --model needs the neural-network stage"));
  EXPECT_THAT(message, HasSubstr((dir / "chexgen-torch").string()));
  EXPECT_THAT(message, HasSubstr("--target chexgen-torch"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chexgen::testing
