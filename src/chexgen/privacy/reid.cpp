#include "chexgen/core/files.h"
#include "chexgen/core/json.h"
#include "chexgen/privacy/reid.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/parallel.h"

namespace chexgen::privacy {

double ReidHead::score(std::span<const double> a, std::span<const double> b) const {
  CHEXGEN_ASSERT(a.size() == weight.size() && b.size() == weight.size(), "re-id head: embedding sizes differ");
  double logit = bias;
  for (std::size_t i = 0; i < weight.size(); ++i) logit += weight[i] * std::abs(a[i] - b[i]);
  return 1.0 / (1.0 + std::exp(-logit));
}

BestMatches best_matches(const ReidHead& head, MatrixViewD queries, MatrixViewD reference, int threads,
                         Progress* progress) {
  const std::size_t d = head.weight.size();
  CHEXGEN_ASSERT(queries.cols == d && reference.cols == d, "re-id head: embedding sizes differ");
  CHEXGEN_ASSERT(reference.rows > 0, "re-id best matches: no reference rows");
  // The reference in blocks of kBlock rows, each stored dimension-major: block[b][i * kBlock + j] is row
  // b * kBlock + j's value i (the last block padded with its last row, never chosen over it: ties go to the lower).
  constexpr std::size_t kBlock = 64;
  const std::size_t blocks = (reference.rows + kBlock - 1) / kBlock;
  std::vector<double> transposed(blocks * d * kBlock);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t j = 0; j < kBlock; ++j) {
      const std::size_t row = std::min(b * kBlock + j, reference.rows - 1);
      for (std::size_t i = 0; i < d; ++i) transposed[(b * d + i) * kBlock + j] = reference(row, i);
    }
  BestMatches best;
  best.score.assign(queries.rows, 0);
  best.index.assign(queries.rows, 0);
  const auto logistic = [](double logit) { return 1.0 / (1.0 + std::exp(-logit)); };
  parallel_for(
      queries.rows, threads,
      [&](std::size_t q) {
        const double* a = queries.row(q);
        double top = -std::numeric_limits<double>::infinity();
        std::size_t top_row = 0;
        double logit[kBlock];
        for (std::size_t b = 0; b < blocks; ++b) {
          std::fill(logit, logit + kBlock, head.bias);
          const double* block = &transposed[b * d * kBlock];
          for (std::size_t i = 0; i < d; ++i) {
            const double w = head.weight[i], ai = a[i];
            const double* column = block + i * kBlock;
            for (std::size_t j = 0; j < kBlock; ++j) logit[j] += w * std::abs(ai - column[j]);
          }
          const std::size_t n = std::min(kBlock, reference.rows - b * kBlock);
          for (std::size_t j = 0; j < n; ++j)
            if (logit[j] > top) {
              top = logit[j];
              top_row = b * kBlock + j;
            }
        }
        best.score[q] = logistic(top);
        best.index[q] = top_row;
      },
      progress);
  return best;
}

std::filesystem::path reid_head_path(const std::filesystem::path& model) {
  std::filesystem::path p = model;
  return p.replace_extension(".head.json");
}

ReidHead read_reid_head(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw InputError(Location{file},
                     "cannot read the re-identification head (tools/export_models.py writes it "
                     "beside the branch model as <name>.head.json)");
  const nlohmann::json j = parse_json(read_file_bytes(path), Location{file});
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
