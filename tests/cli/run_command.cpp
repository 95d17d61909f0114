#include "run_command.h"

#include "support/scratch_dir.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace chexgen::testing {

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string make_temp_dir() { return make_scratch_dir("cli").string(); }

namespace {

CommandResult run(const std::vector<std::string>& args, const std::string& cwd,
                  const std::function<bool()>& kill_when) {
  const std::filesystem::path dir = make_temp_dir();
  const auto out_path = dir / "stdout", err_path = dir / "stderr";
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(127);
    if (!freopen(out_path.c_str(), "w", stdout) || !freopen(err_path.c_str(), "w", stderr)) _exit(127);
    std::vector<char*> argv;
    std::string binary = CHEXGEN_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  if (kill_when) {
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (kill_when()) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      usleep(10000);
    }
  } else {
    waitpid(pid, &status, 0);
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  std::filesystem::remove_all(dir);
  return result;
}

}  // namespace

CommandResult run_chexgen(const std::vector<std::string>& args, const std::string& cwd) { return run(args, cwd, {}); }

CommandResult run_chexgen_killed_when(const std::vector<std::string>& args, const std::function<bool()>& condition) {
  return run(args, CHEXGEN_SOURCE_DIR, condition);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  }
  return records;
}

std::filesystem::path make_sample_baselines(const std::filesystem::path& dir, int rows) {
  const std::filesystem::path root(CHEXGEN_SOURCE_DIR);
  std::ifstream in(root / "data/sample/labels.csv");
  std::ofstream out(dir / "labels.csv");
  std::string line;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) out << line << "\n";
  out.close();
  const auto r =
      run_chexgen({"-q", "baselines", (dir / "labels.csv").string(), "--out", (dir / "baselines").string(), "--format",
                   "onehot", "--label-set", "nih", "--image-root", (root / "data/sample").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir / "baselines";
}

}  // namespace chexgen::testing
