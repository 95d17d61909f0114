// chexgen export: a graded (or any) manifest -> a dataset in SynthCheX-75K's shape (images/, metadata.jsonl,
// prompt_INFO.csv, a dataset card and export.json) that Hugging Face `datasets` loads as an imagefolder
// (docs/export.md).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/curation/export.h"
#include "cli/commands.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {
namespace fs = std::filesystem;

// How many unparsed/error rows are named on stderr (export.json and the card list them too).
constexpr std::size_t kListedRows = 20;

struct ExportArgs {
  std::string manifest;
  std::string out;
  std::string keep = "High Quality,Medium Quality";
  std::string label_policy = "binary";
  bool no_labels = false;
  bool link = false;
  std::string filter_summary;
  std::string generation_info;
  ManifestArgs manifest_args;
};

bool same_folder(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const fs::path da = a.parent_path().empty() ? fs::path(".") : a.parent_path();
  const fs::path db = b.parent_path().empty() ? fs::path(".") : b.parent_path();
  return fs::equivalent(da, db, ec);
}

// A provenance file found by looking (not named on the command line) that is not what its name suggests is left
// out of the card with a note; one named on the command line must be right.
template <class Info, class Read>
std::optional<Info> read_found(const std::optional<fs::path>& found, Read read) {
  if (!found) return std::nullopt;
  try {
    return read(*found);
  } catch (const InputError& e) {
    fmt::print(stderr, "chexgen: note: not used for the dataset card: {}\n", e.what());
    return std::nullopt;
  }
}

