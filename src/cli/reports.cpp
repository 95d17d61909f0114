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
#include "chexgen/features/extract.h"
#include "chexgen/features/feature_store.h"
#include "chexgen/radiomics/extractor.h"
#include "chexgen/rrg/generate.h"
#include "chexgen/rrg/retrieval.h"
#include "chexgen/rrg/score.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/http_args.h"
#include "cli/manifest_args.h"
#include "cli/neural_stage.h"
#if CHEXGEN_NEURAL
#include "chexgen/deep/text_model.h"
#include "chexgen/features/extractor.h"
#include "chexgen/deep/torch_model.h"
#endif

namespace chexgen::cli {
namespace {

struct ScoreArgs {
  std::string input, out, metrics, labels_pred, labels_ref, radgraph, generator;
  std::string chexbert, device = "auto";
  bool no_optimize = false;
  rrg::ReportScoreOptions options;
};

#if CHEXGEN_NEURAL
// CheXbert's labels of the predictions and the references, as rrg_eval runs it: one list, predictions first, in
// batches of the sidecar's batch_size (rrg_eval: 128).
void label_with_chexbert(const ScoreArgs& a, const std::vector<rrg::ReportPair>& pairs, const GlobalOptions& global,
                         rrg::ReportScoreOptions& o, std::vector<std::string>& texts) {
  deep::TextModel model(a.chexbert, deep::RunOptions{deep::parse_device(a.device), global.threads, !a.no_optimize});
  if (model.dim() != 56)
    throw InputError(Location(a.chexbert), fmt::format("a CheXbert export gives 56 logits per report (14 heads of 4, "
                                                       "tools/export_models.py --models chexbert); this model gives {}",
                                                       model.dim()));
  std::vector<Location> where;
  for (int side = 0; side < 2; ++side)
    for (const rrg::ReportPair& p : pairs) {
      texts.push_back(rrg::chexbert_text(side == 0 ? p.prediction : p.reference));
      where.emplace_back(a.input, p.line, side == 0 ? "prediction" : "reference");
    }
  if (!global.quiet) fmt::print(stderr, "CheXbert: labelling {} reports with {}\n", texts.size(), a.chexbert);
  const std::vector<rrg::ChexbertRow> rows = rrg::chexbert_classes(model.embed(texts, where));
  o.predicted_labels.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(pairs.size()));
  o.reference_labels.assign(rows.begin() + static_cast<std::ptrdiff_t>(pairs.size()), rows.end());
  o.labels_source = model.extractor_id();
}
#endif

int run_score(ScoreArgs& a, const GlobalOptions& global) {
  rrg::ReportScoreOptions& o = a.options;
  if (!a.metrics.empty()) o.scorers = rrg::parse_report_scorers(a.metrics);
  o.labels_pred = a.labels_pred;
  o.labels_ref = a.labels_ref;
  o.radgraph_annotations = a.radgraph;
  o.threads = global.threads;
  if (o.labels_pred.empty() != o.labels_ref.empty())
    throw UsageError("give CheXbert's labels of both sides: --labels-pred and --labels-ref");
  if (!a.chexbert.empty() && !o.labels_pred.empty())
    throw UsageError("--chexbert labels the reports itself: leave out --labels-pred and --labels-ref");
#if !CHEXGEN_NEURAL
  if (!a.chexbert.empty()) needs_neural_stage("reports score --chexbert");
#endif
  o.generator = a.generator.empty() ? std::filesystem::path(a.input).parent_path().filename().string() : a.generator;
  if (o.generator.empty()) o.generator = std::filesystem::path(a.input).stem().string();
  const std::vector<rrg::ReportPair> pairs = rrg::read_report_pairs(a.input);
  std::vector<std::string> chexbert_texts;
#if CHEXGEN_NEURAL
  if (!a.chexbert.empty()) label_with_chexbert(a, pairs, global, o, chexbert_texts);
#endif
  rrg::ReportScores scores = rrg::score_reports(pairs, o);  // seconds at most: the folder is claimed after
  claim_output_folder(a.out, "chexgen reports score");
  scores.results.provenance["input"] = std::filesystem::absolute(a.input).string();
  const std::filesystem::path out(a.out);
  results::write_results(out / "results.json", scores.results);
  write_lines(out / "main.csv", rrg::main_csv(scores.results));
  write_lines(out / "per_report.csv", rrg::per_report_csv(pairs, scores));
  if (!o.predicted_labels.empty()) {  // CheXbert's labels, in the shape --labels-pred / --labels-ref read
    const auto half = static_cast<std::ptrdiff_t>(pairs.size());
    write_lines(out / "labels_pred.csv",
                rrg::chexbert_labels_csv(o.predicted_labels, {chexbert_texts.begin(), chexbert_texts.begin() + half}));
    write_lines(out / "labels_ref.csv",
                rrg::chexbert_labels_csv(o.reference_labels, {chexbert_texts.begin() + half, chexbert_texts.end()}));
  }
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

struct RetrieveArgs {
  std::string train, test, out;
  ManifestArgs train_args, test_args;
  std::string train_report_column, reference_column;
  ExtractorArgs radiomics_args;
  std::string model, device = "auto";
  bool no_optimize = false;
  bool skip_bad = false;
};

// The columns of `f` from `first` on, `count` wide (a model's first output).
MatrixD columns_of(const MatrixD& f, std::size_t first, std::size_t count) {
  MatrixD out(f.rows(), count);
  for (std::size_t i = 0; i < f.rows(); ++i) std::copy_n(f.row(i) + first, count, out.row(i));
  return out;
}

// A sample's report: `column`'s cell, else its prompt; an InputError naming the row when there is none.
std::string report_of(const Dataset& d, const Sample& s, const std::string& column) {
  const std::string* v = rrg::sample_report(s, column);
  if (v == nullptr)
    throw InputError(Location(d.source.string(), s.row, column.empty() ? "prompt" : column), "no report");
  return *v;
}

int run_retrieve(RetrieveArgs& a, const GlobalOptions& global) {
  namespace fs = std::filesystem;
#if !CHEXGEN_NEURAL
  if (!a.model.empty()) needs_neural_stage("reports retrieve --model");
#endif
  // The feature space: radiomics (weight-free), or a model's first output.
  features::ImageFeatureExtractor extractor;
  std::string space = "radiomic";
  std::size_t first_col = 0, cols = 0;
  if (a.model.empty()) {
    extractor = radiomics::as_image_extractor(
        std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.radiomics_args)));
    cols = extractor.columns.size();
  } else {
#if CHEXGEN_NEURAL
    const features::Extractor model = deep::load_image_extractor(
        a.model, deep::RunOptions{deep::parse_device(a.device), global.threads, !a.no_optimize});
    extractor = model.rows;
    space = model.name + " (" + model.outputs.front().name + ")";
    first_col = model.outputs.front().offset;
    cols = model.outputs.front().dim;
#endif
  }
  features::FeatureStore store(store_root(a.radiomics_args.store), extractor.id, extractor.columns);
  ManifestOptions train_options = a.train_args.options(), test_options = a.test_args.options();
  train_options.skip_bad = test_options.skip_bad = a.skip_bad;
  const std::string what = a.model.empty() ? "radiomics" : "features";
  const ExtractedSet train = extract_set(a.train, train_options, extractor, store, global, what, "train");
  const ExtractedSet test = extract_set(a.test, test_options, extractor, store, global, what, "test");
  if (train.features.samples.empty() || test.features.samples.empty())
    throw InputError(Location(train.features.samples.empty() ? a.train : a.test), "no measurable images");
  // Reports before any distance: a missing one is named at once.
  std::vector<std::string> train_reports, references;
  for (std::size_t s : train.features.samples)
    train_reports.push_back(report_of(train.dataset, train.dataset.samples[s], a.train_report_column));
  for (std::size_t s : test.features.samples)
    references.push_back(report_of(test.dataset, test.dataset.samples[s], a.reference_column));
  const rrg::NearestRows nn = rrg::nearest_training_rows(columns_of(train.features.values, first_col, cols),
                                                         columns_of(test.features.values, first_col, cols),
                                                         global.threads);
  claim_output_folder(a.out, "chexgen reports retrieve");
  std::vector<std::string> jsonl, csv{csv_record({"id", "image", "nearest_train_id", "nearest_train_image",
                                                  "distance"})};
  for (std::size_t i = 0; i < nn.nearest.size(); ++i) {
    const Sample& t = test.dataset.samples[test.features.samples[i]];
    const Sample& n = train.dataset.samples[train.features.samples[nn.nearest[i]]];
    jsonl.push_back(nlohmann::json{{"id", t.id},
                                   {"image", t.image_ref},
                                   {"query", "retrieval: the report of the nearest training image (" + n.image_ref + ")"},
                                   {"prediction", train_reports[nn.nearest[i]]},
                                   {"reference", references[i]}}
                        .dump());
    csv.push_back(csv_record({t.id, t.image_ref, n.id, n.image_ref, fmt::format("{}", nn.distance[i])}));
  }
  write_lines(fs::path(a.out) / "predictions.jsonl", jsonl);
  write_lines(fs::path(a.out) / "retrieval.csv", csv);
  if (!global.quiet) {
    fmt::print("{} test image(s), each given the report of its nearest of {} training image(s) ({} {} features "
               "compared, {} constant or not finite left out)\n",
               nn.nearest.size(), train_reports.size(), nn.kept_columns.size(), space, nn.dropped_columns.size());
    fmt::print("wrote {0}/predictions.jsonl, {0}/retrieval.csv; score it with chexgen reports score\n", a.out);
  }
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
      "Score predicted reports as LLaVA-Rad's rrg_eval does (BLEU-1, BLEU-4, ROUGE-L; CheXbert F1 from CheXbert or its "
      "label files; "
      "F1-RadGraph from RadGraph annotations), with its bootstrap intervals");
  cmd->add_option("predictions", args->input,
                  "JSON Lines: one {\"prediction\": ..., \"reference\": ...} per test image (\"id\" optional)")
      ->required();
  cmd->add_option("--out", args->out, "Results folder: results.json, main.csv (rrg_eval's table), per_report.csv")
      ->required();
  cmd->add_option("--metrics", args->metrics,
                  "Comma-separated: bleu1,bleu4,rougeL,chexbert,radgraph (default: bleu1,bleu4,rougeL, plus chexbert "
                  "and radgraph when their inputs are given)");
  cmd->add_option("--chexbert", args->chexbert,
                  "CheXbert exported to TorchScript (tools/export_models.py --models chexbert): label both sides with "
                  "it; its labels are written as labels_pred.csv and labels_ref.csv");
  cmd->add_option("--device", args->device, "Where CheXbert runs: auto | cpu | cuda")->default_val("auto");
  cmd->add_flag("--no-optimize", args->no_optimize, "Run CheXbert as loaded (bit-for-bit the plain module)");
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

  auto ret = std::make_shared<RetrieveArgs>();
  CLI::App* r = reports->add_subcommand(
      "retrieve",
      "The report-generation baseline: give each real test image the report of its nearest training image (radiomic "
      "features, weight-free, or a model's with --model; z-scored); train on a generator's synthetic images or on "
      "real ones, then score with `reports score`");
  r->add_option("--train", ret->train, "Training images with their reports (synthetic: their prompts)")->required();
  r->add_option("--test", ret->test, "Real test images with their reports")->required();
  r->add_option("--out", ret->out, "Output folder: predictions.jsonl, retrieval.csv")->required();
  r->add_option("--train-report-column", ret->train_report_column,
                "Column of the training manifest holding the report (default: its prompt column)");
  r->add_option("--reference-column", ret->reference_column,
                "Column of the test manifest holding the report (default: its prompt column)");
  add_extractor_options(r, ret->radiomics_args);
  r->add_option("--model", ret->model,
                "TorchScript image model with its sidecar: compare its first output instead of radiomic features");
  r->add_option("--device", ret->device, "Where the model runs: auto | cpu | cuda")->default_val("auto");
  r->add_flag("--no-optimize", ret->no_optimize, "Run the model as loaded (bit-for-bit the plain module)");
  add_manifest_options(r, ret->train_args, "train");
  add_manifest_options(r, ret->test_args, "test");
  add_skip_bad_flag(r, ret->skip_bad);
  r->callback([ret, &global, &exit_code] { exit_code = run_retrieve(*ret, global); });
}

}  // namespace chexgen::cli
