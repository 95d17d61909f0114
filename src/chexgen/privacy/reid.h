// Patient re-identification scores (docs/privacy.md): the Siamese network of Packhäuser et al. 2022 that
// CheXGenBench uses. Its branch (sigmoid of a ResNet-50 with a 128-d head) is an ordinary image extractor
// (tools/export_models.py --models reid writes it with CheXGenBench's preprocessing); the pair head is read here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

#include "chexgen/core/matrix.h"
#include "chexgen/features/extractor.h"

namespace chexgen {
class Progress;
}

namespace chexgen::privacy {

// score(a, b) = sigmoid(bias + Σ weight_i · |a_i − b_i|): the probability that two radiographs show the same
// patient, from their branch embeddings a and b.
struct ReidHead {
  std::vector<double> weight;
  double bias = 0;
  double score(std::span<const double> a, std::span<const double> b) const;
};

// For every query embedding, the reference embedding that scores highest with it under `head` and that score (ties:
// the lower reference row). Every pair is scored, exactly as ReidHead::score sums it (the bias, then the weighted
// absolute differences in index order): the pair score is not an inner product, so no GEMM finds its maximum. The
// reference is transposed in blocks so that the sums of one query against a block run side by side; `progress`, when
// given, advances once per query row.
struct BestMatches {
  std::vector<double> score;       // per query row
  std::vector<std::size_t> index;  // per query row: a reference row
};
BestMatches best_matches(const ReidHead& head, MatrixViewD queries, MatrixViewD reference, int threads = 0,
                         Progress* progress = nullptr);

// The whole model: the branch as an extractor (its first output is the embedding) and the head.
struct ReidModel {
  features::Extractor branch;
  ReidHead head;
};

// reid.head.json ({"weight": [...], "bias": b}). Missing, malformed, empty or non-finite: an InputError naming the
// file and the key.
ReidHead read_reid_head(const std::filesystem::path& path);

// Where tools/export_models.py puts the head of a branch model: reid.pt -> reid.head.json.
std::filesystem::path reid_head_path(const std::filesystem::path& model);

// CheXGenBench's default verification threshold δ (Packhäuser et al.): a pair scoring above it is "the same patient".
inline constexpr double kDefaultReidThreshold = 0.5;

}  // namespace chexgen::privacy
