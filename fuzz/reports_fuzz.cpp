// libFuzzer target: arbitrary bytes as the files `chexgen reports score` reads — the predictions JSONL (then every
// text through the sacrebleu, rouge-score and CheXbert text paths, and a short scoring with bootstraps), and one
// RadGraph annotation. A bad input must end in InputError or UsageError; anything else (a crash, a hang, another
// exception type, a broken invariant) is a bug.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "chexgen/core/error.h"
#include "chexgen/core/json.h"
#include "chexgen/rrg/bleu.h"
#include "chexgen/rrg/chexbert.h"
#include "chexgen/rrg/radgraph.h"
#include "chexgen/rrg/rouge.h"
#include "chexgen/rrg/score.h"
#include "fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::filesystem::path file = chexgen::fuzz::scratch_dir("reports-fuzz") / "predictions.jsonl";
  chexgen::fuzz::write_file(file, bytes);
  try {
    const std::vector<chexgen::rrg::ReportPair> pairs = chexgen::rrg::read_report_pairs(file);
    for (const auto& p : pairs)
      for (const std::string* t : {&p.prediction, &p.reference}) {
        (void)chexgen::rrg::bleu_tokens(*t);
        (void)chexgen::rrg::rouge_tokens(*t);
        (void)chexgen::rrg::chexbert_text(*t);
      }
    if (pairs.size() <= 64) {
      chexgen::rrg::ReportScoreOptions options;
      options.bootstrap = 4;
      options.threads = 1;
      (void)chexgen::rrg::score_reports(pairs, options);
    }
  } catch (const chexgen::InputError&) {
  } catch (const chexgen::UsageError&) {
  }
  try {
    const nlohmann::json j = chexgen::parse_json(bytes, chexgen::Location("annotation.json"));
    (void)chexgen::rrg::radgraph_annotation_from_json(j, "annotation.json", "[0]");
  } catch (const chexgen::InputError&) {
  }
  return 0;
}
