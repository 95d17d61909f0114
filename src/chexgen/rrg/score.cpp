#include "chexgen/rrg/score.h"

#include <algorithm>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/json.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/version.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/rrg/bleu.h"
#include "chexgen/rrg/chexbert.h"

namespace chexgen::rrg {
namespace {

using results::Metric;
using results::MetricRecord;

std::string number(double v) { return fmt::format("{}", v); }

bool has(const std::vector<ReportScorer>& s, ReportScorer x) { return std::find(s.begin(), s.end(), x) != s.end(); }

MetricRecord record(Metric m, double value, double low, double high, nlohmann::ordered_json details) {
  MetricRecord r;
  r.key = {m, std::string(results::info(m).default_space)};
  r.value = value;
  r.interval = metrics::Interval{low, high};
  r.details = std::move(details);
  return r;
}

}  // namespace

std::vector<ReportPair> read_report_pairs(const std::filesystem::path& jsonl) {
  const std::string name = jsonl.string();
  const std::string text = read_file_bytes(jsonl);
  std::vector<ReportPair> pairs;
  for (const JsonLine& l : json_lines(text)) {
    const std::size_t line_no = l.number;
    if (l.blank())
      throw InputError(Location(name, line_no), "an empty line (rrg_eval reads one JSON object per line)");
    const nlohmann::json j = parse_json(l.text, Location(name, line_no));
    if (!j.is_object()) throw InputError(Location(name, line_no), "not a JSON object");
    ReportPair p;
    p.line = line_no;
    for (const char* key : {"prediction", "reference"}) {
      const auto it = j.find(key);
      if (it == j.end()) throw InputError(Location(name, line_no, key), "missing");
      if (!it->is_string()) throw InputError(Location(name, line_no, key), "not a string");
      (std::string_view(key) == "prediction" ? p.prediction : p.reference) = it->get<std::string>();
    }
    if (const auto it = j.find("id"); it != j.end())
      p.id = it->is_string() ? it->get<std::string>() : it->dump();
    else
      p.id = std::to_string(line_no);
    pairs.push_back(std::move(p));
  }
  if (pairs.empty()) throw InputError(Location(name), "no report pairs");
  return pairs;
}

std::vector<ReportScorer> parse_report_scorers(std::string_view list) {
  std::vector<ReportScorer> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view name = list.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    ReportScorer s;
    if (name == "bleu1" || name == "BLEU-1") s = ReportScorer::bleu1;
    else if (name == "bleu4" || name == "BLEU-4") s = ReportScorer::bleu4;
    else if (name == "rougeL" || name == "ROUGE-L") s = ReportScorer::rouge_l;
    else if (name == "chexbert" || name == "CheXbert") s = ReportScorer::chexbert;
    else if (name == "radgraph" || name == "F1-RadGraph") s = ReportScorer::radgraph;
    else
      throw UsageError(fmt::format("unknown report metric '{}' (known: bleu1, bleu4, rougeL, chexbert, radgraph)",
                                   printable_text(name)));
    if (!has(out, s)) out.push_back(s);
  }
  if (out.empty()) throw UsageError("--metrics names no metric");
  return out;
}

