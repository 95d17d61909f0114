#include "chexgen/curation/filter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <span>
#include <thread>

#include <fmt/format.h>

#include "chexgen/core/base64.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/strings.h"
#include "chexgen/core/version.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/curation/journal.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/image/decode.h"

namespace chexgen {

namespace {

using ojson = nlohmann::ordered_json;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::graded: return "graded";
    case Outcome::unparsed: return "unparsed";
    case Outcome::error: return "error";
  }
  return "error";
}

// The journal's first record: what the answers in it were asked with. A rerun must ask the same way, or its
// answers and the journal's would mix two different filters.
ojson run_record(const FilterOptions& options, const std::string& base_url) {
  return ojson{{"kind", "run"},
               {"model", options.model},
               {"base_url", base_url},
               {"meta_prompt_sha256", sha256_hex(as_bytes(options.meta_prompt))},
               {"question_template", options.question_template},
               {"max_tokens", options.max_tokens},
               {"chexgen", version_string()}};
}

void check_run_record(const Journal& journal, const ojson& expected) {
  const nlohmann::json& first = journal.records().front();
  for (const char* key : {"model", "meta_prompt_sha256", "question_template", "max_tokens"}) {
    if (!first.contains(key) || first[key] != nlohmann::json(expected[key])) {
      const std::string was = first.contains(key) ? first[key].dump() : "(absent)";
      throw UsageError(fmt::format(
          "{}: this journal was made with {} {}, not {}; its answers cannot be mixed with this run's. Use another "
          "--out, or move the journal away to start over",
          journal.path().string(), key, was, expected[key].dump()));
    }
  }
}

// The last graded or unparsed record per sample id in the journal.
std::map<std::string, ImageResult> finished_in_journal(const Journal& journal) {
  std::map<std::string, ImageResult> done;
  for (const auto& r : journal.records()) {
    if (r.value("kind", "") != "image") continue;
    const std::string outcome = r.value("outcome", "");
    const std::string id = r.value("sample_id", "");
    if (outcome == "error") {
      // Only an image whose content changed since it was graded is asked again, so an error record after a graded
      // one is about the new content: the earlier grade no longer applies.
      done.erase(id);
      continue;
    }
    ImageResult result;
    if (outcome == "graded") {
      result.outcome = Outcome::graded;
      result.grade = grade_from_name(r.value("grade", ""));
      if (!result.grade) continue;  // not ours to guess: ask again
    } else if (outcome == "unparsed") {
      result.outcome = Outcome::unparsed;
    } else {
      continue;
    }
    result.reply = r.value("reply", "");
    result.reason = r.value("reason", "");
    result.requests = r.value("requests", 0);
    result.image_sha256 = r.value("image_sha256", "");
    result.prompt_sha256 = r.value("prompt_sha256", "");
    result.from_journal = true;
    done[id] = std::move(result);
  }
  return done;
}

}  // namespace

std::string outcome_label(const ImageResult& r) {
  if (r.outcome == Outcome::graded && r.grade) return std::string(grade_name(*r.grade));
  return std::string(outcome_name(r.outcome));
}

bool is_kept(const ImageResult& r, const FilterOptions& options) {
  return r.outcome == Outcome::graded && r.grade &&
         std::find(options.keep.begin(), options.keep.end(), *r.grade) != options.keep.end();
}

std::string render_question(std::string_view question_template, std::string_view prompt) {
  std::string out(question_template);
  replace_all(out, "{prompt}", prompt);
  return out;
}

nlohmann::json grading_request(const FilterOptions& options, std::string_view question, std::string_view png_bytes) {
  const std::string data_url = "data:image/png;base64," + base64_encode(png_bytes);
  return nlohmann::json{
      {"model", options.model},
      {"temperature", 0},
      {"max_tokens", options.max_tokens},
      {"messages",
       nlohmann::json::array(
           {{{"role", "system"}, {"content", options.meta_prompt}},
            {{"role", "user"},
             {"content", nlohmann::json::array({{{"type", "text"}, {"text", std::string(question)}},
                                                {{"type", "image_url"}, {"image_url", {{"url", data_url}}}}})}}})}};
}

std::string reply_content(const nlohmann::json& reply) {
  if (!reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() || reply["choices"].empty()) {
    throw MalformedReply("no choices[0] in the chat-completions reply");
  }
  const auto& choice = reply["choices"][0];
  if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object()) {
    throw MalformedReply("no choices[0].message in the chat-completions reply");
  }
  const auto& message = choice["message"];
  if (!message.contains("content") || !message["content"].is_string()) {
    throw MalformedReply("choices[0].message.content is not a string");
  }
  return message["content"].get<std::string>();
}

std::string image_as_png(std::string bytes, std::string_view source_name) {
  const ImageFormat format = sniff_image_format(as_bytes(bytes));
  if (format == ImageFormat::png) {
    (void)decode_image_u8(as_bytes(bytes), source_name, ColorMode::gray);  // corrupt files are errors, not requests
    return bytes;
  }
  const ColorMode mode = format == ImageFormat::jpeg ? ColorMode::rgb : ColorMode::gray;
  return encode_png(decode_image_u8(as_bytes(bytes), source_name, mode));
}

