// chexgen reports: the report-generation utility task (docs/reports.md). `reports score` scores generated reports
// against the radiologists' with LLaVA-Rad rrg_eval's metrics and bootstrap intervals; the scoring is
// rrg::score_reports, this file reads the options and writes the outputs.
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/results/results.h"
#include "chexgen/core/progress.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/curation/journal.h"
#include "chexgen/rrg/generate.h"
#include "chexgen/rrg/score.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/http_args.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct ScoreArgs {
  std::string input, out, metrics, labels_pred, labels_ref, radgraph, generator;
  rrg::ReportScoreOptions options;
};

int run_score(ScoreArgs& a, const GlobalOptions& global) {
  rrg::ReportScoreOptions& o = a.options;
  if (!a.metrics.empty()) o.scorers = rrg::parse_report_scorers(a.metrics);
  o.labels_pred = a.labels_pred;
  o.labels_ref = a.labels_ref;
  o.radgraph_annotations = a.radgraph;
  o.threads = global.threads;
  if (o.labels_pred.empty() != o.labels_ref.empty())
    throw UsageError("give CheXbert's labels of both sides: --labels-pred and --labels-ref");
  o.generator = a.generator.empty() ? std::filesystem::path(a.input).parent_path().filename().string() : a.generator;
  if (o.generator.empty()) o.generator = std::filesystem::path(a.input).stem().string();
  const std::vector<rrg::ReportPair> pairs = rrg::read_report_pairs(a.input);
  rrg::ReportScores scores = rrg::score_reports(pairs, o);  // seconds at most: the folder is claimed after
  claim_output_folder(a.out, "chexgen reports score");
  scores.results.provenance["input"] = std::filesystem::absolute(a.input).string();
  const std::filesystem::path out(a.out);
  results::write_results(out / "results.json", scores.results);
  write_lines(out / "main.csv", rrg::main_csv(scores.results));
  write_lines(out / "per_report.csv", rrg::per_report_csv(pairs, scores));
  if (!global.quiet) {
    fmt::print("{} report pairs scored ({} bootstrap resamples)\n", pairs.size(), o.bootstrap);
    for (const results::MetricRecord& r : scores.results.overall.records)
      fmt::print("  {:<14} {:.6g}  [{:.6g}, {:.6g}]\n", results::info(r.key.metric).title, *r.value, r.interval->low,
                 r.interval->high);
    fmt::print("wrote {}\n", (out / "results.json").string());
  }
  return static_cast<int>(ExitCode::success);
}

struct GenerateArgs {
  std::string manifest, out;
  ManifestArgs manifest_args;
  HttpArgs http;
  rrg::ReportGenerationOptions options;
};

