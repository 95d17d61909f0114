// chexgen filter: SynthCheX-75K's quality filter. Every image is graded by a vision-language model over an
// OpenAI-compatible chat-completions API, against its own prompt, with the dataset card's meta-prompt; the run is
// journaled so that a killed run continues; graded.csv, kept.csv and summary.json are written at the end
// (docs/curation.md).
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/progress.h"
#include "chexgen/curation/filter.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/curation/journal.h"
#include "cli/commands.h"
#include "cli/http_args.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

namespace fs = std::filesystem;

struct FilterArgs {
  std::string manifest;
  std::string out;
  std::string keep = "High Quality,Medium Quality";
  std::string meta_prompt_file;
  std::string question_template{kSynthChexQuestionTemplate};
  int max_tokens = 32;
  HttpArgs http;
  ManifestArgs manifest_args;
};

int run_filter_command(const FilterArgs& a, const GlobalOptions& global) {
  FilterOptions options;
  options.model = a.http.model;
  try {
    options.keep = parse_grade_list(a.keep);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("--keep: {}", e.what()));
  }
  options.question_template = a.question_template;
  options.max_tokens = a.max_tokens;
  options.concurrency = a.http.concurrency;
  if (!a.meta_prompt_file.empty()) {
    options.meta_prompt = read_file_bytes(a.meta_prompt_file);
    while (!options.meta_prompt.empty() && (options.meta_prompt.back() == '\n' || options.meta_prompt.back() == '\r')) {
      options.meta_prompt.pop_back();
    }
    if (options.meta_prompt.empty()) throw UsageError(fmt::format("--meta-prompt-file {}: empty", a.meta_prompt_file));
  }
  if (options.question_template.find("{prompt}") == std::string::npos) {
    throw UsageError("--question-template must contain {prompt}, where each image's own prompt goes");
  }
  const auto client = a.http.client(global.quiet);

  const ManifestOptions manifest_options = a.manifest_args.options();
  ErrorReport errors;
  const Dataset dataset = read_manifest_or_report(a.manifest, manifest_options, errors);
  if (dataset.n_skipped > 0) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} bad row(s) left out (--skip-bad)\n", a.manifest, dataset.n_skipped);
  }
  if (dataset.samples.empty()) throw InputError(Location(a.manifest), "no images to grade");
  fs::path root = manifest_options.image_root;
  if (root.empty()) root = fs::is_directory(a.manifest) ? fs::path(a.manifest) : fs::path(a.manifest).parent_path();
  if (root.empty()) root = ".";
  fs::path image_root = fs::absolute(root).lexically_normal();
  if (image_root.filename().empty()) image_root = image_root.parent_path();  // "/a/b/" -> "/a/b"

  claim_output_folder(a.out, "chexgen filter");
  Journal journal(fs::path(a.out) / "journal.jsonl");
  if (journal.torn_tail_bytes() > 0 && !global.quiet) {
    fmt::print(stderr, "chexgen: {}: cut off a half-written last record ({} bytes) left by an interrupted run\n",
               journal.path().string(), journal.torn_tail_bytes());
  }

  Progress progress("filter: " + a.manifest, dataset.samples.size(), ProgressOptions{.enabled = !global.quiet});
  const FilterRun run = run_filter(dataset, options, *client, journal, &progress);
  progress.finish();
  const auto summary = write_filter_outputs(dataset, run, options, client->base_url(), image_root, a.out);

  const auto& counts = summary["counts"];
  fmt::print("graded {} image(s): {} asked now, {} from the journal; {} request(s), {} retr{}\n",
             dataset.samples.size(), run.asked, run.from_journal, run.requests, run.retries,
             run.retries == 1 ? "y" : "ies");
  for (const auto& [grade, n] : counts.items()) fmt::print("  {:<15} {:>7}\n", grade, n.get<std::size_t>());
  fmt::print("kept {} ({}), removed {}\n", summary["kept"].get<std::size_t>(), a.keep,
             summary["removed"].get<std::size_t>());
  fmt::print("wrote {0}/graded.csv, {0}/kept.csv, {0}/summary.json (journal: {0}/journal.jsonl)\n", a.out);
  const std::size_t n_errors = counts["error"].get<std::size_t>();
  if (n_errors > 0) {
    for (const auto& r : run.results) {
      if (r.outcome == Outcome::error) print_error(r.reason);
    }
    fmt::print(stderr,
               "chexgen: {} image(s) could not be graded (listed above and in graded.csv); rerun the same "
               "command to retry only those\n",
               n_errors);
    return static_cast<int>(ExitCode::service);
  }
  return 0;
}

}  // namespace

void add_filter_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<FilterArgs>();
  CLI::App* cmd = app.add_subcommand(
      "filter",
      "Grade every image with a vision-language model (OpenAI-compatible chat completions) against its "
      "own prompt, using SynthCheX-75K's meta-prompt; keep High and Medium Quality. Resumable");
  cmd->add_option("manifest", args->manifest,
                  "Images with their prompts: generations.csv from chexgen generate, CheXGenBench's prompt_INFO.csv "
                  "(img_savename, prompt), a metadata.jsonl, ...")
      ->required();
  cmd->add_option("--out", args->out, "Output folder: journal.jsonl, graded.csv, kept.csv, summary.json")->required();
  add_http_options(cmd, args->http, /*required=*/true);
  cmd->add_option("--keep", args->keep, "Grades to keep, comma-separated")->default_val("High Quality,Medium Quality");
  cmd->add_option("--meta-prompt-file", args->meta_prompt_file,
                  "System message to use instead of the dataset card's meta-prompt");
  cmd->add_option("--question-template", args->question_template,
                  "User question; {prompt} is replaced by the image's own prompt")
      ->default_str(std::string(kSynthChexQuestionTemplate));
  cmd->add_option("--max-tokens", args->max_tokens, "max_tokens of each request")
      ->default_val(32)
      ->check(CLI::Range(1, 100000));
  add_manifest_options(cmd, args->manifest_args);
  add_skip_bad_flag(cmd, args->manifest_args.skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_filter_command(*args, global); });
}

}  // namespace chexgen::cli
