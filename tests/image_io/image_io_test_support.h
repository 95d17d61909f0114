// Paths of the committed image fixtures and the expected pixels made by
// tests/fixtures/make_image_fixtures.py (Pillow 9.4 / numpy).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace chexgen::test {

inline std::filesystem::path image_fixture(const std::string& relative) {
  return std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests" / "data" / "images" / relative;
}

inline const nlohmann::json& expected_pixels() {
  static const nlohmann::json golden = [] {
    std::ifstream in(std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests" / "golden" / "image_io" /
                     "expected_pixels.json");
    return nlohmann::json::parse(in);
  }();
  return golden;
}

}  // namespace chexgen::test