int run_generate(GenerateArgs& a, const GlobalOptions& global) {
  namespace fs = std::filesystem;
  a.options.model = a.http.model;
  a.options.concurrency = a.http.concurrency;
  const auto client = a.http.client(global.quiet);
  ErrorReport errors;
  const Dataset test = read_manifest_or_report(a.manifest, a.manifest_args.options(), errors);
  if (test.n_skipped > 0) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} bad row(s) left out (--skip-bad)\n", a.manifest, test.n_skipped);
  }
  if (test.samples.empty()) throw InputError(Location(a.manifest), "no test images");
  claim_output_folder(a.out, "chexgen reports generate");
  Journal journal(fs::path(a.out) / "journal.jsonl");
  Progress progress("reports: " + a.manifest, test.samples.size(), ProgressOptions{.enabled = !global.quiet});
  const rrg::ReportGenerationRun run = rrg::generate_reports(test, a.options, *client, journal, &progress);
  progress.finish();
  fmt::print("{} report(s): {} asked now, {} from the journal; {} request(s), {} retr{}\n", run.reports.size(),
             run.asked, run.from_journal, run.requests, run.retries, run.retries == 1 ? "y" : "ies");
  if (run.failed > 0) {
    for (const rrg::GeneratedReport& r : run.reports)
      if (!r.error.empty()) print_error(r.error);
    fmt::print(stderr,
               "chexgen: {} image(s) have no report (listed above); predictions.jsonl is written once every image "
               "has one: rerun the same command to ask only for those\n",
               run.failed);
    return static_cast<int>(ExitCode::service);
  }
  write_lines(fs::path(a.out) / "predictions.jsonl", rrg::predictions_jsonl(run));
  fmt::print("wrote {0}/predictions.jsonl (journal: {0}/journal.jsonl); score it with chexgen reports score\n", a.out);
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_reports_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* reports = app.add_subcommand(
      "reports", "Report generation: score reports written for real test images against the radiologists' reports");
  reports->require_subcommand(1);
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = reports->add_subcommand(
      "score",
      "Score predicted reports as LLaVA-Rad's rrg_eval does (BLEU-1, BLEU-4, ROUGE-L; CheXbert F1 from label files; "
      "F1-RadGraph from RadGraph annotations), with its bootstrap intervals");
  cmd->add_option("predictions", args->input,
                  "JSON Lines: one {\"prediction\": ..., \"reference\": ...} per test image (\"id\" optional)")
      ->required();
  cmd->add_option("--out", args->out, "Results folder: results.json, main.csv (rrg_eval's table), per_report.csv")
      ->required();
  cmd->add_option("--metrics", args->metrics,
                  "Comma-separated: bleu1,bleu4,rougeL,chexbert,radgraph (default: bleu1,bleu4,rougeL, plus chexbert "
                  "and radgraph when their inputs are given)");
  cmd->add_option("--labels-pred", args->labels_pred,
                  "CheXbert's label CSV of the predictions (label.py's output: a column per observation, 1/0/-1/empty)");
  cmd->add_option("--labels-ref", args->labels_ref, "CheXbert's label CSV of the references, same shape");
  cmd->add_option("--radgraph-annotations", args->radgraph,
                  "RadGraph's annotations of the predictions then the references (JSON, keyed \"0\"..\"2n-1\")");
  cmd->add_option("--bootstrap", args->options.bootstrap, "Resamples of every interval (rrg_eval: 500)")
      ->default_val(500);
  cmd->add_option("--confidence", args->options.confidence, "Of the percentile intervals (CheXbert, RadGraph, "
                  "ROUGE-L; sacrebleu's BLEU interval is always its 95 % rule)")
      ->default_val(0.95);
  cmd->add_option("--bleu-seed", args->options.bleu_seed, "sacrebleu's SACREBLEU_SEED")->default_val(12345);
  cmd->add_option("--rouge-seed", args->options.rouge_seed, "np.random.seed before ROUGE-L's bootstrap (run.py: 3)")
      ->default_val(3);
  cmd->add_option("--extra-info", args->generator,
                  "The generator's name in the results (default: the predictions file's folder name)");
  cmd->callback([args, &global, &exit_code] { exit_code = run_score(*args, global); });

  auto gen = std::make_shared<GenerateArgs>();
  CLI::App* g = reports->add_subcommand(
      "generate",
      "Ask a report generator served behind an OpenAI-compatible chat API for a report per test image, with "
      "LLaVA-Rad's prompt; writes the predictions.jsonl that `reports score` reads. Resumable");
  g->add_option("manifest", gen->manifest,
                "Real test images with their reports (the reference: --reference-column, else the prompt column)")
      ->required();
  g->add_option("--out", gen->out, "Output folder: journal.jsonl, predictions.jsonl")->required();
  add_http_options(g, gen->http, /*required=*/true);
  g->add_option("--reference-column", gen->options.reference_column,
                "Column holding the radiologist's report (default: the manifest's prompt column)");
  g->add_option("--indication-column", gen->options.indication_column,
                "Column holding the indication (default: 'reason' when present, else the question has none)");
  g->add_option("--max-tokens", gen->options.max_tokens, "max_tokens of each request (LLaVA-Rad: 256)")
      ->default_val(256)
      ->check(CLI::Range(1, 100000));
  add_manifest_options(g, gen->manifest_args);
  add_skip_bad_flag(g, gen->manifest_args.skip_bad);
  g->callback([gen, &global, &exit_code] { exit_code = run_generate(*gen, global); });
}

}  // namespace chexgen::cli
