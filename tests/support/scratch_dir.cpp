#include "support/scratch_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace chexgen::testing {

std::filesystem::path make_scratch_dir(const std::string& name) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("chexgen-" + name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a scratch directory " + pattern + ": " + std::strerror(errno));
  return pattern;
}

}  // namespace chexgen::testing
