#include "chexgen/curation/generate.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <span>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/curation/generate_pvt.h"
#include "chexgen/curation/journal.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/image/decode.h"

namespace chexgen {

namespace fs = std::filesystem;

namespace generate_detail {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string sha256_of(std::string_view s) { return sha256_hex(as_bytes(s)); }

std::string row_name(const Dataset& dataset, const Sample& sample) {
  if (sample.row == 0) return sample.image_path.string();
  return fmt::format("{}:{}", dataset.source.string(), sample.row);
}

std::string backend_name(const GenerationBackend& b) {
  return std::holds_alternative<ImagesApiBackend>(b) ? "images-api" : "command";
}

std::string backend_model(const GenerationBackend& b) {
  if (const auto* api = std::get_if<ImagesApiBackend>(&b)) return api->model;
  return std::get<CommandBackend>(b).model;
}

CheckedImage check_image(std::string bytes, const std::string& source) {
  const ImageFormat format = sniff_image_format(as_bytes(bytes));
  if (format != ImageFormat::png && format != ImageFormat::jpeg) {
    std::string head;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
      head += fmt::format("{}{:02x}", i == 0 ? "" : " ", static_cast<unsigned char>(bytes[i]));
    }
    throw InputError({source}, bytes.empty() ? std::string("empty, not a PNG or JPEG image")
                                             : fmt::format("not a PNG or JPEG image (starts with {})", head));
  }
  Image8 image = decode_image_u8(as_bytes(bytes), source, ColorMode::rgb);
  CheckedImage checked{std::string(), image.width, image.height, format != ImageFormat::png};
  if (format == ImageFormat::png) {
    checked.png = std::move(bytes);
    return checked;
  }
  // A JPEG whose three channels are equal everywhere is a gray image: saved as a gray PNG, same pixel values.
  bool gray = true;
  for (std::size_t i = 0; gray && i < image.data.size(); i += 3) {
    gray = image.data[i] == image.data[i + 1] && image.data[i] == image.data[i + 2];
  }
  if (gray) {
    Image8 g(image.width, image.height, 1);
    for (std::size_t p = 0; p < g.data.size(); ++p) g.data[p] = image.data[3 * p];
    image = std::move(g);
  }
  checked.png = encode_png(image);
  return checked;
}

std::string size_mismatch(const CheckedImage& image, const ImageSize& size) {
  return fmt::format("{}x{}, not the {} asked for (--size)", image.width, image.height, image_size_name(size));
}

nlohmann::json image_settings(const GenerationOptions& options) {
  const auto* api = std::get_if<ImagesApiBackend>(&options.backend);
  return nlohmann::json{{"size", image_size_name(options.size)}, {"seed_field", api != nullptr ? api->seed_field : ""}};
}

}  // namespace generate_detail

