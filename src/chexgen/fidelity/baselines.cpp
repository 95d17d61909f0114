#include "chexgen/fidelity/baselines.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/core/numeric.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/version.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/features/extract.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/filters.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::fidelity {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

std::string format_parameter(double p) { return fmt::format("{:g}", p); }


std::string kind_name(BaselineKind k) {
  switch (k) {
    case BaselineKind::held_out: return "held-out";
    case BaselineKind::copies: return "copies";
    case BaselineKind::blur: return "blur";
    case BaselineKind::noise: return "noise";
    case BaselineKind::downup: return "downup";
  }
  return "?";
}

ojson generator_parameters(const BaselineGenerator& g) {
  switch (g.kind) {
    case BaselineKind::blur:
      return ojson{{"sigma_px", g.parameter}, {"truncate_sigmas", kBlurTruncate}, {"edges", "reflect"}};
    case BaselineKind::noise: return ojson{{"sd_gray_levels", g.parameter}};
    case BaselineKind::downup: return ojson{{"factor", static_cast<int>(g.parameter)}, {"filter", "bilinear (Pillow)"}};
    default: return ojson::object();
  }
}

// Filesystem calls whose failure is an output error naming the path.
void checked(const char* what, const fs::path& p, const std::error_code& ec) {
  if (ec) throw OutputError(fmt::format("{}: cannot {}: {}", p.string(), what, ec.message()));
}

fs::path partial_path(const fs::path& out_dir, const std::string& set_name) {
  return out_dir / (set_name + ".partial");
}

void remove_tree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  checked("remove", p, ec);
}

}  // namespace

// ---------------------------------------------------------------- split

std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed) {
  return metrics::IndexSampler(seed).without_replacement(n, n);
}

std::vector<bool> choose_groups(const std::vector<std::string>& keys, std::size_t target, std::uint64_t seed,
                                std::size_t* groups_chosen, std::size_t* groups_total) {
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(i);
  std::vector<const std::vector<std::size_t>*> ordered;
  for (const auto& [key, members] : groups) ordered.push_back(&members);
  std::vector<bool> chosen(keys.size(), false);
  std::size_t count = 0, chosen_groups = 0;
  const auto distance = [&](std::size_t c) { return c > target ? c - target : target - c; };
  for (const std::size_t g : seeded_permutation(ordered.size(), seed)) {
    const std::size_t size = ordered[g]->size();
    if (distance(count + size) < distance(count)) {  // join when the count ends up nearer the target
      count += size;
      ++chosen_groups;
      for (const std::size_t i : *ordered[g]) chosen[i] = true;
    }
  }
  if (groups_chosen) *groups_chosen = chosen_groups;
  if (groups_total) *groups_total = ordered.size();
  return chosen;
}

Split split_by_patient(const Dataset& dataset, std::uint64_t seed) {
  Split split;
  const std::size_t n = dataset.samples.size();
  for (const auto& s : dataset.samples) split.n_without_patient += s.patient_id ? 0 : 1;
  split.by_patient = split.n_without_patient < n;

  // Group keys: the patient id, or the sample id for a sample without one; the prefix keeps the two kinds apart
  // (samples without a patient sort first).
  std::vector<std::string> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = dataset.samples[i];
    keys[i] = s.patient_id ? "1" + *s.patient_id : "0" + s.id;
  }
  const std::size_t groups = std::set<std::string>(keys.begin(), keys.end()).size();
  if (groups < 2) {
    throw InputError(Location{dataset.source.string()},
                     n == 0 ? "cannot split an empty dataset into a reference and a held-out half"
                            : fmt::format("cannot split {} image(s) of a single {} into two halves", n,
                                          split.by_patient ? "patient" : "sample"));
  }
  const std::vector<bool> reference = choose_groups(keys, n / 2, seed, &split.n_reference_patients);
  split.n_held_out_patients = groups - split.n_reference_patients;
  for (std::size_t i = 0; i < n; ++i) (reference[i] ? split.reference : split.held_out).push_back(i);
  CHEXGEN_ASSERT(!split.reference.empty() && !split.held_out.empty(), "split left a half empty");
  return split;
}

// ---------------------------------------------------------------- generators

