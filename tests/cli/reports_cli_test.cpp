// `chexgen reports score` on the committed fixtures: the numbers equal the reference code's (the same golden files
// as tests/rrg), the outputs have rrg_eval's shape, the leaderboard reads the results, and bad inputs are named.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/rrg/chexbert.h"
#include "run_command.h"
#include "support/fake_openai_server.h"

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

// `reports generate` against a scripted OpenAI-compatible server (tests/support/fake_openai_server.h): LLaVA-Rad's
// question with and without an indication, the image in each request, a killed-and-resumed run that asks nothing
// twice, a failing image reported and no predictions.jsonl until every image has a report.
namespace gen {

using nlohmann::json;

struct Fixture {
  fs::path dir, manifest, out;
  std::vector<std::string> images;
};

Fixture make_fixture(int n) {
  Fixture f;
  f.dir = make_temp_dir();
  f.manifest = f.dir / "test.csv";
  f.out = f.dir / "out";
  std::string csv = "img_savename,prompt,reason\n";
  int k = 0;
  for (const auto& e : fs::directory_iterator(kRoot / "data/sample/images")) {
    if (k == n) break;
    const std::string name = e.path().filename().string();
    fs::copy_file(e.path(), f.dir / name);
    f.images.push_back(name);
    // Every other image has an indication, one with a line break in it.
    const std::string reason = k % 2 ? "" : (k == 2 ? "\"fever,\nr/o pneumonia\"" : "cough");
    csv += name + ",\"Report " + std::to_string(k) + ": no acute process.\"," + reason + "\n";
    ++k;
  }
  std::ofstream(f.manifest) << csv;
  return f;
}

// The server's report: the question's last words and the image's size, so each answer is tied to its request.
FakeReply answer(const LoggedRequest& r) {
  const std::string text = FakeOpenAiServer::user_text(r.body);
  return FakeOpenAiServer::chat_reply("Findings for [" + text + "] image bytes " +
                                      std::to_string(FakeOpenAiServer::image_bytes(r.body).size()));
}

TEST(ReportsGenerateCli, AsksLlavaRadsQuestionPerImageAndWritesWhatScoreReads) {
  const Fixture f = make_fixture(4);
  FakeOpenAiServer server;
  server.on_chat(answer);
  const CommandResult r = run_chexgen({"reports", "generate", f.manifest.string(), "--out", f.out.string(),
                                       "--base-url", server.base_url(), "--model", "llava-rad", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> lines = read_jsonl((f.out / "predictions.jsonl").string());
  ASSERT_EQ(lines.size(), 4u);
  const std::string with = "Provide a description of the findings in the radiology image given the following indication: ";
  EXPECT_EQ(lines[0]["query"], with + "cough");
  EXPECT_EQ(lines[1]["query"], "Provide a description of the findings in the radiology image.");
  EXPECT_EQ(lines[2]["query"], with + "fever, r/o pneumonia");
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i]["reference"], "Report " + std::to_string(i) + ": no acute process.");
    EXPECT_EQ(lines[i]["image"], f.images[i]);
    EXPECT_EQ(lines[i]["prediction"].get<std::string>().rfind("Findings for [" + lines[i]["query"].get<std::string>() + "]", 0), 0u);
  }
  ASSERT_EQ(server.requests().size(), 4u);
  for (const LoggedRequest& q : server.requests()) {
    EXPECT_EQ(q.body["model"], "llava-rad");
    EXPECT_EQ(q.body["temperature"], 0);
    EXPECT_EQ(q.body["max_tokens"], 256);
    EXPECT_FALSE(FakeOpenAiServer::image_bytes(q.body).empty());
    // The image part comes before the text, as LLaVA puts <image> before the question.
    EXPECT_EQ(q.body["messages"][0]["content"][0]["type"], "image_url");
  }
  // The file is what `reports score` reads.
  const CommandResult s = run_chexgen({"reports", "score", (f.out / "predictions.jsonl").string(), "--out",
                                       (f.dir / "scores").string(), "-q"});
  EXPECT_EQ(s.exit_code, 0) << s.err;