namespace {

using namespace generate_detail;

bool file_name_safe(std::string_view id) {
  if (id.empty()) return false;
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

// The outputs every run ends with, from the plan alone (every image is in place by then).
void write_outputs(const Dataset& dataset, const GenerationPlan& plan, const fs::path& out_dir,
                   const GenerationOptions& options, const GenerationRun& run) {
  const bool with_labels = !dataset.labels.empty();
  const bool with_patients = std::any_of(dataset.samples.begin(), dataset.samples.end(),
                                         [](const Sample& s) { return s.patient_id.has_value(); });
  std::string csv = "img_savename,prompt";
  if (with_labels) csv += ",chexpert_labels";
  csv += ",sample_id,k,seed";
  if (with_patients) csv += ",patient_id";
  csv += "\n";
  std::string info = "prompt,img_savename\n";
  for (const GenerationJob& job : plan.jobs) {
    const Sample& sample = dataset.samples[job.sample];
    csv += csv_field("images/" + job.file_name) + "," + csv_field(job.prompt);
    if (with_labels) csv += "," + csv_field(format_label_dict(dataset.labels, sample.labels));
    csv += fmt::format(",{},{},{}", csv_field(job.sample_id), job.k, job.seed);
    if (with_patients) csv += "," + csv_field(sample.patient_id.value_or(""));
    csv += "\n";
    info += csv_field(job.prompt) + "," + csv_field(job.file_name) + "\n";
  }
  write_file_atomically(out_dir / "generations.csv", csv);
  write_file_atomically(out_dir / "images" / "prompt_INFO.csv", info);

  nlohmann::ordered_json j;
  j["backend"] = backend_name(options.backend);
  j["model"] = backend_model(options.backend);
  if (const auto* api = std::get_if<ImagesApiBackend>(&options.backend)) {
    j["base_url"] = api->base_url;
    j["seed_field"] = api->seed_field.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(api->seed_field);
    j["concurrency"] = api->concurrency;
  } else {
    const auto& cmd = std::get<CommandBackend>(options.backend);
    j["command"] = cmd.command_template;
    j["batch_size"] = cmd.batch_size;
  }
  j["seeds"] = plan.seeds;
  j["per_prompt"] = plan.per_prompt;
  j["size"] = image_size_name(options.size);
  j["n_prompts"] = run.n_prompts;
  j["n_images"] = run.n_images;
  j["generated"] = run.n_generated;
  j["from_journal"] = run.n_from_journal;
  j["manifest"] = dataset.source.string();
  j["requests"] = run.requests;
  j["retries"] = run.retries;
  j["commands_run"] = run.commands_run;
  j["elapsed_s"] = run.elapsed_s;
  write_file_atomically(out_dir / "generation.json", j.dump(2) + "\n");
}

}  // namespace

std::string image_size_name(const ImageSize& size) { return fmt::format("{}x{}", size.width, size.height); }

GenerationPlan plan_generations(const Dataset& dataset, const GenerationPlanOptions& options, ErrorReport& errors) {
  GenerationPlan plan;
  if (options.per_prompt < 0) {
    throw UsageError(fmt::format("--per-prompt must be at least 1, got {}", options.per_prompt));
  }
  if (!options.seeds.empty()) {
    if (options.per_prompt != 0 && options.per_prompt != static_cast<int>(options.seeds.size())) {
      throw UsageError(fmt::format("--per-prompt {} but --seeds gives {} seed(s); give one seed per generation",
                                   options.per_prompt, options.seeds.size()));
    }
    plan.seeds = options.seeds;
  } else {
    const int k = options.per_prompt == 0 ? 1 : options.per_prompt;
    for (int i = 0; i < k; ++i) plan.seeds.push_back(options.base_seed + i);
  }
  plan.per_prompt = static_cast<int>(plan.seeds.size());
  if (dataset.samples.empty()) throw InputError({dataset.source.string()}, "the manifest has no rows to generate from");

  const std::size_t errors_before = errors.size();
  const auto where = [&](const Sample& s, const std::string& column = {}) {
    return s.row == 0 ? Location(s.image_path.string()) : Location(dataset.source.string(), s.row, column);
  };
  std::unordered_map<std::string, const Sample*> first_with_id;
  for (std::size_t i = 0; i < dataset.samples.size(); ++i) {
    const Sample& s = dataset.samples[i];
    if (!s.prompt || s.prompt->find_first_not_of(" \t\r\n") == std::string::npos) {
      errors.add(InputError(where(s),
                            "no prompt to generate from (the prompt cell is empty, or the manifest has no "
                            "prompt column: see --prompt-column)"));
    }
    const std::string id = options.ids_from_column ? s.id : fs::path(s.image_ref).stem().string();
    if (!file_name_safe(id)) {
      errors.add(InputError(
          where(s, options.ids_from_column ? "" : dataset.image_column),
          options.ids_from_column
              ? fmt::format("sample id '{}' cannot be part of a file name (only A-Z a-z 0-9 . _ - are allowed)", id)
              : fmt::format("the image name '{}' gives the sample id '{}', which cannot be part of a file name (only "
                            "A-Z a-z 0-9 . _ - are allowed); give ids with --id-column",
                            s.image_ref, id)));
      continue;
    }
    const auto [it, inserted] = first_with_id.emplace(id, &s);
    if (!inserted) {
      const Sample& other = *it->second;
      errors.add(InputError(
          where(s), fmt::format("sample id '{}' is also the id of {}; file names would collide{}", id,
                                other.row == 0 ? other.image_path.string() : fmt::format("row {}", other.row),
                                options.ids_from_column ? "" : " (two images with the same name: give --id-column)")));
      continue;
    }
    if (!s.prompt) continue;
    for (int k = 0; k < plan.per_prompt; ++k) {
      GenerationJob job;
      job.sample = i;
      job.sample_id = id;
      job.k = k;
      job.seed = plan.seeds[static_cast<std::size_t>(k)];
      job.prompt = *s.prompt;
      job.file_name =
          plan.per_prompt == 1 ? fmt::format("SyntheticImg_{}.png", id) : fmt::format("SyntheticImg_{}_{}.png", id, k);
      plan.jobs.push_back(std::move(job));
    }
  }
  const std::size_t n_bad = errors.size() - errors_before;
  if (n_bad > 0) {
    const InputError& first = errors.errors()[errors_before];
    if (n_bad == 1) throw first;
    throw InputError(first.where(), fmt::format("{} (and {} more bad rows)", first.reason(), n_bad - 1));
  }
  return plan;
}

std::string expand_command_template(std::string_view command_template,
                                    const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < command_template.size()) {
    if (command_template[i] == '{') {
      const std::size_t close = command_template.find('}', i + 1);
      if (close != std::string_view::npos) {
        const std::string_view name = command_template.substr(i + 1, close - i - 1);
        const auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == name; });
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += command_template[i++];
  }
  return out;
}