std::vector<BaselineGenerator> standard_baselines() {
  std::vector<BaselineGenerator> g;
  g.push_back(
      {"held-out", BaselineKind::held_out, 0, "the held-out real images unchanged: the best a generator can do"});
  g.push_back({"copies", BaselineKind::copies, 0,
               "the reference images themselves: a generator that memorised its training set; fidelity metrics "
               "cannot tell, privacy metrics can"});
  for (const double sigma : {1.0, 2.0, 4.0}) {
    g.push_back({fmt::format("blur-{}", format_parameter(sigma)), BaselineKind::blur, sigma,
                 fmt::format("held-out images, Gaussian blur of sigma {} px", format_parameter(sigma))});
  }
  for (const double sd : {8.0, 16.0, 32.0}) {
    g.push_back({fmt::format("noise-{}", format_parameter(sd)), BaselineKind::noise, sd,
                 fmt::format("held-out images plus Gaussian noise of sd {} gray levels, clipped to 0..255",
                             format_parameter(sd))});
  }
  for (const int f : {2, 4, 8}) {
    g.push_back({fmt::format("downup-{}", f), BaselineKind::downup, static_cast<double>(f),
                 fmt::format("held-out images resized down {}x and back up (Pillow bilinear)", f)});
  }
  return g;
}

Image8 apply_baseline(const BaselineGenerator& generator, const Image8& source, std::uint64_t seed, std::size_t index) {
  switch (generator.kind) {
    case BaselineKind::held_out:
    case BaselineKind::copies: return source;
    case BaselineKind::blur: return gaussian_blur(source, generator.parameter);
    case BaselineKind::noise: return add_gaussian_noise(source, generator.parameter, seed, index);
    case BaselineKind::downup: return down_up(source, static_cast<int>(generator.parameter));
  }
  CHEXGEN_ASSERT(false, "unknown BaselineKind");
}

// ---------------------------------------------------------------- the whole run

std::vector<std::string> output_file_names(const Dataset& dataset) {
  std::vector<std::string> names;
  std::set<std::string> used;
  names.reserve(dataset.samples.size());
  for (const auto& s : dataset.samples) {
    std::string stem = fs::path(s.image_ref).stem().string();
    if (stem.empty()) stem = "image";
    std::string name = stem + ".png";
    for (int k = 2; used.count(name) > 0; ++k) name = fmt::format("{}_{}.png", stem, k);
    used.insert(name);
    names.push_back(std::move(name));
  }
  return names;
}