ReportScores score_reports(const std::vector<ReportPair>& pairs, const ReportScoreOptions& options) {
  CHEXGEN_ASSERT(!pairs.empty(), "score_reports: no pairs");
  if (options.bootstrap < 2) throw UsageError("--bootstrap must be at least 2 (rrg_eval: 500)");
  if (!(options.confidence > 0 && options.confidence < 1)) throw UsageError("--confidence must be in (0, 1)");
  std::vector<ReportScorer> scorers = options.scorers;
  const bool have_model_labels = !options.predicted_labels.empty() || !options.reference_labels.empty();
  const bool have_labels = !options.labels_pred.empty() || !options.labels_ref.empty() || have_model_labels;
  if (scorers.empty()) {
    scorers = {ReportScorer::bleu1, ReportScorer::bleu4, ReportScorer::rouge_l};
    if (have_labels) scorers.push_back(ReportScorer::chexbert);
    if (!options.radgraph_annotations.empty()) scorers.push_back(ReportScorer::radgraph);
  }
  if (has(scorers, ReportScorer::chexbert) && !have_model_labels &&
      (options.labels_pred.empty() || options.labels_ref.empty()))
    throw UsageError("CheXbert F1 needs CheXbert's labels of both sides: --labels-pred and --labels-ref, or a model "
                     "(--chexbert)");
  if (has(scorers, ReportScorer::radgraph) && options.radgraph_annotations.empty())
    throw UsageError("F1-RadGraph needs RadGraph's annotations: --radgraph-annotations");

  const std::size_t n = pairs.size();
  std::vector<std::string> predictions, references;
  predictions.reserve(n);
  references.reserve(n);
  for (const ReportPair& p : pairs) {
    predictions.push_back(p.prediction);
    references.push_back(p.reference);
  }
  ReportScores out;
  results::Results& r = out.results;
  r.evaluation = "reports";
  r.generator = options.generator;
  r.overall.n_real = r.overall.n_synthetic = n;
  const double alpha = (1 - options.confidence) / 2;

  // The inputs first, so that their errors come in a fixed order; then each metric on its own worker.
  std::vector<ChexbertRow> pred_labels, ref_labels;
  if (has(scorers, ReportScorer::chexbert) && have_model_labels) {
    CHEXGEN_ASSERT(options.predicted_labels.size() == n && options.reference_labels.size() == n,
                   "score_reports: one label row per pair");
    pred_labels = options.predicted_labels;
    ref_labels = options.reference_labels;
  } else if (has(scorers, ReportScorer::chexbert)) {
    pred_labels = read_chexbert_labels(options.labels_pred);
    ref_labels = read_chexbert_labels(options.labels_ref);
    for (const auto& [rows, file] : {std::pair{&pred_labels, &options.labels_pred},
                                     std::pair{&ref_labels, &options.labels_ref}})
      if (rows->size() != n)
        throw InputError(Location(file->string()),
                         fmt::format("{} label rows for {} report pairs (one row per report, in order)", rows->size(),
                                     n));
  }
  std::vector<bool> empty(n);
  for (std::size_t i = 0; i < n; ++i) empty[i] = pairs[i].prediction.empty() || pairs[i].reference.empty();
  std::vector<RadGraphAnnotation> annotations;
  if (has(scorers, ReportScorer::radgraph))
    annotations = read_radgraph_annotations(options.radgraph_annotations, n, empty);

  std::optional<ChexbertF1> chexbert;
  std::optional<F1RadGraph> radgraph;
  std::optional<CorpusBleu> bleu1, bleu4;
  std::optional<RougeAggregate> rouge;
  // Per pair first (each spread over the workers), then the corpus scores and bootstraps side by side.
  const bool want_bleu1 = has(scorers, ReportScorer::bleu1), want_bleu4 = has(scorers, ReportScorer::bleu4);
  std::vector<BleuStats> segments;
  if (want_bleu1 || want_bleu4)  // one pass over the text serves both orders
    segments = bleu_segment_stats(predictions, references, want_bleu4 ? 4 : 1, options.threads);
  if (has(scorers, ReportScorer::rouge_l)) out.rouge = rouge_l_scores(predictions, references, options.threads);
  std::vector<std::function<void()>> tasks;
  if (want_bleu1) tasks.emplace_back([&] { bleu1 = corpus_bleu(segments, 1, options.bootstrap, options.bleu_seed); });
  if (want_bleu4) tasks.emplace_back([&] { bleu4 = corpus_bleu(segments, 4, options.bootstrap, options.bleu_seed); });
  if (has(scorers, ReportScorer::rouge_l))
    tasks.emplace_back([&] { rouge = rouge_bootstrap(out.rouge, options.bootstrap, options.confidence, options.rouge_seed); });
  if (has(scorers, ReportScorer::chexbert))
    tasks.emplace_back([&] {
      chexbert = chexbert_f1(pred_labels, ref_labels, options.bootstrap, options.confidence, options.scipy_seed);
    });
  if (has(scorers, ReportScorer::radgraph))
    tasks.emplace_back([&] {
      radgraph = f1_radgraph(annotations, empty, options.bootstrap, options.confidence, options.scipy_seed);
    });
  parallel_for(tasks.size(), options.threads, [&](std::size_t i) { tasks[i](); });

  // Records in rrg_eval's order of scorers: CheXbert, F1-RadGraph, BLEU-1, BLEU-4, ROUGE-L.
  if (chexbert) {
    const ChexbertF1& f = *chexbert;
    auto add = [&](Metric m, const F1Estimate& e) {
      r.overall.records.push_back(record(m, e.median, e.low, e.high,
                                         {{"full_set", e.full}, {"resamples", f.resamples}, {"random_state", f.seed}}));
    };
    add(Metric::chexbert_micro_f1_14, f.micro14);
    add(Metric::chexbert_macro_f1_14, f.macro14);
    add(Metric::chexbert_micro_f1_5, f.micro5);
    add(Metric::chexbert_macro_f1_5, f.macro5);
    add(Metric::chexbert_micro_f1_14_plus, f.micro14_plus);
    add(Metric::chexbert_macro_f1_14_plus, f.macro14_plus);
    add(Metric::chexbert_micro_f1_5_plus, f.micro5_plus);
    add(Metric::chexbert_macro_f1_5_plus, f.macro5_plus);
    if (have_model_labels)
      r.provenance["chexbert_labels"] = options.labels_source;
    else
      r.provenance["chexbert_labels"] = {{"predictions", options.labels_pred.string()},
                                         {"references", options.labels_ref.string()}};
  }
  if (radgraph) {
    const F1RadGraph& g = *radgraph;
    r.overall.records.push_back(record(Metric::f1_radgraph, g.median, g.low, g.high,
                                       {{"mean", g.mean}, {"resamples", g.resamples},
                                        {"random_state", options.scipy_seed}, {"reward_level", "partial"}}));
    out.radgraph = g.rewards;
    r.provenance["radgraph_annotations"] = options.radgraph_annotations.string();
  }
  for (auto [b, metric] : {std::pair{&bleu1, Metric::bleu_1}, std::pair{&bleu4, Metric::bleu_4}}) {
    if (!*b) continue;
    const CorpusBleu& bl = **b;
    const BleuBootstrap& boot = *bl.bootstrap;
    nlohmann::ordered_json details = {{"bootstrap_mean", boot.mean},
                                      {"bootstrap_half_width", boot.half_width},
                                      {"resamples", boot.resamples},
                                      {"seed", boot.seed},
                                      {"precisions", bl.corpus.precisions},
                                      {"brevity_penalty", bl.corpus.brevity_penalty},
                                      {"hyp_len", bl.corpus.stats.hyp_len},
                                      {"ref_len", bl.corpus.stats.ref_len},
                                      {"tokenizer", "13a"},
                                      {"smooth", "exp"}};
    if (!boot.float32_exact)
      details["note"] = "a resample's token count reached 2^24: sacrebleu sums in float32 and may round there";
    r.overall.records.push_back(record(metric, bl.corpus.score, boot.low, boot.high, std::move(details)));
  }
  if (rouge) {
    const RougeAggregate& a = *rouge;
    r.overall.records.push_back(record(Metric::rouge_l, a.mid.fmeasure, a.low.fmeasure, a.high.fmeasure,
                                       {{"precision_median", a.mid.precision},
                                        {"recall_median", a.mid.recall},
                                        {"resamples", a.resamples},
                                        {"seed", a.seed},
                                        {"stemmer", false}}));
  }
  for (const MetricRecord& rec : r.overall.records) r.columns.push_back(rec.key);
  r.provenance["chexgen"] = version_string();
  r.provenance["reference"] = "LLaVA-Rad llava/eval/rrg_eval/run.py, bootstrap_ci=True";
  r.provenance["bootstrap"] = {{"resamples", options.bootstrap}, {"confidence", options.confidence},
                               {"alpha", alpha}};
  r.provenance["pairs"] = n;
  return out;
}