GenerationRun generate_images(const Dataset& dataset, const GenerationPlan& plan, const fs::path& out_dir,
                              const GenerationOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (const auto* cmd = std::get_if<CommandBackend>(&options.backend)) {
    const std::string& t = cmd->command_template;
    if (t.find("{out_dir}") == std::string::npos) {
      throw UsageError("--command: the template must say where to write the images with {out_dir}");
    }
    if (t.find("{prompts_file}") == std::string::npos && t.find("{jobs_file}") == std::string::npos) {
      throw UsageError("--command: the template must pass the prompts with {prompts_file} or {jobs_file}");
    }
  }

  claim_output_folder(out_dir, "chexgen generate");
  std::error_code ec;
  fs::create_directories(out_dir / "images", ec);
  if (ec) {
    throw OutputError(fmt::format("{}: cannot create the folder: {}", (out_dir / "images").string(), ec.message()));
  }
  Journal journal(out_dir / "journal.jsonl");

  // What an earlier run finished: the last record per file name. A folder made by another generator is not
  // continued, so that one dataset never mixes two models without anyone noticing.
  const std::string backend = backend_name(options.backend);
  const std::string model = backend_model(options.backend);
  std::unordered_map<std::string, const nlohmann::json*> done_records;
  for (const nlohmann::json& r : journal.records()) {
    const std::string r_backend = r.value("backend", "");
    const std::string r_model = r.value("model", "");
    if (r_backend != backend || r_model != model) {
      throw UsageError(fmt::format(
          "{} holds images made by another generator (backend '{}', model '{}'; this run: backend '{}', model '{}'); "
          "use another --out",
          out_dir.string(), r_backend, r_model, backend, model));
    }
    if (r.contains("file_name") && r["file_name"].is_string()) done_records[r["file_name"].get<std::string>()] = &r;
  }
  const nlohmann::json settings = image_settings(options);  // other settings: the image is made again
  std::vector<const GenerationJob*> pending;
  GenerationRun run;
  run.n_images = plan.jobs.size();
  run.n_prompts = plan.per_prompt > 0 ? plan.jobs.size() / static_cast<std::size_t>(plan.per_prompt) : 0;
  for (const GenerationJob& job : plan.jobs) {
    const auto it = done_records.find(job.file_name);
    const bool done = it != done_records.end() && it->second->value("prompt_sha256", "") == sha256_of(job.prompt) &&
                      it->second->contains("seed") && (*it->second)["seed"] == job.seed &&
                      it->second->value("settings", nlohmann::json()) == settings &&
                      fs::is_regular_file(out_dir / "images" / job.file_name, ec);
    if (done) {
      ++run.n_from_journal;
    } else {
      pending.push_back(&job);
    }
  }
  if (options.callbacks.started) options.callbacks.started(pending.size(), run.n_from_journal);

  Driver driver(dataset, out_dir, options, journal);
  const auto finish_counts = [&] {
    run.n_generated = driver.generated();
    run.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!pending.empty()) {
    if (const auto* api = std::get_if<ImagesApiBackend>(&options.backend)) {
      run_images_api(*api, options.size, pending, driver, run);
    } else {
      run_command_batches(std::get<CommandBackend>(options.backend), options.size, pending, out_dir, driver, run);
    }
  }
  finish_counts();
  write_outputs(dataset, plan, out_dir, options, run);
  return run;
}

}  // namespace chexgen
