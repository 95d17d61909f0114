// Report-generation scores against the reference code: sacrebleu's and rouge-score's own output on the fixtures
// (tests/golden/rrg/reference_scores.json, README beside it) and scikit-learn / scipy for CheXbert F1 and
// F1-RadGraph (tests/fixtures/make_rrg_golden.py). Every comparison is exact (==).
#include <cmath>
#include <filesystem>
#include <limits>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/rrg/bleu.h"
#include "chexgen/rrg/chexbert.h"
#include "chexgen/rrg/radgraph.h"
#include "chexgen/rrg/retrieval.h"
#include "chexgen/rrg/rouge.h"
#include "chexgen/rrg/score.h"
#include "chexgen/text/wordpiece.h"

namespace chexgen::rrg {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot(CHEXGEN_SOURCE_DIR);

nlohmann::json load(const fs::path& p) {
  std::ifstream in(kRoot / p);
  return nlohmann::json::parse(in);
}
const nlohmann::json& reference() {
  static const nlohmann::json j = load("tests/golden/rrg/reference_scores.json");
  return j;
}
const nlohmann::json& golden() {
  static const nlohmann::json j = load("tests/golden/rrg/rrg_golden.json");
  return j;
}

struct Corpus {
  std::vector<ReportPair> pairs;
  std::vector<std::string> predictions, references;
};
Corpus corpus(const std::string& name) {
  Corpus c;
  c.pairs = read_report_pairs(kRoot / "tests/fixtures/rrg" / name);
  for (const ReportPair& p : c.pairs) {
    c.predictions.push_back(p.prediction);
    c.references.push_back(p.reference);
  }
  return c;
}

TEST(BleuTokens, EqualSacrebleu13aOnEdgeCases) {
  const Corpus c = corpus("reports_edge.jsonl");
  const auto& expected = reference()["files"]["reports_edge.jsonl"]["bleu_tokens"];
  std::vector<std::string> texts = c.predictions;
  texts.insert(texts.end(), c.references.begin(), c.references.end());
  ASSERT_EQ(expected.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(bleu_tokens(texts[i]), expected[i].get<std::vector<std::string>>()) << "text " << i << ": " << texts[i];
}

TEST(RougeTokens, EqualRougeScoreTokenizerOnEdgeCases) {
  const Corpus c = corpus("reports_edge.jsonl");
  const auto& expected = reference()["files"]["reports_edge.jsonl"]["rouge_tokens"];
  std::vector<std::string> texts = c.predictions;
  texts.insert(texts.end(), c.references.begin(), c.references.end());
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(rouge_tokens(texts[i]), expected[i].get<std::vector<std::string>>()) << "text " << i << ": " << texts[i];
}

class ReferenceFile : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceFile, BleuSegmentStatisticsScoresAndBootstrap) {
  const Corpus c = corpus(GetParam());
  const auto& ref = reference()["files"][GetParam()];
  const std::vector<BleuStats> segments = bleu_segment_stats(c.predictions, c.references, 4);
  ASSERT_EQ(segments.size(), ref["bleu4_segment_stats"].size());
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const BleuStats& s = segments[i];
    std::vector<std::int64_t> flat{s.hyp_len, s.ref_len};
    flat.insert(flat.end(), s.correct.begin(), s.correct.end());
    flat.insert(flat.end(), s.total.begin(), s.total.end());
    EXPECT_EQ(flat, ref["bleu4_segment_stats"][i].get<std::vector<std::int64_t>>()) << "segment " << i;
  }
  for (auto [order, key] : {std::pair{1, "bleu1"}, std::pair{4, "bleu4"}}) {
    const CorpusBleu b = corpus_bleu(segments, order, 500);
    const auto& r = ref[key];
    EXPECT_EQ(b.corpus.score, r["score"].get<double>()) << key;
    ASSERT_TRUE(b.bootstrap);
    EXPECT_EQ(b.bootstrap->mean, r["mean"].get<double>()) << key;
    EXPECT_EQ(b.bootstrap->half_width, r["ci"].get<double>()) << key;
    EXPECT_EQ(b.bootstrap->low, r["ci_l"].get<double>()) << key;
    EXPECT_EQ(b.bootstrap->high, r["ci_h"].get<double>()) << key;
    EXPECT_TRUE(b.bootstrap->float32_exact);
  }
}