  // A rerun asks nothing again.
  server.clear_requests();
  const CommandResult again = run_chexgen({"reports", "generate", f.manifest.string(), "--out", f.out.string(),
                                           "--base-url", server.base_url(), "--model", "llava-rad", "-q"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(server.requests().size(), 0u);
  EXPECT_THAT(again.out, HasSubstr("0 asked now, 4 from the journal"));
  // Another model in the same folder is refused.
  const CommandResult other = run_chexgen({"reports", "generate", f.manifest.string(), "--out", f.out.string(),
                                           "--base-url", server.base_url(), "--model", "other", "-q"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(other.err, HasSubstr("this journal was made with model \"llava-rad\""));
}

TEST(ReportsGenerateCli, AnImageTheServerKeepsFailingIsNamedAndRetriedOnTheNextRun) {
  const Fixture f = make_fixture(3);
  FakeOpenAiServer server;
  std::atomic<bool> broken{true};
  server.on_chat([&](const LoggedRequest& r) {
    if (broken && FakeOpenAiServer::user_text(r.body).find("indication") == std::string::npos)
      return FakeOpenAiServer::error_reply(503, "overloaded");
    return answer(r);
  });
  const std::vector<std::string> args = {"reports", "generate", f.manifest.string(), "--out", f.out.string(),
                                         "--base-url", server.base_url(), "--model", "m", "--max-attempts", "2",
                                         "--backoff", "0", "-q"};
  const CommandResult r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr(f.images[1]));
  EXPECT_THAT(r.err, HasSubstr("1 image(s) have no report"));
  EXPECT_FALSE(fs::exists(f.out / "predictions.jsonl"));
  broken = false;
  server.clear_requests();
  const CommandResult again = run_chexgen(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(server.requests().size(), 1u);  // only the image that had failed
  EXPECT_EQ(read_jsonl((f.out / "predictions.jsonl").string()).size(), 3u);
}

TEST(ReportsGenerateCli, ARowWithoutAReferenceIsNamedBeforeAnyRequest) {
  const Fixture f = make_fixture(2);
  fs::copy_file(f.dir / f.images[0], f.dir / "extra.png");
  std::ofstream(f.manifest, std::ios::app) << "extra.png,,\n";
  FakeOpenAiServer server;
  server.on_chat(answer);
  const CommandResult r = run_chexgen({"reports", "generate", f.manifest.string(), "--out", f.out.string(),
                                       "--base-url", server.base_url(), "--model", "m", "-q"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("test.csv:4: column 'prompt': no reference report"));
  EXPECT_EQ(server.requests().size(), 0u);
}

}  // namespace gen

}  // namespace
}  // namespace chexgen::testing

namespace chexgen::testing {
namespace {

// `reports retrieve`: a test image that is a copy of a training image gets that image's report.
TEST(ReportsRetrieveCli, ACopyOfATrainingImageGetsItsReport) {
  const fs::path dir = make_temp_dir();
  std::string train = "img_savename,prompt\n", test = "img_savename,prompt\n";
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kRoot / "data/sample/images")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  names.resize(20);
  fs::create_directories(dir / "train");
  fs::create_directories(dir / "test");
  for (const std::string& n : names) {
    fs::copy_file(kRoot / "data/sample/images" / n, dir / "train" / n);
    train += n + ",Report of " + n + "\n";
  }
  for (int k : {3, 11, 17}) {
    fs::copy_file(kRoot / "data/sample/images" / names[static_cast<std::size_t>(k)], dir / "test" / ("t" + names[static_cast<std::size_t>(k)]));
    test += "t" + names[static_cast<std::size_t>(k)] + ",Reference " + std::to_string(k) + "\n";
  }
  std::ofstream(dir / "train/train.csv") << train;
  std::ofstream(dir / "test/test.csv") << test;
  const std::string store = (dir / "store").string();
  const CommandResult r = run_chexgen({"reports", "retrieve", "--train", (dir / "train/train.csv").string(), "--test",
                                       (dir / "test/test.csv").string(), "--out", (dir / "out").string(), "--store",
                                       store, "--resample-spacing", "2", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> lines = read_jsonl((dir / "out/predictions.jsonl").string());
  ASSERT_EQ(lines.size(), 3u);
  int i = 0;
  for (int k : {3, 11, 17}) {
    EXPECT_EQ(lines[static_cast<std::size_t>(i)]["prediction"], "Report of " + names[static_cast<std::size_t>(k)]);
    EXPECT_EQ(lines[static_cast<std::size_t>(i)]["reference"], "Reference " + std::to_string(k));
    ++i;
  }
  EXPECT_THAT(read_text((dir / "out/retrieval.csv").string()), HasSubstr(",0\n"));
  EXPECT_EQ(run_chexgen({"reports", "score", (dir / "out/predictions.jsonl").string(), "--out",
                         (dir / "scores").string(), "-q"}).exit_code, 0);

  // The same in a model's feature space (through chexgen-torch).
  const CommandResult m = run_chexgen({"reports", "retrieve", "--train", (dir / "train/train.csv").string(), "--test",
                                       (dir / "test/test.csv").string(), "--out", (dir / "out-model").string(),
                                       "--store", store, "--model", (kRoot / "tests/fixtures/models/tiny_generic.pt").string(),
                                       "--device", "cpu"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_THAT(m.out, HasSubstr("tiny_generic (emb) features compared"));
  const std::vector<nlohmann::json> by_model = read_jsonl((dir / "out-model/predictions.jsonl").string());
  ASSERT_EQ(by_model.size(), 3u);
  EXPECT_EQ(by_model[1]["prediction"], "Report of " + names[11]);
}

}  // namespace
}  // namespace chexgen::testing

namespace chexgen::testing {
namespace {

// `reports score --chexbert`: chexgen runs the model (through chexgen-torch) on every prediction then every
// reference, and its labels are the Python reference's (tests/fixtures/make_chexbert_golden.py).
TEST(ReportsCli, ChexbertModelLabelsEqualTheReference) {
  const std::string out = make_temp_dir() + "/scores";
  const CommandResult r = run_chexgen({"reports", "score", kFixtures + "/reports_edge.jsonl", "--out", out,
                                       "--chexbert", kFixtures + "/tiny_chexbert.pt", "--device", "cpu", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json g = load(kRoot / "tests/golden/rrg/chexbert_tiny.json");
  const auto pred = rrg::read_chexbert_labels(out + "/labels_pred.csv");
  const auto ref = rrg::read_chexbert_labels(out + "/labels_ref.csv");
  ASSERT_EQ(pred.size() + ref.size(), g["classes"].size());
  for (std::size_t i = 0; i < g["classes"].size(); ++i) {
    const rrg::ChexbertRow& row = i < pred.size() ? pred[i] : ref[i - pred.size()];
    for (std::size_t k = 0; k < 14; ++k)
      EXPECT_EQ(static_cast<int>(row[k]), g["classes"][i][k].get<int>()) << "text " << i << " head " << k;
  }
  const nlohmann::json res = load(out + "/results.json");
  EXPECT_NE(find_record(res, "chexbert_micro_f1_14"), nullptr);
  EXPECT_EQ(res["overall"]["records"].size(), 11u);  // 8 CheXbert F1s, BLEU-1, BLEU-4, ROUGE-L
  // The labels and the label files cannot both be given.
  EXPECT_EQ(run_chexgen({"reports", "score", kFixtures + "/reports_edge.jsonl", "--out", out + "2", "--chexbert",
                         kFixtures + "/tiny_chexbert.pt", "--labels-pred", kFixtures + "/labels_pred.csv",
                         "--labels-ref", kFixtures + "/labels_ref.csv"}).exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
