#include "test_data.h"

#include <fstream>

namespace chexgen::testing {

const nlohmann::json& golden() {
  static const nlohmann::json data = [] {
    std::ifstream in(golden_path("golden.json"));
    if (!in) throw std::runtime_error("cannot open " + golden_path("golden.json"));
    return nlohmann::json::parse(in);
  }();
  return data;
}

}  // namespace chexgen::testing
