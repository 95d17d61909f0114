#include "chexgen/utility/training_set.h"

#include <array>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/data/link.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::utility {
namespace {

constexpr std::array<std::pair<Setting, std::string_view>, 4> kSettings = {{{Setting::all_original, "all_original"},
                                                                            {Setting::all_synthetic, "all_synthetic"},
                                                                            {Setting::mixed, "mixed"},
                                                                            {Setting::augmented, "augmented"}}};

// The validation split by group: a pair's real image's patient (else the synthetic image's own patient, else the pair
// alone), so that no patient and no real/synthetic pair is on both sides.
void split_by_group(TrainingSet& t, const Dataset* real, const Dataset* synthetic, const TrainingSetOptions& o) {
  std::vector<std::string> keys(t.rows.size());
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const Pair& p = t.pairs[t.rows[r].pair];
    const Sample* owner = p.real ? &real->samples[*p.real] : &synthetic->samples[*p.synthetic];
    keys[r] = owner->patient_id ? "1" + *owner->patient_id : "0" + std::to_string(t.rows[r].pair);
  }
  const auto target = static_cast<std::size_t>(std::ceil(o.validation_fraction * static_cast<double>(keys.size())));
  const std::vector<bool> chosen = fidelity::choose_groups(keys, target, o.seed, &t.validation_groups, &t.groups);
  for (std::size_t r = 0; r < t.rows.size(); ++r) (chosen[r] ? t.validation : t.train).push_back(r);
}

}  // namespace

std::string_view setting_name(Setting s) {
  for (const auto& [setting, name] : kSettings)
    if (setting == s) return name;
  return "";
}

Setting parse_setting(std::string_view name) {
  for (const auto& [setting, n] : kSettings)
    if (n == name) return setting;
  throw UsageError(fmt::format("--setting must be all_original, all_synthetic, mixed or augmented, not '{}'", name));
}

std::string_view protocol_name(Protocol p) { return p == Protocol::fixed ? "fixed" : "chexgenbench"; }

Protocol parse_protocol(std::string_view name) {
  if (name == "fixed") return Protocol::fixed;
  if (name == "chexgenbench") return Protocol::chexgenbench;
  throw UsageError(fmt::format("--protocol must be fixed or chexgenbench, not '{}'", name));
}

TrainingSet build_training_set(const Dataset* real, const Dataset* synthetic, const TrainingSetOptions& o) {
  TrainingSet t;
  t.setting = o.setting;
  t.protocol = o.protocol;
  const bool needs_real = o.setting != Setting::all_synthetic, needs_synthetic = o.setting != Setting::all_original;
  if (needs_real && real == nullptr)
    throw UsageError(fmt::format("--setting {} trains on real images: give --train-real", setting_name(o.setting)));
  if (needs_synthetic && synthetic == nullptr)
    throw UsageError(
        fmt::format("--setting {} trains on synthetic images: give --train-synthetic", setting_name(o.setting)));
  if (!(o.validation_fraction > 0 && o.validation_fraction < 1))
    throw UsageError(fmt::format("--validation-fraction must be in (0, 1), not {}", o.validation_fraction));
  if (o.protocol == Protocol::chexgenbench && o.seed != 42)
    throw UsageError("--protocol chexgenbench draws with CheXGenBench's fixed seed 42; leave --seed out");

  if (real != nullptr) {
    std::vector<std::optional<std::size_t>> twin(real->samples.size());
    if (synthetic != nullptr && needs_synthetic) {
      const auto links = link_generations(*real, *synthetic, o.source_column);
      bool any = false;
      for (std::size_t g = 0; g < links.size(); ++g)
        if (links[g]) {
          any = true;
          if (!twin[*links[g]]) twin[*links[g]] = g;
        }
      if (!any && !synthetic->samples.empty())
        throw InputError(Location{synthetic->source.string()},
                         "the synthetic images name no real training row (no sample_id or source_id column, no "
                         "prompts; --source-column names the column)");
    }
    std::set<std::string> prompts;
    for (std::size_t i = 0; i < real->samples.size(); ++i) {
      const Sample& s = real->samples[i];
      if (s.prompt && !prompts.insert(*s.prompt).second) {
        ++t.prompts_deduplicated;
        continue;
      }
      if (needs_synthetic && !twin[i])
        throw InputError(sample_location(*real, s),
                         fmt::format("no synthetic twin: no image of {} names this row (by id or prompt)",
                                     synthetic->source.string()));
      t.pairs.push_back({i, twin[i]});
    }
  } else {
    for (std::size_t g = 0; g < synthetic->samples.size(); ++g) t.pairs.push_back({std::nullopt, g});
  }

  const std::size_t n = t.pairs.size();
  auto add_real = [&](std::size_t k) { t.rows.push_back({false, *t.pairs[k].real, k}); };
  auto add_synthetic = [&](std::size_t k) { t.rows.push_back({true, *t.pairs[k].synthetic, k}); };
  switch (o.setting) {
    case Setting::all_original:
      for (std::size_t k = 0; k < n; ++k) add_real(k);
      break;
    case Setting::all_synthetic:
      for (std::size_t k = 0; k < n; ++k) add_synthetic(k);
      break;
    case Setting::mixed: {
      // random.seed(seed); random.sample(ids, k=int(0.5 * N)): those pairs train on their synthetic twin; the real
      // rows of the others come first, then the synthetic ones, each in manifest order.
      std::vector<bool> replaced(n, false);
      for (std::size_t k : metrics::PythonRandom(o.seed).sample(n, n / 2)) replaced[k] = true;
      for (std::size_t k = 0; k < n; ++k)
        if (!replaced[k]) add_real(k);
      for (std::size_t k = 0; k < n; ++k)
        if (replaced[k]) add_synthetic(k);
      break;
    }
    case Setting::augmented:
      for (std::size_t k = 0; k < n; ++k) add_real(k);
      for (std::size_t k = 0; k < n; ++k) add_synthetic(k);
      break;
  }
  if (t.rows.size() < 2)
    throw UsageError(fmt::format("the {} setting has {} training image(s): too few to split off a validation set",
                                 setting_name(o.setting), t.rows.size()));

  if (o.protocol == Protocol::chexgenbench) {
    const metrics::IndexSplit s = metrics::sklearn_train_test_split(t.rows.size(), o.validation_fraction, 42);
    t.train = s.train;
    t.validation = s.test;
  } else {
    split_by_group(t, real, synthetic, o);
  }
  if (t.train.empty() || t.validation.empty())
    throw UsageError(
        fmt::format("the validation split of {} training images into {} patient group(s) leaves {} "
                    "side empty; give more images or another --validation-fraction",
                    t.rows.size(), t.groups, t.train.empty() ? "the training" : "the validation"));
  return t;
}

}  // namespace chexgen::utility