int run_export(const ExportArgs& a, bool keep_given, const GlobalOptions& global) {
  ExportOptions eo;
  try {
    eo.keep = parse_grade_list(a.keep);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("--keep: {}", e.what()));
  }
  eo.label_policy = parse_label_policy(a.label_policy);
  eo.no_labels = a.no_labels;
  eo.link = a.link;
  eo.threads = global.threads;
  ManifestOptions options = a.manifest_args.options();

  std::optional<FilterInfo> filter = a.filter_summary.empty()
                                         ? read_found<FilterInfo>(find_filter_summary(a.manifest),
                                                                  [](const fs::path& p) { return read_filter_info(p); })
                                         : std::optional<FilterInfo>(read_filter_info(a.filter_summary));
  // The filter's kept.csv / graded.csv keep the image paths of the manifest it graded, relative to that manifest's
  // image root, which its summary.json records.
  if (options.image_root.empty() && filter && !filter->image_root.empty() && same_folder(filter->path, a.manifest)) {
    options.image_root = filter->image_root;
    fmt::print(stderr, "chexgen: image paths are resolved against {} (the filter's image folder, from {})\n",
               filter->image_root, filter->path.string());
  }

  ErrorReport errors;
  const Dataset dataset = read_manifest_or_report(a.manifest, options, errors);
  if (keep_given && !has_quality_column(dataset)) {
    throw UsageError(
        fmt::format("--keep: {} has no 'quality' column to keep rows by (export the filter's "
                    "graded.csv or kept.csv, or leave --keep out to export every row)",
                    a.manifest));
  }
  const fs::path image_root = options.image_root.empty() ? fs::path(a.manifest).parent_path() : options.image_root;
  eo.generation =
      a.generation_info.empty()
          ? read_found<GenerationInfo>(find_generation_info(a.manifest, image_root, filter ? &*filter : nullptr),
                                       [](const fs::path& p) { return read_generation_info(p); })
          : std::optional<GenerationInfo>(read_generation_info(a.generation_info));
  eo.filter = filter;

  ExportSummary s;
  try {
    const ProgressOptions progress{.enabled = !global.quiet};
    s = export_dataset(dataset, a.out, eo, errors, &progress);
  } catch (const InputError&) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} problem(s); no metadata.jsonl was written to {}{}\n", a.manifest, errors.size(),
               a.out,
               fs::exists(fs::path(a.out) / "images") ? " (images already copied stay; a rerun keeps them)" : "");
    return static_cast<int>(ExitCode::bad_input);
  }

  if (s.has_quality) {
    std::string counts;
    for (std::size_t q = 0; q < quality_names().size(); ++q) {
      if (q < 4 && std::find(eo.keep.begin(), eo.keep.end(), static_cast<Grade>(q)) != eo.keep.end()) {
        continue;  // a kept grade (Grade's enumerators are in quality_names() order)
      }
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", quality_names()[q], s.left_out_per_quality[q]);
    }
    fmt::print(stderr, "chexgen: {}: left out {} of {} rows by quality: {}\n", a.manifest, s.n_rows - s.n_exported,
               s.n_rows, counts);
    for (std::size_t i = 0; i < s.unparsed_or_error.size() && i < kListedRows; ++i) {
      const auto& r = s.unparsed_or_error[i];
      fmt::print(stderr, "chexgen: {}:{}: left out ({}): {}\n", a.manifest, r.row, r.quality, r.image);
    }
    if (s.unparsed_or_error.size() > kListedRows) {
      fmt::print(stderr, "chexgen: ... and {} more unparsed/error rows (all listed in {}/export.json)\n",
                 s.unparsed_or_error.size() - kListedRows, a.out);
    }
  }
  if (s.n_removed_stale > 0) {
    fmt::print(stderr, "chexgen: removed {} image(s) that an earlier export into {} wrote and this one leaves out\n",
               s.n_removed_stale, a.out);
  }

  fmt::print("exported {} of {} images to {}/images ({} {}, {} already there, {} replaced)\n", s.n_exported, s.n_rows,
             a.out, eo.link ? s.n_linked : s.n_copied, eo.link ? "linked" : "copied", s.n_already_there, s.n_replaced);
  fmt::print("card: filter {}; generator {}\n",
             eo.filter ? fmt::format("{} ({})", eo.filter->model.empty() ? "model unknown" : eo.filter->model,
                                     eo.filter->path.string())
                       : "unknown",
             eo.generation
                 ? fmt::format("{} ({})", eo.generation->model.empty() ? eo.generation->backend : eo.generation->model,
                               eo.generation->path.string())
                 : "unknown");
  fmt::print("wrote {0}/metadata.jsonl, {0}/prompt_INFO.csv, {0}/README.md and {0}/export.json\n", a.out);
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write a graded (or any) manifest as a dataset in SynthCheX-75K's shape: images/, metadata.jsonl "
      "for Hugging Face imagefolder, prompt_INFO.csv and a dataset card");
  cmd->add_option("manifest", args->manifest,
                  "Manifest: the filter's kept.csv or graded.csv, generate's "
                  "generations.csv, or any manifest with prompts")
      ->required();
  cmd->add_option("--out", args->out,
                  "Output folder: images/, metadata.jsonl, prompt_INFO.csv, README.md, "
                  "export.json")
      ->required();
  CLI::Option* keep = cmd->add_option("--keep", args->keep,
                                      "Grades to export, comma-separated (rows of other grades, unparsed or error "
                                      "are left out and counted); needs a quality column")
                          ->default_val("High Quality,Medium Quality");
  cmd->add_option("--label-policy", args->label_policy,
                  "binary: positive -> 1, anything else -> 0 (the dataset card's convention); raw: 1/0/-1/null")
      ->default_val("binary")
      ->check(CLI::IsMember({"binary", "raw"}));
  cmd->add_flag("--no-labels", args->no_labels, "Write no labels_dict (needed when the manifest has no labels)");
  cmd->add_flag("--link", args->link, "Hard-link the images instead of copying them (same file system only)");
  cmd->add_option("--filter-summary", args->filter_summary,
                  "The filter's summary.json, for the card (default: summary.json beside the manifest)");
  cmd->add_option("--generation-info", args->generation_info,
                  "generate's generation.json, for the card (default: beside the manifest, in the image folder, or "
                  "beside the manifest the filter graded)");
  add_manifest_options(cmd, args->manifest_args);
  cmd->callback([args, keep, &global, &exit_code] { exit_code = run_export(*args, keep->count() > 0, global); });
}

}  // namespace chexgen::cli
