#include "chexgen/rrg/generate.h"

#include <algorithm>
#include <atomic>
#include <map>

#include <fmt/format.h>

#include "chexgen/core/base64.h"
#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/curation/filter.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/curation/journal.h"

namespace chexgen::rrg {
namespace {

constexpr const char* kJournalKind = "report-generation";

nlohmann::json report_request(const ReportGenerationOptions& options, const std::string& question,
                              const std::string& png) {
  const std::string data_url = "data:image/png;base64," + base64_encode(png);
  return nlohmann::json{
      {"model", options.model},
      {"temperature", 0},
      {"max_tokens", options.max_tokens},
      {"messages", nlohmann::json::array({{{"role", "user"},
                                           {"content", nlohmann::json::array(
                                                           {{{"type", "image_url"}, {"image_url", {{"url", data_url}}}},
                                                            {{"type", "text"}, {"text", question}}})}}})}};
}


}  // namespace

const std::string* sample_report(const Sample& sample, const std::string& column) {
  const std::string* v = column.empty() ? (sample.prompt ? &*sample.prompt : nullptr) : sample.extra_value(column);
  return v != nullptr && !v->empty() ? v : nullptr;
}

std::string report_question(const std::optional<std::string>& indication) {
  if (!indication) return "Provide a description of the findings in the radiology image.";
  std::string reason = *indication;
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return "Provide a description of the findings in the radiology image given the following indication: " + reason;
}

ReportGenerationRun generate_reports(const Dataset& test, const ReportGenerationOptions& options, ApiClient& client,
                                     Journal& journal, Progress* progress) {
  if (options.concurrency < 1) throw UsageError("--concurrency must be at least 1");
  if (options.max_tokens < 1) throw UsageError("--max-tokens must be at least 1");
  std::string indication_column = options.indication_column;
  if (indication_column.empty() && test.has_column("reason")) indication_column = "reason";
  if (!indication_column.empty() && !test.has_column(indication_column))
    throw UsageError(fmt::format("{}: no column '{}' for the indication", test.source.string(), indication_column));

  ReportGenerationRun run;
  run.reports.resize(test.samples.size());
  for (std::size_t i = 0; i < test.samples.size(); ++i) {  // every input checked before any request
    const Sample& s = test.samples[i];
    GeneratedReport& r = run.reports[i];
    r.id = s.id;
    r.image = s.image_ref;
    const std::string* reference = sample_report(s, options.reference_column);
    if (reference == nullptr)
      throw InputError(Location(test.source.string(), s.row,
                                options.reference_column.empty() ? "prompt" : options.reference_column),
                       "no reference report (the radiologist's report the prediction is scored against)");
    r.reference = *reference;
    std::optional<std::string> indication;
    if (!indication_column.empty())
      if (const std::string* v = s.extra_value(indication_column); v && !v->empty()) indication = *v;
    r.query = report_question(indication);
  }

  const nlohmann::json settings = {{"kind", kJournalKind}, {"model", options.model}, {"max_tokens", options.max_tokens},
                                   {"base_url", client.base_url()}};
  if (journal.records().empty()) {
    journal.append(settings);
  } else {
    const nlohmann::json& first = journal.records().front();
    for (const char* key : {"kind", "model", "max_tokens"})
      if (first.value(key, nlohmann::json()) != settings[key])
        throw UsageError(fmt::format("{}: this journal was made with {} {}, not {}: use a new --out folder",
                                     journal.path().string(), key, first.value(key, nlohmann::json()).dump(),
                                     settings[key].dump()));
  }
  std::map<std::string, nlohmann::json> earlier;  // sample id -> its last report record
  for (const nlohmann::json& rec : journal.records())
    if (rec.value("kind", "") == "report" && rec.contains("sample_id") && rec["sample_id"].is_string())
      earlier[rec["sample_id"].get<std::string>()] = rec;

  const std::uint64_t requests_before = client.stats().requests.load();
  const std::uint64_t retries_before = client.stats().retries.load();
  std::atomic<std::size_t> asked{0}, reused{0};
  parallel_for(
      test.samples.size(), options.concurrency,
      [&](std::size_t i) {
        const Sample& s = test.samples[i];
        GeneratedReport& r = run.reports[i];
        std::string bytes;
        try {
          bytes = read_file_bytes(s.image_path);
        } catch (const InputError& e) {
          r.error = fmt::format("{}: {}", sample_location(test, s).render(), e.what());
          return;
        }
        const std::string image_sha = sha256_hex(std::string_view(bytes)), query_sha = sha256_hex(std::string_view(r.query));
        if (const auto it = earlier.find(s.id); it != earlier.end() && it->second.value("image_sha256", "") == image_sha &&
                                                it->second.value("query_sha256", "") == query_sha &&
                                                it->second.contains("prediction") && it->second["prediction"].is_string()) {
          r.prediction = it->second["prediction"].get<std::string>();
          r.from_journal = true;
          reused.fetch_add(1);
          return;
        }
        std::string png;
        try {
          png = image_as_png(std::move(bytes), s.image_path.string());
        } catch (const InputError& e) {
          r.error = fmt::format("{}: {}", sample_location(test, s).render(), e.what());
          return;
        }
        asked.fetch_add(1);
        try {
          const nlohmann::json reply = client.post_json("/v1/chat/completions", report_request(options, r.query, png),
                                                        [](const nlohmann::json& j) { (void)reply_content(j); });
          r.prediction = reply_content(reply);
        } catch (const RequestFailed& e) {
          r.error = fmt::format("{}: image '{}': {}", sample_location(test, s).render(), s.image_ref, e.what());
          return;
        }
        journal.append({{"kind", "report"},
                        {"sample_id", s.id},
                        {"image", s.image_ref},
                        {"image_sha256", image_sha},
                        {"query_sha256", query_sha},
                        {"prediction", r.prediction}});
      },
      progress);
  for (const GeneratedReport& r : run.reports) run.failed += r.error.empty() ? 0 : 1;
  run.asked = asked.load();
  run.from_journal = reused.load();
  run.requests = client.stats().requests.load() - requests_before;
  run.retries = client.stats().retries.load() - retries_before;
  return run;
}

std::vector<std::string> predictions_jsonl(const ReportGenerationRun& run) {
  CHEXGEN_ASSERT(run.failed == 0, "predictions_jsonl: the run has failures");
  std::vector<std::string> lines;
  lines.reserve(run.reports.size());
  for (const GeneratedReport& r : run.reports)
    lines.push_back(nlohmann::json{{"id", r.id},
                                   {"image", r.image},
                                   {"query", r.query},
                                   {"prediction", r.prediction},
                                   {"reference", r.reference}}
                        .dump());
  return lines;
}

}  // namespace chexgen::rrg
