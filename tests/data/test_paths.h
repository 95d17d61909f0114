// Where the test fixtures live.
#pragma once

#include <filesystem>
#include <string>

namespace chexgen::test {

inline std::filesystem::path manifest_fixture(const std::string& name) {
  return std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests" / "fixtures" / "manifests" / name;
}

}  // namespace chexgen::test