std::vector<std::string> main_csv(const results::Results& results) {
  // rrg_eval prints its main table in this order.
  static constexpr Metric kOrder[] = {Metric::chexbert_micro_f1_14,      Metric::chexbert_micro_f1_5,
                                      Metric::chexbert_macro_f1_14,      Metric::chexbert_macro_f1_5,
                                      Metric::chexbert_micro_f1_14_plus, Metric::chexbert_micro_f1_5_plus,
                                      Metric::chexbert_macro_f1_14_plus, Metric::chexbert_macro_f1_5_plus,
                                      Metric::f1_radgraph,               Metric::bleu_1,
                                      Metric::bleu_4,                    Metric::rouge_l};
  std::vector<const MetricRecord*> recs;
  std::vector<std::string> header{""};
  for (Metric m : kOrder)
    for (const MetricRecord& rec : results.overall.records)
      if (rec.key.metric == m) {
        recs.push_back(&rec);
        header.emplace_back(results::info(m).title);
      }
  std::vector<std::string> lines{csv_record(header)};
  for (const char* row : {"median", "ci_l", "ci_h"}) {
    std::vector<std::string> fields{row};
    for (const MetricRecord* rec : recs) {
      const double v = std::string_view(row) == "median" ? *rec->value
                       : std::string_view(row) == "ci_l" ? rec->interval->low
                                                          : rec->interval->high;
      fields.push_back(number(v));
    }
    lines.push_back(csv_record(fields));
  }
  return lines;
}

std::vector<std::string> per_report_csv(const std::vector<ReportPair>& pairs, const ReportScores& scores) {
  std::vector<std::string> header{"id", "line"};
  if (!scores.rouge.empty()) header.insert(header.end(), {"rougeL_precision", "rougeL_recall", "rougeL_fmeasure"});
  if (!scores.radgraph.empty())
    header.insert(header.end(), {"radgraph_f1", "radgraph_precision", "radgraph_recall"});
  std::vector<std::string> lines{csv_record(header)};
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::vector<std::string> f{pairs[i].id, std::to_string(pairs[i].line)};
    if (!scores.rouge.empty()) {
      const RougeScore& s = scores.rouge[i];
      f.insert(f.end(), {number(s.precision), number(s.recall), number(s.fmeasure)});
    }
    if (!scores.radgraph.empty()) {
      const RadGraphReward& g = scores.radgraph[i];
      f.insert(f.end(), {number(g.f1), number(g.precision), number(g.recall)});
    }
    lines.push_back(csv_record(f));
  }
  return lines;
}

}  // namespace chexgen::rrg
