// libFuzzer target: arbitrary bytes as the files `chexgen reports score` reads — the predictions JSONL (then every
// text through the sacrebleu, rouge-score and CheXbert text paths, and a short scoring with bootstraps), and one
// RadGraph annotation. A bad input must end in InputError or UsageError; anything else (a crash, a hang, another
// exception type, a broken invariant) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "chexgen/core/error.h"
#include "chexgen/core/json.h"
#include "chexgen/rrg/bleu.h"
#include "chexgen/rrg/chexbert.h"
#include "chexgen/rrg/radgraph.h"
#include "chexgen/rrg/rouge.h"
#include "chexgen/rrg/score.h"

namespace {

namespace fs = std::filesystem;

const fs::path& scratch() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("chexgen-reports-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fs::path file = scratch() / "predictions.jsonl";
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(size));
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
