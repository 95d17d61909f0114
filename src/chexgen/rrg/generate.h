// `chexgen reports generate`: a report per real test image from a report generator served behind an
// OpenAI-compatible chat-completions API (vLLM, SGLang, ...), asked as LLaVA-Rad asks, journaled so that a killed
// run continues where it stopped, and written as the JSON Lines that `reports score` reads (docs/reports.md,
// "Collecting reports").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/data/manifest.h"

namespace chexgen {
class ApiClient;
class Journal;
class Progress;
}  // namespace chexgen

namespace chexgen::rrg {

// LLaVA-Rad's question (llava/utils.py, data_loader_mimic_reason_findings) without its "<image>\n" prefix: over a
// chat API the image is a content part before the text and the server's chat template places it. The indication's
// newlines become spaces, as there.
std::string report_question(const std::optional<std::string>& indication);

// A sample's report: the cell of `column`, or its prompt when `column` is empty (CheXGenBench's manifests hold the
// report text in the prompt column); nullptr when there is none or it is empty.
const std::string* sample_report(const Sample& sample, const std::string& column);

struct ReportGenerationOptions {
  std::string model;
  int max_tokens = 256;  // LLaVA-Rad's max_new_tokens
  int concurrency = 4;
  std::string reference_column;   // the radiologist's report; empty: the sample's prompt (CheXGenBench's manifests)
  std::string indication_column;  // empty: "reason" when the manifest has it, else no indication
};

struct GeneratedReport {
  std::string id, image, query, reference;
  std::string prediction;     // the model's reply
  std::string error;          // why there is no prediction ("" when there is one)
  bool from_journal = false;  // taken from an earlier run's journal
};

struct ReportGenerationRun {
  std::vector<GeneratedReport> reports;  // one per test image, in manifest order
  std::size_t asked = 0, from_journal = 0, failed = 0;
  std::uint64_t requests = 0, retries = 0;
};

// Asks for every test image's report (temperature 0, options.max_tokens). A sample without a reference (or without an
// indication column it was told to use) is an InputError naming its row, before any request. Images whose journal
// record has a report for the same sample id, image SHA-256 and question are not asked again; the journal's first
// record holds the model and max_tokens, and a journal made with others is a UsageError. A request that fails on
// every attempt is recorded against its image (error) and the run goes on; a ServiceError stops it.
ReportGenerationRun generate_reports(const Dataset& test, const ReportGenerationOptions& options, ApiClient& client,
                                     Journal& journal, Progress* progress);

// predictions.jsonl: {"id", "image", "query", "prediction", "reference"} per report, as LLaVA-Rad's writer adds id and
// query. Only for a run without errors.
std::vector<std::string> predictions_jsonl(const ReportGenerationRun& run);

}  // namespace chexgen::rrg
