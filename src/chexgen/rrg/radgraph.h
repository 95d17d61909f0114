// F1-RadGraph from RadGraph annotations, as LLaVA-Rad's rrg_eval computes it (F1RadGraphv2, reward_level "partial";
// docs/reports.md, "F1-RadGraph"). The annotations come from RadGraph's model (DyGIE++), run by the user; the reward,
// its mean and its bootstrap are computed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace chexgen::rrg {

// A report's entities as the partial reward sees them: each entity's (tokens, label), marked when it has relations.
// Entity tokens are compared as written (case-sensitive, as in rrg_eval's copy).
struct RadGraphAnnotation {
  std::vector<std::string> entities;  // distinct (tokens, label[, related]) keys, sorted
  std::size_t entity_count = 0;       // entities in the annotation (0: the reward is 0)
};

// One annotation: {"entities": {"<id>": {"tokens": str, "label": str, "relations": [[type, id], ...]}, ...}, ...}.
// Any problem is an InputError at `file` naming the JSON path.
RadGraphAnnotation radgraph_annotation_from_json(const nlohmann::json& j, const std::string& file,
                                                 const std::string& path);

// The annotations of the n predictions and n references: RadGraph's output for the list predictions + references,
// a JSON object keyed "0".."2n-1" (as `RadGraph()(texts)` returns it) or an array in that order. Entries of pairs
// where either text is empty are not read (their reward is 0 whatever RadGraph made of them) and may be missing.
// `empty[i]`: pair i has an empty text.
std::vector<RadGraphAnnotation> read_radgraph_annotations(const std::filesystem::path& file, std::size_t n,
                                                          const std::vector<bool>& empty);

struct RadGraphReward {
  double f1 = 0, precision = 0, recall = 0;
};

// exact_entity_token_if_rel_exists_reward, or 0 when either annotation has no entities.
RadGraphReward radgraph_partial_reward(const RadGraphAnnotation& hypothesis, const RadGraphAnnotation& reference);

struct F1RadGraph {
  std::vector<RadGraphReward> rewards;  // per pair; 0 where a text is empty
  double mean = 0;                      // np.mean of the F1 rewards
  double median = 0, low = 0, high = 0; // of scipy's bootstrap distribution (percentile, random_state=seed)
  std::size_t resamples = 0;
};

// annotations: n predictions then n references; empty[i]: pair i has an empty text.
F1RadGraph f1_radgraph(const std::vector<RadGraphAnnotation>& annotations, const std::vector<bool>& empty,
                       std::size_t resamples, double confidence, std::uint32_t seed);

}  // namespace chexgen::rrg
