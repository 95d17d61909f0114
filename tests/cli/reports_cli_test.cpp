// `chexgen reports score` on the committed fixtures: the numbers equal the reference code's (the same golden files
// as tests/rrg), the outputs have rrg_eval's shape, the leaderboard reads the results, and bad inputs are named.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const std::string kFixtures = (kRoot / "tests/fixtures/rrg").string();

nlohmann::json load(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

const nlohmann::json* find_record(const nlohmann::json& results, const std::string& metric) {
  for (const auto& r : results["overall"]["records"])
    if (r["metric"] == metric) return &r;
  return nullptr;
}

TEST(ReportsCli, ScoresEveryMetricAsTheReferenceCode) {
  const std::string dir = make_temp_dir();
  const std::string out = dir + "/scores";
  const CommandResult r = run_chexgen({"reports", "score", kFixtures + "/reports_300.jsonl", "--out", out,
                                       "--labels-pred", kFixtures + "/labels_pred.csv", "--labels-ref",
                                       kFixtures + "/labels_ref.csv", "--radgraph-annotations",
                                       kFixtures + "/radgraph.json", "--extra-info", "fixture-model"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("300 report pairs scored"));
  const nlohmann::json res = load(out + "/results.json");
  EXPECT_EQ(res["evaluation"], "reports");
  EXPECT_EQ(res["generator"], "fixture-model");
  const nlohmann::json ref = load(kRoot / "tests/golden/rrg/reference_scores.json")["files"]["reports_300.jsonl"];
  const nlohmann::json gold = load(kRoot / "tests/golden/rrg/rrg_golden.json");
  auto check = [&](const std::string& metric, double value, double low, double high) {
    const nlohmann::json* rec = find_record(res, metric);
    ASSERT_NE(rec, nullptr) << metric;
    EXPECT_EQ((*rec)["value"].get<double>(), value) << metric;
    EXPECT_EQ((*rec)["interval"][0].get<double>(), low) << metric;
    EXPECT_EQ((*rec)["interval"][1].get<double>(), high) << metric;
  };
  check("bleu_1", ref["bleu1"]["score"], ref["bleu1"]["ci_l"], ref["bleu1"]["ci_h"]);
  check("bleu_4", ref["bleu4"]["score"], ref["bleu4"]["ci_l"], ref["bleu4"]["ci_h"]);
  check("rouge_l", ref["rouge_aggregate"]["mid"][2], ref["rouge_aggregate"]["low"][2], ref["rouge_aggregate"]["high"][2]);
  for (auto [metric, key] : {std::pair{"chexbert_micro_f1_14", "micro-14"}, std::pair{"chexbert_macro_f1_5_plus", "macro-5+"}})
    check(metric, gold["chexbert_300"][key]["median"], gold["chexbert_300"][key]["ci_l"],
          gold["chexbert_300"][key]["ci_h"]);
  check("f1_radgraph", gold["radgraph_300"]["median"], gold["radgraph_300"]["ci_l"], gold["radgraph_300"]["ci_h"]);

  // rrg_eval's main.csv: its column order, rows median, ci_l, ci_h.
  const std::string main_csv = read_text(out + "/main.csv");
  EXPECT_EQ(main_csv.substr(0, main_csv.find('\n')),
            ",Micro-F1-14,Micro-F1-5,Macro-F1-14,Macro-F1-5,Micro-F1-14+,Micro-F1-5+,Macro-F1-14+,Macro-F1-5+,"
            "F1-RadGraph,BLEU-1,BLEU-4,ROUGE-L");
  EXPECT_THAT(main_csv, HasSubstr("\nci_h,"));
  const std::string per_report = read_text(out + "/per_report.csv");
  EXPECT_EQ(std::count(per_report.begin(), per_report.end(), '\n'), 301);
  EXPECT_THAT(per_report, HasSubstr("id,line,rougeL_precision,rougeL_recall,rougeL_fmeasure,radgraph_f1,"));

  const CommandResult board = run_chexgen({"leaderboard", out, "--sort", "BLEU-4"});
  ASSERT_EQ(board.exit_code, 0) << board.err;
  EXPECT_THAT(board.out, HasSubstr("fixture-model"));
  EXPECT_THAT(board.out, HasSubstr("F1-RadGraph"));
}

TEST(ReportsCli, DefaultMetricsAreTheWeightFreeOnes) {
  const std::string out = make_temp_dir() + "/scores";
  const CommandResult r = run_chexgen({"reports", "score", kFixtures + "/reports_edge.jsonl", "--out", out, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json res = load(out + "/results.json");
  ASSERT_EQ(res["overall"]["records"].size(), 3u);
  const nlohmann::json ref = load(kRoot / "tests/golden/rrg/reference_scores.json")["files"]["reports_edge.jsonl"];
  EXPECT_EQ((*find_record(res, "bleu_4"))["value"].get<double>(), ref["bleu4"]["score"].get<double>());
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

TEST(ReportsCli, BadInputsAreNamedWithTheirLine) {
  const fs::path dir = make_temp_dir();
  struct Case {
    std::string jsonl, expect;
  };
  for (const Case& c : {Case{"{\"prediction\": \"a\", \"reference\": \"b\"}\n{\"prediction\": \"a\"}\n",
                             "bad.jsonl:2: column 'reference': missing"},
                        Case{"{\"prediction\": \"a\", \"reference\": 3}\n", "bad.jsonl:1: column 'reference': not a string"},
                        Case{"{\"prediction\": \"a\", \"reference\": \"b\"}\n{oops\n", "bad.jsonl:2"},
                        Case{"{\"prediction\": \"a\", \"reference\": \"b\"}\n\n{\"prediction\": \"a\", \"reference\": \"b\"}\n",
                             "bad.jsonl:2: an empty line"},
                        Case{"", "bad.jsonl: no report pairs"},
                        Case{"[1, 2]\n", "bad.jsonl:1: not a JSON object"}}) {
    write(dir / "bad.jsonl", c.jsonl);
    const CommandResult r = run_chexgen({"reports", "score", (dir / "bad.jsonl").string(), "--out", (dir / "o").string()});
    EXPECT_EQ(r.exit_code, 3) << c.jsonl;
    EXPECT_THAT(r.err, HasSubstr(c.expect)) << c.jsonl;
  }
}

TEST(ReportsCli, LabelAndAnnotationProblemsAreNamed) {
  const fs::path dir = make_temp_dir();
  const std::string reports = kFixtures + "/reports_300.jsonl";
  // Too few label rows.
  {
    std::ifstream in(kFixtures + "/labels_ref.csv");
    std::string header, row;
    std::getline(in, header);
    std::getline(in, row);
    write(dir / "short.csv", header + "\n" + row + "\n");
    const CommandResult r = run_chexgen({"reports", "score", reports, "--out", (dir / "o1").string(), "--labels-pred",
                                         kFixtures + "/labels_pred.csv", "--labels-ref", (dir / "short.csv").string()});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.err, HasSubstr("short.csv: 1 label rows for 300 report pairs"));
    // A cell that is not a CheXbert label.
    write(dir / "cell.csv", header + "\n" + row.substr(0, row.rfind(',')) + ",maybe\n");
    const CommandResult c = run_chexgen({"reports", "score", reports, "--out", (dir / "o2").string(), "--labels-pred",
                                         (dir / "cell.csv").string(), "--labels-ref", kFixtures + "/labels_ref.csv"});
    EXPECT_EQ(c.exit_code, 3);
    EXPECT_THAT(c.err, HasSubstr("cell.csv:2: column 'No Finding': 'maybe' is not a CheXbert label"));
  }
  // An annotation missing.
  write(dir / "ann.json", "{\"0\": {\"entities\": {}}}");
  const CommandResult a = run_chexgen({"reports", "score", reports, "--out", (dir / "o3").string(),
                                       "--radgraph-annotations", (dir / "ann.json").string()});
  EXPECT_EQ(a.exit_code, 3);
  EXPECT_THAT(a.err, HasSubstr("no annotation \"1\" (prediction 2)"));
  // Usage: one label file, an unknown metric, CheXbert asked for without labels.
  EXPECT_EQ(run_chexgen({"reports", "score", reports, "--out", (dir / "o4").string(), "--labels-pred",
                         kFixtures + "/labels_pred.csv"}).exit_code, 2);
  const CommandResult m = run_chexgen({"reports", "score", reports, "--out", (dir / "o5").string(), "--metrics", "bleu9"});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_THAT(m.err, HasSubstr("unknown report metric 'bleu9'"));
  EXPECT_EQ(run_chexgen({"reports", "score", reports, "--out", (dir / "o6").string(), "--metrics", "chexbert"}).exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
