// chexgen inspect: reads a manifest and reports samples, images found/missing/unreadable, label
// prevalence, prompt statistics and duplicates (docs/manifests.md, "chexgen inspect").

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/data/dataset_summary.h"
#include "chexgen/data/manifest.h"
#include "chexgen/image/decode.h"
#include "cli/commands.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct InspectArgs {
  std::string manifest;
  ManifestArgs manifest_args;
  std::string json_path;
  bool no_decode = false;
  int max_examples = 5;
};

using ojson = nlohmann::ordered_json;

ojson duplicates_json(const Duplicates& d, const Dataset& dataset, int max_examples, const char* key_name) {
  ojson examples = ojson::array();
  for (std::size_t g = 0; g < d.groups.size() && g < static_cast<std::size_t>(max_examples); ++g) {
    ojson ids = ojson::array();
    for (const auto i : d.groups[g].samples) ids.push_back(dataset.samples[i].id);
    examples.push_back(ojson{{key_name, d.groups[g].key}, {"count", d.groups[g].samples.size()}, {"ids", ids}});
  }
  return ojson{{"n_groups", d.n_groups}, {"n_samples", d.n_samples}, {"examples", examples}};
}

std::string shorten(const std::string& text, std::size_t max_bytes) {
  std::string one_line;
  for (const char c : text) one_line += (c == '\n' || c == '\r') ? ' ' : c;
  if (one_line.size() <= max_bytes) return one_line;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(one_line[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return one_line.substr(0, cut) + "...";
}

void print_duplicates(const char* what, const Duplicates& d, const Dataset& dataset, int max_examples, bool show_key) {
  fmt::print("duplicate {}: {} groups, {} samples\n", what, d.n_groups, d.n_samples);
  for (std::size_t g = 0; g < d.groups.size() && g < static_cast<std::size_t>(max_examples); ++g) {
    std::vector<std::string> ids;
    for (const auto i : d.groups[g].samples) ids.push_back(dataset.samples[i].id);
    const std::string key =
        show_key ? fmt::format("\"{}\"", shorten(d.groups[g].key, 60)) : d.groups[g].key.substr(0, 12);
    fmt::print("  {} x{}: {}\n", key, d.groups[g].samples.size(),
               shorten(fmt::format("{}", fmt::join(ids, ", ")), 200));
  }
}

int run_inspect(const InspectArgs& a, const GlobalOptions& global) {
  const ManifestOptions options = a.manifest_args.options();
  ErrorReport errors;
  Dataset dataset;
  try {
    dataset = read_manifest(a.manifest, options, errors);
  } catch (const InputError&) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} problem(s); the manifest was not used{}\n", a.manifest, errors.size(),
               options.skip_bad ? "" : " (--skip-bad leaves bad rows out)");
    if (!a.json_path.empty()) {
      write_json_file(a.json_path,
                      ojson{{"manifest", a.manifest}, {"manifest_read", false}, {"errors", errors.to_json()}});
    }
    return static_cast<int>(ExitCode::bad_input);
  }
  const std::size_t n_row_errors = errors.size();

  const ImageCheckOptions check_options{global.threads, !a.no_decode};
  const ImageDecodeCheck decode = [](std::span<const std::uint8_t> bytes, const std::string& name) {
    (void)decode_image_u8(bytes, name, ColorMode::gray);
  };
  std::vector<ImageCheck> checks;
  {
    Progress progress(a.no_decode ? "inspect: reading images" : "inspect: decoding images", dataset.samples.size(),
                      ProgressOptions{.enabled = !global.quiet});
    checks = check_images(dataset, check_options, decode, errors, &progress);
  }
  std::size_t n_found = 0, n_missing = 0, n_unreadable = 0;
  std::vector<std::optional<std::string>> hashes;
  for (const auto& c : checks) {
    if (c.status == ImageStatus::ok) ++n_found;
    if (c.status == ImageStatus::missing) ++n_missing;
    if (c.status == ImageStatus::unreadable) ++n_unreadable;
    hashes.push_back(c.sha256.empty() ? std::nullopt : std::optional<std::string>(c.sha256));
  }
  const auto prevalence = label_prevalence(dataset);
  const PromptStats prompts = prompt_stats(dataset);
  const Duplicates dup_prompts = find_duplicate_prompts(dataset);
  const Duplicates dup_images = find_duplicates(hashes);

  // Text report on stdout; every problem on stderr.
  print_errors(errors);
  fmt::print("manifest: {} ({})\n", a.manifest, manifest_format_name(dataset.format));
  fmt::print("samples: {}\n", dataset.samples.size());
  if (dataset.n_skipped > 0) fmt::print("skipped bad rows: {} (--skip-bad; listed on stderr)\n", dataset.n_skipped);
  fmt::print("images: {} found, {} missing, {} unreadable{}\n", n_found, n_missing, n_unreadable,
             a.no_decode ? " (not decoded: --no-decode)" : "");
  if (!dataset.labels.empty()) {
    fmt::print("labels: {:<28} {:>8} {:>8} {:>9} {:>8} {:>9}\n", "", "positive", "negative", "uncertain", "missing",
               "pos.frac");
    for (std::size_t k = 0; k < prevalence.size(); ++k) {
      const auto& c = prevalence[k];
      fmt::print("        {:<28} {:>8} {:>8} {:>9} {:>8} {:>9.4f}\n", dataset.labels.name(k), c.positive, c.negative,
                 c.uncertain, c.missing, c.positive_fraction());
    }
  } else {
    fmt::print("labels: none\n");
  }
  fmt::print("prompts: {} with a prompt", prompts.n_with_prompt);
  if (prompts.n_with_prompt > 0) {
    fmt::print("; words min/mean/max {}/{:.2f}/{}; characters min/mean/max {}/{:.2f}/{}", prompts.words.min,
               prompts.words.mean, prompts.words.max, prompts.characters.min, prompts.characters.mean,
               prompts.characters.max);
  }
  fmt::print("\n");
  print_duplicates("prompts", dup_prompts, dataset, a.max_examples, true);
  print_duplicates("images (sha256)", dup_images, dataset, a.max_examples, false);

  if (!a.json_path.empty()) {
    ojson labels = ojson::object();
    for (std::size_t k = 0; k < prevalence.size(); ++k) {
      const auto& c = prevalence[k];
      labels[dataset.labels.name(k)] = ojson{{"positive", c.positive},
                                             {"negative", c.negative},
                                             {"uncertain", c.uncertain},
                                             {"missing", c.missing},
                                             {"positive_fraction", c.positive_fraction()}};
    }
    const auto length_json = [](const LengthStats& s) {
      return ojson{{"min", s.min}, {"mean", s.mean}, {"max", s.max}};
    };
    ojson j{{"manifest", a.manifest},
            {"manifest_read", true},
            {"format", manifest_format_name(dataset.format)},
            {"n_samples", dataset.samples.size()},
            {"n_skipped", dataset.n_skipped},
            {"decoded", !a.no_decode},
            {"n_found", n_found},
            {"n_missing", n_missing},
            {"n_unreadable", n_unreadable},
            {"label_set", dataset.labels.names()},
            {"label_prevalence", labels},
            {"prompts", ojson{{"n_with_prompt", prompts.n_with_prompt},
                              {"words", length_json(prompts.words)},
                              {"characters", length_json(prompts.characters)}}},
            {"duplicate_prompts", duplicates_json(dup_prompts, dataset, a.max_examples, "prompt")},
            {"duplicate_images", duplicates_json(dup_images, dataset, a.max_examples, "sha256")},
            {"errors", errors.to_json()}};
    write_json_file(a.json_path, j);
  }

  const bool problems = n_row_errors > 0 || n_missing > 0 || n_unreadable > 0;
  if (problems && !options.skip_bad) return static_cast<int>(ExitCode::bad_input);
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_inspect_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Check a dataset manifest: images, labels, prompts, duplicates");
  cmd->add_option("manifest", args->manifest, "Manifest: CSV, metadata.jsonl, or a folder of images")->required();
  add_manifest_options(cmd, args->manifest_args);
  add_skip_bad_flag(cmd, args->manifest_args.skip_bad);
  cmd->add_option("--json", args->json_path, "Also write the report as JSON to this file");
  cmd->add_flag("--no-decode", args->no_decode, "Check that images exist and hash them, without decoding");
  cmd->add_option("--examples", args->max_examples, "Duplicate groups shown")
      ->default_val(5)
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &global, &exit_code] { exit_code = run_inspect(*args, global); });
}

}  // namespace chexgen::cli
