// A fresh, empty directory for one test, unique to this process: the same test runs twice at once under ctest -j
// (once per BLAS kernel set), so a directory named only after the test would be shared between the two runs.
#pragma once

#include <filesystem>
#include <string>

namespace chexgen::testing {

// Creates <temp>/chexgen-<name>-XXXXXX (mkdtemp) and returns its path; throws when it cannot be made.
std::filesystem::path make_scratch_dir(const std::string& name);

// A scratch directory removed with everything in it when the object goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) : path_(make_scratch_dir(name)) {}
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace chexgen::testing
