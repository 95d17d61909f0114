// The privacy evaluation's pieces that its files share (evaluate.cpp runs the phases; table.cpp is CheXGenBench's
// per-prompt table, search.cpp the calibrated search of the whole training set). Not the stage's interface.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"
#include "chexgen/data/manifest.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/image/image.h"
#include "chexgen/metrics/privacy.h"
#include "chexgen/privacy/evaluate.h"
#include "chexgen/results/results.h"

namespace chexgen {
class Log;
}

namespace chexgen::privacy {

// table.cpp
// fn(i) for every i in [0, n) on `threads` workers, with a progress line `label`; an InputError thrown by any call is
// re-thrown, the lowest index first, once every call has run (so the message does not depend on the thread count).
void for_each_image_task(std::size_t n, int threads, const std::string& label, const Log& log,
                         const std::function<void(std::size_t)>& fn);
Image8 pixel_image(const Dataset& d, const Sample& s, int side, ColorMode mode = ColorMode::rgb);
std::vector<double> prompt_pixel_distances(const Dataset& train, const Dataset& generations, const PromptRow& p,
                                           const PrivacyOptions& o);
std::vector<results::MetricRecord> reid_records(const std::vector<PromptRow>& prompts, const PrivacyOptions& o,
                                                std::size_t n_generations);
std::vector<results::MetricRecord> distance_records(const std::vector<PromptRow>& prompts,
                                                    const std::vector<std::string>& latent_spaces,
                                                    const PrivacyOptions& o);

// search.cpp
results::MetricRecord calibrated_rate_record(const results::MetricKey& key, const metrics::CopyRate& c,
                                             const PrivacyOptions& o);
void add_own_patient_scores(results::MetricRecord& rec, const SpaceSearch& s, const Dataset& train,
                            const std::vector<std::size_t>& train_kept, const MatrixD& t, const MatrixD& g,
                            const std::vector<std::optional<std::size_t>>& links, const ReidHead& head,
                            const PrivacyOptions& o);
results::MetricRecord nndr_record(const Dataset& train, const std::vector<std::size_t>& train_kept, const MatrixD& t,
                                  const MatrixD& g, const MatrixD* h, const std::string& space, const PrivacyOptions& o,
                                  const std::string& generations_name);
results::MetricRecord membership_record(const Dataset& train, const std::vector<std::size_t>& train_kept,
                                        const MatrixD& t, const Dataset& holdout,
                                        const std::vector<std::size_t>& holdout_kept, const MatrixD& h,
                                        const fidelity::Split& halves, const MatrixD& g, const std::string& space,
                                        const PrivacyOptions& o);
results::MetricRecord data_copying_record(const MatrixD& t, const MatrixD& g, const MatrixD& h,
                                          const fidelity::Split& halves, const std::string& space,
                                          const PrivacyOptions& o, const std::string& train_name,
                                          const std::string& generations_name);
nlohmann::ordered_json standardise_radiomics(MatrixD& t, MatrixD& g, MatrixD* h);
void add_tiled_distances(std::vector<FlaggedPair>& pairs, const Dataset& train, const Dataset& generations,
                         const PrivacyOptions& o, const Log& log);

}  // namespace chexgen::privacy