BaselineRun write_baselines(const Dataset& dataset, const fs::path& out_dir, const BaselineOptions& options,
                            ErrorReport& errors, Progress* progress) {
  BaselineRun run;
  run.split = split_by_patient(dataset, options.seed);
  run.file_names = output_file_names(dataset);
  const auto generators = standard_baselines();
  run.sets.push_back({"reference", run.split.reference});
  for (const auto& g : generators) {
    run.sets.push_back({g.name, g.kind == BaselineKind::copies ? run.split.reference : run.split.held_out});
  }

  claim_output_folder(out_dir, "chexgen baselines");
  // The sets replace out_dir/<name>: none may hold this run's input (the manifest or any of its images).
  for (const auto& set : run.sets) {
    const fs::path replaced = out_dir / set.name;
    const auto refuse = [&](const fs::path& input) {
      if (path_is_within(input, replaced) || path_is_within(input, partial_path(out_dir, set.name))) {
        throw UsageError(fmt::format("--out {}: this run replaces {}, which holds its input {}; choose another "
                                     "output folder",
                                     out_dir.string(), replaced.string(), input.string()));
      }
    };
    refuse(dataset.source);
    for (const Sample& s : dataset.samples) refuse(s.image_path);
  }
  std::error_code ec;
  const auto partial = [&](const std::string& name) { return partial_path(out_dir, name); };
  for (const auto& set : run.sets) {
    remove_tree(partial(set.name));
    fs::create_directories(partial(set.name), ec);
    checked("create the folder", partial(set.name), ec);
  }
  const auto discard_partials = [&] {
    for (const auto& set : run.sets) fs::remove_all(partial(set.name), ec);
  };

  // One task per source image, in manifest order (so that the progress rate is even): decode once, write every
  // output made from it. A held-out image's position in its half seeds its noise.
  std::vector<std::optional<std::size_t>> held_out_position(dataset.samples.size());
  for (std::size_t k = 0; k < run.split.held_out.size(); ++k) held_out_position[run.split.held_out[k]] = k;
  std::vector<std::optional<InputError>> failures(dataset.samples.size());
  try {
    parallel_for(
        dataset.samples.size(), options.threads,
        [&](std::size_t i) {
          const Sample& s = dataset.samples[i];
          Image8 image;
          try {
            image = read_image_u8(s.image_path, ColorMode::gray);
          } catch (const InputError& e) {
            failures[i] = features::sample_error(dataset, s, e.reason());
            return;
          }
          const std::string& file = run.file_names[i];
          if (!held_out_position[i]) {
            write_png(partial("reference") / file, image);
            write_png(partial("copies") / file, image);
            return;
          }
          for (const auto& g : generators) {
            if (g.kind == BaselineKind::copies) continue;
            write_png(partial(g.name) / file, apply_baseline(g, image, options.seed, *held_out_position[i]));
          }
        },
        progress);
  } catch (...) {
    discard_partials();
    throw;
  }
  std::optional<InputError> first;
  for (auto& f : failures) {
    if (!f) continue;
    errors.add(*f);
    if (!first) first = *f;
  }
  if (first) {
    discard_partials();
    throw *first;
  }

  bool any_prompt = false;
  for (const auto& s : dataset.samples) any_prompt = any_prompt || s.prompt.has_value();
  for (const auto& set : run.sets) {
    std::string text;
    for (const std::size_t i : set.samples) {
      const Sample& s = dataset.samples[i];
      ojson line{{"file_name", run.file_names[i]}};
      if (any_prompt) line["prompt"] = s.prompt ? ojson(*s.prompt) : ojson(nullptr);
      if (s.patient_id) line["patient_id"] = *s.patient_id;
      if (!dataset.labels.empty()) {
        line["labels_dict"] = label_dict_json(dataset.labels, s.labels);
      }
      line["source_id"] = s.id;
      text += line.dump() + "\n";
    }
    write_file_atomically(partial(set.name) / "metadata.jsonl", text);
  }

  for (const auto& set : run.sets) {
    const fs::path final_dir = out_dir / set.name;
    remove_tree(final_dir);
    fs::rename(partial(set.name), final_dir, ec);
    checked("rename the folder into place", final_dir, ec);
  }

  const auto set_json = [&](const BaselineSet& set, const std::string& kind, const std::string& source,
                            const ojson& parameters, const std::string& description) {
    return ojson{{"name", set.name},
                 {"kind", kind},
                 {"made_from", source},
                 {"parameters", parameters},
                 {"n_images", set.samples.size()},
                 {"manifest", set.name + "/metadata.jsonl"},
                 {"description", description}};
  };
  ojson generators_json = ojson::array();
  for (std::size_t g = 0; g < generators.size(); ++g) {
    const auto& gen = generators[g];
    generators_json.push_back(set_json(run.sets[g + 1], kind_name(gen.kind),
                                       gen.kind == BaselineKind::copies ? "reference" : "held-out",
                                       generator_parameters(gen), gen.description));
  }
  const Split& sp = run.split;
  const ojson j{
      {"tool", "chexgen baselines"},
      {"version", version_string().substr(0, version_string().find('\n'))},
      {"manifest", dataset.source.string()},
      {"format", manifest_format_name(dataset.format)},
      {"seed", options.seed},
      {"labels", dataset.labels.names()},
      {"split", ojson{{"by", sp.by_patient ? "patient" : "sample"},
                      {"n_images", dataset.samples.size()},
                      {"n_without_patient_id", sp.n_without_patient},
                      {"reference", ojson{{"n_images", sp.reference.size()}, {"n_groups", sp.n_reference_patients}}},
                      {"held_out", ojson{{"n_images", sp.held_out.size()}, {"n_groups", sp.n_held_out_patients}}},
                      {"rule",
                       "groups (patients; a sample without a patient id is its own group) sorted by key, shuffled "
                       "with the seed (mt19937_64, Fisher-Yates), each joining the reference half when that brings "
                       "it nearer half of the images"}}},
      {"reference", ojson{{"name", "reference"},
                          {"n_images", sp.reference.size()},
                          {"manifest", "reference/metadata.jsonl"},
                          {"description", "the real reference set: the first half's images as 8-bit gray PNG"}}},
      {"generators", generators_json},
  };
  write_file_atomically(out_dir / "baselines.json", j.dump(2) + "\n");
  return run;
}

}  // namespace chexgen::fidelity
