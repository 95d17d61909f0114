#include "chexgen/privacy/reid.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"

namespace chexgen::privacy {

double ReidHead::score(std::span<const double> a, std::span<const double> b) const {
  CHEXGEN_ASSERT(a.size() == weight.size() && b.size() == weight.size(), "re-id head: embedding sizes differ");
  double logit = bias;
  for (std::size_t i = 0; i < weight.size(); ++i) logit += weight[i] * std::abs(a[i] - b[i]);
  return 1.0 / (1.0 + std::exp(-logit));
}

std::filesystem::path reid_head_path(const std::filesystem::path& model) {
  std::filesystem::path p = model;
  return p.replace_extension(".head.json");
}

ReidHead read_reid_head(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path);
  if (!in)
    throw InputError(Location{file},
                     "cannot read the re-identification head (tools/export_models.py writes it "
                     "beside the branch model as <name>.head.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(Location{file}, fmt::format("not JSON: {}", e.what()));
  }
  ReidHead head;
  if (!j.is_object() || !j.contains("weight") || !j["weight"].is_array() || j["weight"].empty())
    throw InputError(Location{file, std::nullopt, "weight"}, "expected a non-empty array of numbers");
  for (std::size_t i = 0; i < j["weight"].size(); ++i) {
    const auto& w = j["weight"][i];
    if (!w.is_number() || !std::isfinite(w.get<double>()))
      throw InputError(Location{file, std::nullopt, fmt::format("weight[{}]", i)}, "not a finite number");
    head.weight.push_back(w.get<double>());
  }
  if (!j.contains("bias") || !j["bias"].is_number() || !std::isfinite(j["bias"].get<double>()))
    throw InputError(Location{file, std::nullopt, "bias"}, "expected a finite number");
  head.bias = j["bias"].get<double>();
  return head;
}

}  // namespace chexgen::privacy