TEST_P(ReferenceFile, RougeLPairsAndBootstrapAggregate) {
  const Corpus c = corpus(GetParam());
  const auto& ref = reference()["files"][GetParam()];
  const std::vector<RougeScore> scores = rouge_l_scores(c.predictions, c.references);
  ASSERT_EQ(scores.size(), ref["rouge_pairs"].size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto e = ref["rouge_pairs"][i].get<std::vector<double>>();
    EXPECT_EQ(scores[i].precision, e[0]) << i;
    EXPECT_EQ(scores[i].recall, e[1]) << i;
    EXPECT_EQ(scores[i].fmeasure, e[2]) << i;
  }
  const RougeAggregate a = rouge_bootstrap(scores, 500, 0.95, 3);
  for (auto [bound, name] : {std::pair{&a.low, "low"}, std::pair{&a.mid, "mid"}, std::pair{&a.high, "high"}}) {
    const auto e = ref["rouge_aggregate"][name].get<std::vector<double>>();
    EXPECT_EQ(bound->precision, e[0]) << name;
    EXPECT_EQ(bound->recall, e[1]) << name;
    EXPECT_EQ(bound->fmeasure, e[2]) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceFile, ::testing::Values("reports_edge.jsonl", "reports_300.jsonl"));

TEST(ChexbertF1, EqualsScikitLearnAndScipyBootstrap) {
  const auto pred = read_chexbert_labels(kRoot / "tests/fixtures/rrg/labels_pred.csv");
  const auto ref = read_chexbert_labels(kRoot / "tests/fixtures/rrg/labels_ref.csv");
  ASSERT_EQ(pred.size(), 300u);
  const ChexbertF1 f = chexbert_f1(pred, ref, 500, 0.95, 3);
  const auto& g = golden()["chexbert_300"];
  for (auto [e, key] : {std::pair{&f.micro14, "micro-14"}, std::pair{&f.macro14, "macro-14"},
                        std::pair{&f.micro5, "micro-5"}, std::pair{&f.macro5, "macro-5"},
                        std::pair{&f.micro14_plus, "micro-14+"}, std::pair{&f.macro14_plus, "macro-14+"},
                        std::pair{&f.micro5_plus, "micro-5+"}, std::pair{&f.macro5_plus, "macro-5+"}}) {
    EXPECT_EQ(e->median, g[key]["median"].get<double>()) << key;
    EXPECT_EQ(e->low, g[key]["ci_l"].get<double>()) << key;
    EXPECT_EQ(e->high, g[key]["ci_h"].get<double>()) << key;
    EXPECT_EQ(e->full, g[key]["full"].get<double>()) << key;
  }
}

TEST(F1RadGraph, PartialRewardMeanAndScipyBootstrap) {
  const Corpus c = corpus("reports_300.jsonl");
  std::vector<bool> empty;
  for (const ReportPair& p : c.pairs) empty.push_back(p.prediction.empty() || p.reference.empty());
  const auto annotations = read_radgraph_annotations(kRoot / "tests/fixtures/rrg/radgraph.json", 300, empty);
  const F1RadGraph g = f1_radgraph(annotations, empty, 500, 0.95, 3);
  const auto& e = golden()["radgraph_300"];
  for (std::size_t i = 0; i < 300; ++i) {
    const auto r = e["rewards"][i].get<std::vector<double>>();
    EXPECT_EQ(g.rewards[i].f1, r[0]) << i;
    EXPECT_EQ(g.rewards[i].precision, r[1]) << i;
    EXPECT_EQ(g.rewards[i].recall, r[2]) << i;
  }
  EXPECT_EQ(g.mean, e["mean"].get<double>());
  EXPECT_EQ(g.median, e["median"].get<double>());
  EXPECT_EQ(g.low, e["ci_l"].get<double>());
  EXPECT_EQ(g.high, e["ci_h"].get<double>());
}

TEST(RadGraphAnnotation, RelationsMarkAnEntityAndCaseCounts) {
  const nlohmann::json hyp = nlohmann::json::parse(R"({"entities": {
      "1": {"tokens": "effusion", "label": "OBS-DP", "relations": []},
      "2": {"tokens": "Lungs", "label": "ANAT-DP", "relations": [["located_at", "1"]]}}})");
  const nlohmann::json ref = nlohmann::json::parse(R"({"entities": {
      "1": {"tokens": "effusion", "label": "OBS-DP", "relations": []},
      "2": {"tokens": "lungs", "label": "ANAT-DP", "relations": [["located_at", "1"]]},
      "3": {"tokens": "effusion", "label": "OBS-DP", "relations": [["modify", "2"]]}}})");
  const RadGraphReward r =
      radgraph_partial_reward(radgraph_annotation_from_json(hyp, "h", "[0]"), radgraph_annotation_from_json(ref, "r", "[1]"));
  EXPECT_EQ(r.precision, 0.5);        // "Lungs" is not "lungs"
  EXPECT_EQ(r.recall, 1.0 / 3.0);     // (effusion, OBS-DP, True) is another candidate
  EXPECT_EQ(r.f1, 2 * 0.5 * (1.0 / 3.0) / (0.5 + 1.0 / 3.0));
  EXPECT_THROW(radgraph_annotation_from_json(nlohmann::json::parse(R"({"entities": {"1": {"tokens": 3}}})"), "f",
                                             "[0]"),
               InputError);
}

}  // namespace
}  // namespace chexgen::rrg

