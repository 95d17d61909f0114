#include "cli/neural_stage.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace chexgen::cli {

void run_neural_program(char** argv, const std::string& what) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path program = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / "chexgen-torch";
  std::fflush(stdout);
  std::fflush(stderr);
  execv(program.c_str(), argv);
  const int error = errno;
  fmt::print(stderr,
             "chexgen: {} needs the neural-network stage, which lives in {} (the chexgen program built with "
             "LibTorch), but it cannot be run: {}. Build it with `cmake --build <build folder> --target "
             "chexgen-torch` (the README's commands build both).\n",
             what, program.string(), std::strerror(error));
}

}  // namespace chexgen::cli