FilterRun run_filter(const Dataset& dataset, const FilterOptions& options, ApiClient& client, Journal& journal,
                     Progress* progress) {
  if (options.concurrency < 1) throw UsageError("--concurrency must be at least 1");
  if (options.question_template.find("{prompt}") == std::string::npos) {
    throw UsageError("--question-template must contain {prompt}, where each image's own prompt goes");
  }
  {
    ErrorReport missing;
    for (const Sample& s : dataset.samples) {
      if (!s.prompt) {
        missing.add(InputError(Location(dataset.source.string(), s.row),
                               "no prompt: the model grades an image "
                               "against its prompt"));
      }
    }
    if (!missing.empty()) {
      const InputError& first = missing.errors().front();
      throw InputError(first.where(),
                       fmt::format("{} ({} row(s) without a prompt in all)", first.reason(), missing.size()));
    }
  }

  const ojson expected = run_record(options, client.base_url());
  if (journal.records().empty()) {
    journal.append(expected);
  } else {
    check_run_record(journal, expected);
  }
  const std::map<std::string, ImageResult> earlier = finished_in_journal(journal);

  FilterRun run;
  run.results.resize(dataset.samples.size());
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t requests_before = client.stats().requests.load();
  const std::uint64_t retries_before = client.stats().retries.load();

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> asked{0}, reused{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;

  const auto grade_one = [&](std::size_t i) {
    const Sample& s = dataset.samples[i];
    const Location where = sample_location(dataset, s);
    ImageResult& result = run.results[i];
    std::string png;
    try {
      std::string bytes = read_file_bytes(s.image_path);
      result.image_sha256 = sha256_hex(as_bytes(bytes));
      result.prompt_sha256 = sha256_hex(as_bytes(*s.prompt));
      // A grade stands for this image and this prompt: a change in either asks again.
      const auto found = earlier.find(s.id);
      if (found != earlier.end() && found->second.image_sha256 == result.image_sha256 &&
          found->second.prompt_sha256 == result.prompt_sha256) {
        result = found->second;
        reused.fetch_add(1);
        return;
      }
      png = image_as_png(std::move(bytes), s.image_path.string());
    } catch (const InputError& e) {
      result.outcome = Outcome::error;
      result.reason = fmt::format("{}: {}", where.render(), e.what());
    }

    if (result.reason.empty()) {
      asked.fetch_add(1);
      const nlohmann::json request =
          grading_request(options, render_question(options.question_template, *s.prompt), png);
      png.clear();
      try {
        for (int ask = 1; ask <= 2; ++ask) {
          const nlohmann::json reply = client.post_json("/v1/chat/completions", request,
                                                        [](const nlohmann::json& r) { (void)reply_content(r); });
          result.requests = ask;
          result.reply = reply_content(reply);
          result.grade = parse_grade_reply(result.reply);
          if (result.grade) break;
        }
        if (result.grade) {
          result.outcome = Outcome::graded;
        } else {
          result.outcome = Outcome::unparsed;
          result.reason = "the reply names no single grade (asked twice)";
        }
      } catch (const RequestFailed& e) {
        result.outcome = Outcome::error;
        result.reason = fmt::format("{}: image '{}': {}", where.render(), s.image_ref, e.what());
      }
    }

    nlohmann::json record{{"kind", "image"},
                          {"sample_id", s.id},
                          {"image", s.image_ref},
                          {"row", s.row},
                          {"image_sha256", result.image_sha256},
                          {"prompt_sha256", result.prompt_sha256},
                          {"outcome", outcome_name(result.outcome)},
                          {"grade", result.grade ? nlohmann::json(std::string(grade_name(*result.grade))) : nullptr},
                          {"reply", result.reply},
                          {"reason", result.reason},
                          {"requests", result.requests}};
    journal.append(record);
  };

  const auto worker = [&] {
    while (!stop.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= dataset.samples.size()) return;
      try {
        grade_one(i);
      } catch (...) {
        // ServiceError (the service refused: asking again cannot help) or OutputError (the journal): stop handing
        // out work; what is in flight finishes.
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop.store(true);
        return;
      }
      if (progress != nullptr) progress->advance();
    }
  };
  const std::size_t n_workers = std::min<std::size_t>(static_cast<std::size_t>(options.concurrency),
                                                      std::max<std::size_t>(1, dataset.samples.size()));
  std::vector<std::thread> workers;
  workers.reserve(n_workers);
  for (std::size_t w = 0; w < n_workers; ++w) workers.emplace_back(worker);
  for (auto& t : workers) t.join();
  if (failure) std::rethrow_exception(failure);

  run.asked = asked.load();
  run.from_journal = reused.load();
  run.requests = client.stats().requests.load() - requests_before;
  run.retries = client.stats().retries.load() - retries_before;
  run.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

namespace {

// The input rows as they were, for graded.csv and kept.csv: the CSV's own header and cells, or for JSONL and
// folders the CheXGenBench synthetic shape.
struct InputRows {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> cells;  // one per dataset sample
};

InputRows input_rows(const Dataset& dataset) {
  InputRows rows;
  const bool is_csv = dataset.format == ManifestFormat::chexgenbench_real ||
                      dataset.format == ManifestFormat::chexgenbench_synthetic ||
                      dataset.format == ManifestFormat::onehot;
  if (is_csv) {
    ErrorReport ignored;  // the manifest reader has already reported every bad row
    const CsvTable table = read_csv_file(dataset.source, ignored);
    std::map<std::size_t, const CsvRecord*> by_line;
    for (const auto& r : table.records) by_line[r.line] = &r;
    rows.header = table.header;
    for (const Sample& s : dataset.samples) {
      const auto it = by_line.find(s.row);
      CHEXGEN_ASSERT(it != by_line.end(), "every sample of a CSV manifest comes from a record");
      rows.cells.push_back(it->second->fields);
    }
    return rows;
  }
  bool any_prompt = false, any_patient = false;
  std::vector<std::string> extra_keys;
  for (const Sample& s : dataset.samples) {
    any_prompt = any_prompt || s.prompt.has_value();
    any_patient = any_patient || s.patient_id.has_value();
    for (const auto& [key, value] : s.extra) {
      if (std::find(extra_keys.begin(), extra_keys.end(), key) == extra_keys.end()) extra_keys.push_back(key);
    }
  }
  rows.header.push_back("img_savename");
  if (any_prompt) rows.header.push_back("prompt");
  if (!dataset.labels.empty()) rows.header.push_back("chexpert_labels");
  if (any_patient) rows.header.push_back("patient_id");
  for (const auto& k : extra_keys) rows.header.push_back(k);
  for (const Sample& s : dataset.samples) {
    std::vector<std::string> cells{s.image_ref};
    if (any_prompt) cells.push_back(s.prompt.value_or(""));
    if (!dataset.labels.empty()) cells.push_back(format_label_dict(dataset.labels, s.labels));
    if (any_patient) cells.push_back(s.patient_id.value_or(""));
    for (const auto& k : extra_keys) {
      std::string value;
      for (const auto& [key, v] : s.extra) {
        if (key == k) value = v;
      }
      cells.push_back(value);
    }
    rows.cells.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace

nlohmann::ordered_json write_filter_outputs(const Dataset& dataset, const FilterRun& run, const FilterOptions& options,
                                            const std::string& base_url, const std::filesystem::path& image_root,
                                            const std::filesystem::path& out_dir) {
  InputRows rows = input_rows(dataset);
  for (const char* added : {"quality", "image_sha256", "quality_reason", "reply"}) {
    if (std::find(rows.header.begin(), rows.header.end(), added) != rows.header.end()) {
      throw InputError(Location(dataset.source.string(), 1, added),
                       fmt::format("the manifest already has a column '{}', which the filter writes", added));
    }
  }

  std::vector<std::string> graded_header = rows.header;
  // image_sha256: the content the grade was given for; export refuses an image that no longer has it.
  graded_header.insert(graded_header.end(), {"quality", "image_sha256", "quality_reason", "reply"});
  std::vector<std::string> kept_header = rows.header;
  kept_header.insert(kept_header.end(), {"quality", "image_sha256"});
  std::string graded = csv_record(graded_header) + "\n", kept = csv_record(kept_header) + "\n";

  ojson counts = ojson::object();
  for (const std::string& name : quality_names()) counts[name] = 0;
  std::size_t n_kept = 0;
  for (std::size_t i = 0; i < dataset.samples.size(); ++i) {
    const ImageResult& r = run.results[i];
    const std::string label = outcome_label(r);
    counts[label] = counts[label].get<std::size_t>() + 1;
    std::vector<std::string> cells = rows.cells[i];
    cells.push_back(label);
    cells.push_back(r.image_sha256);
    if (is_kept(r, options)) {
      ++n_kept;
      kept += csv_record(cells) + "\n";
    }
    cells.push_back(r.reason);
    cells.push_back(r.reply);
    graded += csv_record(cells) + "\n";
  }

  ojson keep = ojson::array();
  for (const Grade g : options.keep) keep.push_back(std::string(grade_name(g)));
  ojson summary{{"manifest", dataset.source.string()},
                {"image_root", image_root.string()},
                {"n_images", dataset.samples.size()},
                {"counts", counts},
                {"keep", keep},
                {"kept", n_kept},
                {"removed", dataset.samples.size() - n_kept},
                {"asked_this_run", run.asked},
                {"from_journal", run.from_journal},
                {"requests", run.requests},
                {"retries", run.retries},
                {"elapsed_s", run.elapsed_s},
                {"images_per_s", run.elapsed_s > 0 ? static_cast<double>(run.asked) / run.elapsed_s : 0.0},
                {"model", options.model},
                {"base_url", base_url},
                {"meta_prompt", options.meta_prompt},
                {"question_template", options.question_template},
                {"max_tokens", options.max_tokens},
                {"temperature", 0},
                {"chexgen", version_string()}};

  write_file_atomically(out_dir / "graded.csv", graded);
  write_file_atomically(out_dir / "kept.csv", kept);
  write_file_atomically(out_dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace chexgen