namespace chexgen::rrg {
namespace {

TEST(NearestTrainingRows, ZScoresOnTheTrainingRowsDropsUnusableColumnsAndBreaksTiesToTheEarlierRow) {
  // Columns: 0 informative, 1 constant over training, 2 NaN in a test row, 3 informative on a large scale.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const MatrixD train(4, 4, std::vector<double>{0, 5, 1, 0,     //
                                                1, 5, 2, 1000,  //
                                                0, 5, 3, 0,     // a duplicate of row 0 in the kept columns
                                                3, 5, 4, 3000});
  const MatrixD test(2, 4, std::vector<double>{0.1, 7, 1, 10,  //
                                               2.9, 5, nan, 2900});
  const NearestRows nn = nearest_training_rows(train, test, 1);
  EXPECT_EQ(nn.kept_columns, (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(nn.dropped_columns, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(nn.nearest, (std::vector<std::size_t>{0, 3}));  // rows 0 and 2 tie: the earlier
  // Row 1 of test against row 3 of train, in z units: mean 1, sd sqrt(1.5) in column 0; mean 1000, sd sqrt(1.5e6).
  const double z0 = (2.9 - 3) / std::sqrt(1.5), z3 = (2900.0 - 3000.0) / std::sqrt(1.5e6);
  EXPECT_NEAR(nn.distance[1], std::sqrt(z0 * z0 + z3 * z3), 1e-12);
  EXPECT_THROW(nearest_training_rows(MatrixD(2, 1, std::vector<double>{1, 1}), MatrixD(1, 1, std::vector<double>{1}), 1),
               UsageError);
}

}  // namespace
}  // namespace chexgen::rrg

namespace chexgen::rrg {
namespace {

// CheXbert's input: rrg_eval's preprocessing, then BERT's tokenizer (tests/fixtures/make_chexbert_golden.py restates
// it in Python), on every prediction and reference of the edge-case fixture.
TEST(ChexbertText, PreprocessingAndTokenizerGiveTheReferenceIds) {
  const nlohmann::json g = load("tests/golden/rrg/chexbert_tiny.json");
  const auto tokenizer = text::BertTokenizer::from_file(kRoot / "tests/fixtures/rrg/chexbert_vocab.txt", true);
  const Corpus c = corpus("reports_edge.jsonl");
  std::vector<std::string> texts = c.predictions;
  texts.insert(texts.end(), c.references.begin(), c.references.end());
  ASSERT_EQ(texts.size(), g["ids"].size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<std::int64_t> ids = tokenizer.encode(chexbert_text(texts[i]));
    if (ids.size() > 512) {  // CheXbert's truncation (the product's is TextModel's "truncate", tested end to end)
      ids.resize(511);
      ids.push_back(tokenizer.sep_id());
    }
    EXPECT_EQ(ids, g["ids"][i].get<std::vector<std::int64_t>>()) << "text " << i << ": " << texts[i];
  }
  EXPECT_EQ(chexbert_text("  a\n\x1c b\xc2\xa0\tc \r\n"), "a b c");
}

TEST(ChexbertClasses, ArgmaxPerHeadNoFindingOverTwo) {
  MatrixD logits(1, 56, 0.0);
  logits(0, 4 * 1 + 2) = 1.0;   // Cardiomegaly: negative
  logits(0, 4 * 2 + 3) = 2.0;   // Lung Opacity: uncertain
  logits(0, 4 * 3 + 1) = 5.0;   // Lung Lesion: positive, and a tie below it is irrelevant
  logits(0, 4 * 13 + 3) = 9.0;  // No Finding: columns 2-3 are padding
  logits(0, 4 * 13 + 1) = 0.5;
  const ChexbertRow r = chexbert_classes(logits)[0];
  EXPECT_EQ(r[0], ChexbertClass::blank);  // all equal: the first
  EXPECT_EQ(r[1], ChexbertClass::negative);
  EXPECT_EQ(r[2], ChexbertClass::uncertain);
  EXPECT_EQ(r[3], ChexbertClass::positive);
  EXPECT_EQ(r[13], ChexbertClass::positive);
  // What label.py writes, read back.
  const fs::path dir = fs::temp_directory_path() / "chexgen-rrg-labels";
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "l.csv");
    for (const std::string& line : chexbert_labels_csv({r}, {"a, \"quoted\" report"})) out << line << "\n";
  }
  EXPECT_EQ(read_chexbert_labels(dir / "l.csv").front(), r);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chexgen::rrg

namespace chexgen::rrg {
namespace {

// The metrics run side by side and the per-pair work is spread over workers: the numbers do not depend on how many
// (this test also runs under ThreadSanitizer, `make tsan`).
TEST(ScoreReports, TheSameNumbersOnOneWorkerOrFour) {
  const Corpus c = corpus("reports_300.jsonl");
  ReportScoreOptions options;
  options.labels_pred = kRoot / "tests/fixtures/rrg/labels_pred.csv";
  options.labels_ref = kRoot / "tests/fixtures/rrg/labels_ref.csv";
  options.radgraph_annotations = kRoot / "tests/fixtures/rrg/radgraph.json";
  options.bootstrap = 50;
  options.threads = 1;
  const ReportScores one = score_reports(c.pairs, options);
  options.threads = 4;
  const ReportScores four = score_reports(c.pairs, options);
  ASSERT_EQ(one.results.overall.records.size(), 12u);
  ASSERT_EQ(four.results.overall.records.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(one.results.overall.records[i].key, four.results.overall.records[i].key);
    EXPECT_EQ(one.results.overall.records[i].value, four.results.overall.records[i].value);
    EXPECT_EQ(one.results.overall.records[i].interval->low, four.results.overall.records[i].interval->low);
  }
}

}  // namespace
}  // namespace chexgen::rrg
