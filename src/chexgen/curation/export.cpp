#include "chexgen/core/json.h"
#include "chexgen/curation/export.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <set>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/version.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/core/utf8.h"
#include "chexgen/image/decode.h"

namespace chexgen {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr std::size_t kUnparsed = 4;
constexpr std::size_t kError = 5;
constexpr const char* kQualityKey = "quality";
// Lists the file names an export is about to put in DIR/images, so that a run that stops before metadata.jsonl is
// written still knows, when rerun, which files there are its own.
constexpr const char* kPendingFile = ".export-pending.json";
// How many unparsed/error rows the card lists one by one (export.json lists all of them).
constexpr std::size_t kCardRowList = 50;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Index into quality_names(), or nullopt.
std::optional<std::size_t> quality_index(std::string_view text) {
  const std::string_view t = trim(text);
  if (const auto g = grade_from_name(t)) return static_cast<std::size_t>(*g);
  const std::string l = lower(t);
  if (l == "unparsed") return kUnparsed;
  if (l == "error") return kError;
  return std::nullopt;
}

InputError row_error(const Dataset& d, const Sample& s, const std::string& column, const std::string& reason) {
  if (s.row == 0) return InputError(Location{s.image_path.string()}, reason);
  return InputError(Location{d.source.string(), s.row, column}, reason);
}

InputError image_error(const Dataset& d, const Sample& s, const std::string& reason) {
  if (s.row == 0) return InputError(sample_location(d, s), reason);
  return InputError(sample_location(d, s), fmt::format("image '{}': {}", s.image_path.string(), reason));
}

// Reads a kept row's image into `bytes` and checks it: chexgen decodes it, it is a PNG or JPEG (imagefolder does not
// load DICOM), and, when the row says which content was graded (the filter's image_sha256), it is that content.
// Returns the problem, named by the manifest row, or nullopt.
std::optional<InputError> read_checked_image(const Dataset& d, const Sample& s, std::string& bytes) {
  try {
    bytes = read_file_bytes(s.image_path);
    decode_image_u8(as_bytes(bytes), s.image_path.string(), ColorMode::gray);
  } catch (const InputError& e) {
    return image_error(d, s, e.reason());
  }
  if (const std::string* graded = s.extra_value("image_sha256"); graded != nullptr && !graded->empty()) {
    if (sha256_hex(as_bytes(bytes)) != *graded) {
      return image_error(d, s,
                         "the image has changed since it was graded (its SHA-256 is not the row's image_sha256): "
                         "grade it again with chexgen filter before exporting it");
    }
  }
  const ImageFormat format = sniff_image_format(as_bytes(bytes));
  if (format != ImageFormat::png && format != ImageFormat::jpeg) {
    return image_error(d, s, "a DICOM file; Hugging Face's imagefolder loads PNG and JPEG, so convert it first");
  }
  return std::nullopt;
}

bool image_extension_ok(const fs::path& name) {
  const std::string ext = lower(name.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

nlohmann::json read_json_object(const fs::path& path, ReadAs role = ReadAs::input) {
  const nlohmann::json j = parse_json(read_file_bytes(path, role), Location{path.string()});
  if (!j.is_object()) throw InputError(Location{path.string()}, "expected a JSON object");
  return j;
}

std::string optional_string(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> optional_int(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_number_integer()) return it->get<std::int64_t>();
  return std::nullopt;
}

// A name directly inside images/ (no folders, not "." or ".."): nothing outside it is ever removed on a recorded
// file name's say-so.
bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

std::optional<fs::path> existing_file(const fs::path& p) {
  std::error_code ec;
  if (!p.empty() && fs::is_regular_file(p, ec)) return p;
  return std::nullopt;
}

// The file names in DIR/images that an earlier export into DIR wrote: those its metadata.jsonl lists (when
// DIR/export.json says chexgen export wrote it) and those a run that stopped early had announced.
std::set<std::string> earlier_export_names(const fs::path& out_dir) {
  std::set<std::string> names;
  std::error_code ec;
  if (fs::is_regular_file(out_dir / kPendingFile, ec)) {
    try {
      const auto j = read_json_object(out_dir / kPendingFile, ReadAs::own_output);
      if (j.contains("files") && j["files"].is_array()) {
        for (const auto& f : j["files"]) {
          if (!f.is_string()) continue;
          if (plain_name(f.get<std::string>())) names.insert(f.get<std::string>());
        }
      }
    } catch (const InputError&) {
      // A damaged list claims nothing; its files then count as foreign and the user is told.
    }
  }
  bool ours = false;
  if (fs::is_regular_file(out_dir / "export.json", ec)) {
    try {
      ours = optional_string(read_json_object(out_dir / "export.json", ReadAs::own_output), "tool") == "chexgen export";
    } catch (const InputError&) {
    }
  }
  if (!ours || !fs::is_regular_file(out_dir / "metadata.jsonl", ec)) return names;
  std::string text;
  try {
    text = read_file_bytes(out_dir / "metadata.jsonl", ReadAs::own_output);
  } catch (const InputError&) {
    return names;
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const auto line = try_parse_json(std::string_view(text).substr(pos, end - pos)).value_or(nlohmann::json());
    pos = end + 1;
    if (!line.is_object()) continue;
    const std::string file = optional_string(line, "file_name");
    if (file.rfind("images/", 0) != 0) continue;
    if (plain_name(file.substr(7))) names.insert(file.substr(7));
  }
  return names;
}

// Makes out_dir/images and checks that it is the export's own: every file there is one an earlier export into
// out_dir wrote, or one this export writes (a UsageError naming the others otherwise). Removes temporary files of
// an interrupted copy, records the names about to be written in kPendingFile, and returns the earlier export's
// names.
std::set<std::string> claim_images_folder(const fs::path& out_dir, const std::set<std::string>& new_names) {
  const fs::path images_dir = out_dir / "images";
  std::error_code ec;
  fs::create_directories(images_dir, ec);
  if (ec) throw OutputError(fmt::format("{}: cannot create the folder: {}", images_dir.string(), ec.message()));
  std::set<std::string> earlier = earlier_export_names(out_dir);
  std::vector<std::string> foreign;
  std::vector<fs::path> leftovers;  // temporary files of an interrupted copy
  for (const auto& entry : fs::directory_iterator(images_dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool known = earlier.count(name) > 0 || new_names.count(name) > 0;
    if (known && entry.is_regular_file()) continue;
    const std::string partial_suffix = ".partial";
    if (entry.is_regular_file() && name.size() > partial_suffix.size() &&
        name.compare(name.size() - partial_suffix.size(), partial_suffix.size(), partial_suffix) == 0) {
      const std::string stem = name.substr(0, name.size() - partial_suffix.size());
      if (earlier.count(stem) > 0 || new_names.count(stem) > 0) {
        leftovers.push_back(entry.path());
        continue;
      }
    }
    foreign.push_back(name);
  }
  if (ec) throw OutputError(fmt::format("{}: cannot list the folder: {}", images_dir.string(), ec.message()));
  if (!foreign.empty()) {
    std::sort(foreign.begin(), foreign.end());
    std::string shown;
    for (std::size_t i = 0; i < foreign.size() && i < 5; ++i) shown += (i ? ", " : "") + foreign[i];
    throw UsageError(fmt::format(
        "{} holds {} file(s) that no earlier `chexgen export` into {} wrote ({}{}); export into a new or empty "
        "folder, or remove them",
        images_dir.string(), foreign.size(), out_dir.string(), shown, foreign.size() > 5 ? ", ..." : ""));
  }
  for (const auto& p : leftovers) fs::remove(p, ec);
  {
    ojson pending{{"tool", "chexgen export"}, {"files", ojson::array()}};
    std::set<std::string> all = earlier;
    all.insert(new_names.begin(), new_names.end());
    for (const auto& name : all) pending["files"].push_back(name);
    write_file_atomically(out_dir / kPendingFile, pending.dump() + "\n");
  }
  return earlier;
}

enum class Placed { copied, linked, already_there, replaced_by_copy, replaced_by_link };

// Puts one image (its bytes already read and checked) at `dest`: nothing when an identical file is there (the same
// file with `link`, or the same SHA-256), else a copy written atomically or a hard link renamed into place.
Placed place_image(const fs::path& source, const std::string& bytes, const fs::path& dest, bool link) {
  std::error_code ec;
  bool replacing = false;
  if (fs::exists(dest, ec)) {
    bool same = link && fs::equivalent(source, dest, ec);
    if (!same) {
      try {
        const std::string there = read_file_bytes(dest, ReadAs::own_output);
        same = there.size() == bytes.size() && sha256(as_bytes(there)) == sha256(as_bytes(bytes));
      } catch (const InputError&) {
        same = false;  // unreadable: replaced below
      }
    }
    if (same) return Placed::already_there;
    replacing = true;
  }
  if (!link) {
    write_file_atomically(dest, bytes);
    return replacing ? Placed::replaced_by_copy : Placed::copied;
  }
  const fs::path temp = dest.string() + ".partial";
  fs::remove(temp, ec);
  fs::create_hard_link(source, temp, ec);
  if (ec) {
    throw OutputError(
        fmt::format("{}: cannot hard-link '{}' there: {} (--link needs the images and the output on "
                    "one file system; leave --link out to copy them)",
                    dest.string(), source.string(), ec.message()));
  }
  fs::rename(temp, dest, ec);
  if (ec) throw OutputError(fmt::format("{}: cannot move the link into place: {}", dest.string(), ec.message()));
  return replacing ? Placed::replaced_by_link : Placed::linked;
}

std::string size_category(std::size_t n) {
  if (n < 1000) return "n<1K";
  if (n < 10000) return "1K<n<10K";
  if (n < 100000) return "10K<n<100K";
  if (n < 1000000) return "100K<n<1M";
  if (n < 10000000) return "1M<n<10M";
  return "10M<n<100M";
}

// A fenced block that shows `text` verbatim: the fence is longer than any run of backticks inside.
std::string fenced(const std::string& text) {
  std::size_t longest = 0, run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  return fmt::format("{}text\n{}\n{}\n", fence, text, fence);
}

// Text inside a Markdown table cell or a line of prose: no line breaks, no bare '|'.
std::string inline_text(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

std::string percent(std::size_t k, std::size_t n) {
  return n == 0 ? "-" : fmt::format("{:.1f}%", 100.0 * static_cast<double>(k) / static_cast<double>(n));
}

std::string seeds_text(const std::vector<std::int64_t>& seeds) {
  constexpr std::size_t kShown = 20;
  std::string out;
  for (std::size_t i = 0; i < seeds.size() && i < kShown; ++i) out += (i ? ", " : "") + std::to_string(seeds[i]);
  if (seeds.size() > kShown) out += fmt::format(", ... ({} seeds in all)", seeds.size());
  return out;
}

std::string dataset_card(const Dataset& dataset, const ExportOptions& options, const ExportSummary& s) {
  const std::string first_version = version_string().substr(0, version_string().find('\n'));
  std::string md;
  md += "---\n";
  md += "pretty_name: Synthetic chest X-rays exported by chexgen\n";
  md += "task_categories:\n- text-to-image\n";
  md += "tags:\n- medical\n- chest-x-ray\n- synthetic\n";
  md += fmt::format("size_categories:\n- {}\n", size_category(s.n_exported));
  md += "---\n\n";
  md += "# Synthetic chest X-rays\n\n";
  md += fmt::format(
      "{} images with the prompts they were generated from{}, in the shape of SynthCheX-75K. Exported by "
      "{} (`chexgen export`) from `{}` ({} rows).\n\n",
      s.n_exported, options.no_labels ? "" : " and CheXpert labels", first_version,
      inline_text(dataset.source.string()), s.n_rows);

  md += "## Files\n\n";
  md += "- `images/`: the images, each under its generated file name.\n";
  md +=
      "- `metadata.jsonl`: one JSON object per image: `file_name` (`images/<name>`, relative to this folder), "
      "`filename` (the bare name), `prompt`";
  if (!options.no_labels) md += ", `labels_dict` (CheXpert's 14 findings)";
  if (s.has_quality) md += ", `quality` (the vision-language model's grade)";
  md += ".\n";
  md += "- `prompt_INFO.csv`: CheXGenBench's prompt list (`prompt`, `img_savename`).\n";
  md +=
      "- `export.json`: the counts below, the settings of the export and every row left out as unparsed or "
      "error.\n\n";

  md +=
      "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
      "ds = load_dataset(\"imagefolder\", data_dir=\"path/to/this/folder\", split=\"train\")\n"
      "row = ds[0]\n"
      "row[\"image\"]        # PIL image (from file_name)\n"
      "row[\"filename\"], row[\"prompt\"]";
  if (!options.no_labels) md += ", row[\"labels_dict\"]";
  if (s.has_quality) md += ", row[\"quality\"]";
  md += "\n```\n\n";

  md += "## Quality filter\n\n";
  if (!s.has_quality) {
    md += "The manifest had no `quality` column: every row was exported, and no grade is recorded.\n\n";
  } else {
    md += fmt::format("Kept grades: {}.\n\n", grade_list_text(options.keep));
    md += "| quality | rows | exported | left out |\n|---|---:|---:|---:|\n";
    for (std::size_t q = 0; q < quality_names().size(); ++q) {
      md += fmt::format("| {} | {} | {} | {} |\n", quality_names()[q], s.rows_per_quality[q], s.exported_per_quality[q],
                        s.left_out_per_quality[q]);
    }
    md += fmt::format("| all | {} | {} | {} |\n\n", s.n_rows, s.n_exported, s.n_rows - s.n_exported);
    if (!s.unparsed_or_error.empty()) {
      md += fmt::format(
          "Rows left out because the model's reply could not be read (unparsed) or the image could not "
          "be graded (error), {} in all{}:\n\n",
          s.unparsed_or_error.size(),
          s.unparsed_or_error.size() > kCardRowList
              ? fmt::format(", the first {} (export.json lists every one)", kCardRowList)
              : "");
      for (std::size_t i = 0; i < s.unparsed_or_error.size() && i < kCardRowList; ++i) {
        const auto& r = s.unparsed_or_error[i];
        md += fmt::format("- row {}: `{}` ({})\n", r.row, inline_text(r.image), r.quality);
      }
      md += "\n";
    }
  }
  if (options.filter) {
    const FilterInfo& f = *options.filter;
    md += fmt::format(
        "Graded by the vision-language model `{}`{}{} (recorded in `{}`). System message (the "
        "meta-prompt):\n\n",
        inline_text(f.model.empty() ? "unknown" : f.model),
        f.base_url.empty() ? "" : fmt::format(" at {}", inline_text(f.base_url)),
        f.temperature ? fmt::format(", temperature {:g}", *f.temperature) : "", inline_text(f.path.string()));
    md += fenced(f.meta_prompt) + "\n";
    if (!f.question_template.empty()) {
      md += "Question, with `{prompt}` replaced by each image's own prompt:\n\n" + fenced(f.question_template) + "\n";
    }
    if (!f.keep.empty()) {
      std::string fk;
      for (const auto& k : f.keep) fk += (fk.empty() ? "" : ", ") + k;
      if (s.has_quality && fk != grade_list_text(options.keep)) {
        md += fmt::format("The filter run itself kept: {}; this export kept the grades above.\n\n", fk);
      }
    }
  } else {
    md +=
        "Vision-language model, meta-prompt and question template: unknown (no filter summary.json was found "
        "beside the manifest or given with --filter-summary).\n\n";
  }

  md += "## Generator\n\n";
  if (options.generation) {
    const GenerationInfo& g = *options.generation;
    if (!g.model.empty()) {
      md += fmt::format("- model: `{}`{}\n", inline_text(g.model),
                        g.base_url.empty() ? "" : fmt::format(" ({} at {})", g.backend, inline_text(g.base_url)));
    } else {
      md += "- model: unknown\n";
    }
    if (!g.command.empty()) md += fmt::format("- command: `{}`\n", inline_text(g.command));
    md += fmt::format("- seeds: {}\n", g.seeds.empty() ? std::string("none recorded") : seeds_text(g.seeds));
    if (g.per_prompt) md += fmt::format("- images per prompt: {}\n", *g.per_prompt);
    if (!g.size.empty()) md += fmt::format("- size: {}\n", inline_text(g.size));
    if (g.n_prompts && g.n_images) {
      md += fmt::format("- generated: {} images from {} prompts\n", *g.n_images, *g.n_prompts);
    }
    md += fmt::format("- recorded in: `{}`\n\n", inline_text(g.path.string()));
  } else {
    md +=
        "Generator model and seeds: unknown (no generation.json was found beside the manifest, in the image folder "
        "or given with --generation-info).\n\n";
  }

  md += "## Labels\n\n";
  if (options.no_labels) {
    md += "Exported without labels (`--no-labels`).\n";
  } else {
    if (options.label_policy == LabelPolicy::binary) {
      md +=
          "`labels_dict` holds CheXpert's 14 findings from each prompt's source report, under the dataset card's "
          "convention: positive (1) is 1; negative, uncertain (-1) and not mentioned are all 0.\n\n";
      md += "| label | 1 | 0 | share of 1 |\n|---|---:|---:|---:|\n";
      for (const auto& t : s.labels) {
        md += fmt::format("| {} | {} | {} | {} |\n", t.name, t.positive, t.negative, percent(t.positive, s.n_exported));
      }
    } else {
      md +=
          "`labels_dict` holds CheXpert's 14 findings from each prompt's source report as given: 1 positive, 0 "
          "negative, -1 uncertain, null not mentioned.\n\n";
      md += "| label | 1 | 0 | -1 | null |\n|---|---:|---:|---:|---:|\n";
      for (const auto& t : s.labels) {
        md += fmt::format("| {} | {} | {} | {} | {} |\n", t.name, t.positive, t.negative, t.uncertain, t.missing);
      }
    }
  }
  return md;
}

ojson summary_json(const Dataset& dataset, const fs::path& out_dir, const ExportOptions& options,
                   const ExportSummary& s) {
  const auto per_quality = [&](const std::vector<std::size_t>& v) {
    ojson j = ojson::object();
    for (std::size_t q = 0; q < quality_names().size(); ++q) j[quality_names()[q]] = v[q];
    return j;
  };
  ojson rows = ojson::array();
  for (const auto& r : s.unparsed_or_error) {
    rows.push_back({{"row", r.row}, {"image", r.image}, {"quality", r.quality}});
  }
  ojson keep = ojson::array();
  for (const Grade g : options.keep) keep.push_back(std::string(grade_name(g)));
  ojson labels = nullptr;
  if (!options.no_labels) {
    labels = ojson::object();
    for (const auto& t : s.labels) {
      labels[t.name] = {{"1", t.positive}, {"0", t.negative}, {"-1", t.uncertain}, {"null", t.missing}};
    }
  }
  return ojson{
      {"tool", "chexgen export"},
      {"version", version_string().substr(0, version_string().find('\n'))},
      {"manifest", dataset.source.string()},
      {"format", manifest_format_name(dataset.format)},
      {"out", out_dir.string()},
      {"n_rows", s.n_rows},
      {"n_exported", s.n_exported},
      {"n_left_out", s.n_rows - s.n_exported},
      {"quality_column", s.has_quality},
      {"keep", s.has_quality ? keep : ojson(nullptr)},
      {"rows_per_quality", s.has_quality ? per_quality(s.rows_per_quality) : ojson(nullptr)},
      {"exported_per_quality", s.has_quality ? per_quality(s.exported_per_quality) : ojson(nullptr)},
      {"left_out_per_quality", s.has_quality ? per_quality(s.left_out_per_quality) : ojson(nullptr)},
      {"left_out_unparsed_or_error", rows},
      {"label_policy", options.no_labels ? ojson(nullptr) : ojson(label_policy_name(options.label_policy))},
      {"label_counts", labels},
      {"images",
       {{"copied", s.n_copied},
        {"linked", s.n_linked},
        {"already_there", s.n_already_there},
        {"replaced", s.n_replaced},
        {"removed_stale", s.n_removed_stale}}},
      {"filter_summary", options.filter ? ojson(options.filter->path.string()) : ojson(nullptr)},
      {"vlm_model", options.filter ? ojson(options.filter->model) : ojson(nullptr)},
      {"generation_info", options.generation ? ojson(options.generation->path.string()) : ojson(nullptr)},
      {"generator_model",
       options.generation && !options.generation->model.empty() ? ojson(options.generation->model) : ojson(nullptr)},
      {"elapsed_s", s.elapsed_s},
  };
}

}  // namespace

std::string_view label_policy_name(LabelPolicy p) { return p == LabelPolicy::binary ? "binary" : "raw"; }

LabelPolicy parse_label_policy(std::string_view name) {
  if (name == "binary") return LabelPolicy::binary;
  if (name == "raw") return LabelPolicy::raw;
  throw UsageError(fmt::format("unknown label policy '{}'; expected binary or raw", name));
}

FilterInfo read_filter_info(const fs::path& path) {
  const auto j = read_json_object(path);
  if (!j.contains("meta_prompt") || !j["meta_prompt"].is_string() || !j.contains("counts") ||
      !j["counts"].is_object()) {
    throw InputError(Location{path.string()},
                     "not a `chexgen filter` summary (it needs a 'meta_prompt' string and a 'counts' object)");
  }
  FilterInfo f;
  f.path = path;
  f.model = optional_string(j, "model");
  f.base_url = optional_string(j, "base_url");
  f.meta_prompt = j["meta_prompt"].get<std::string>();
  f.question_template = optional_string(j, "question_template");
  f.image_root = optional_string(j, "image_root");
  if (j.contains("temperature") && j["temperature"].is_number()) f.temperature = j["temperature"].get<double>();
  f.manifest = optional_string(j, "manifest");
  if (j.contains("keep") && j["keep"].is_array()) {
    for (const auto& k : j["keep"]) {
      if (k.is_string()) f.keep.push_back(k.get<std::string>());
    }
  }
  return f;
}

GenerationInfo read_generation_info(const fs::path& path) {
  const auto j = read_json_object(path);
  if (!j.contains("backend") || !j["backend"].is_string() || !j.contains("seeds") || !j["seeds"].is_array()) {
    throw InputError(Location{path.string()},
                     "not a `chexgen generate` record (it needs a 'backend' string and a 'seeds' array)");
  }
  GenerationInfo g;
  g.path = path;
  g.backend = j["backend"].get<std::string>();
  g.model = optional_string(j, "model");
  g.base_url = optional_string(j, "base_url");
  g.command = optional_string(j, "command");
  g.size = optional_string(j, "size");
  for (const auto& s : j["seeds"]) {
    if (!s.is_number_integer()) throw InputError(Location{path.string()}, "'seeds' must hold integers");
    g.seeds.push_back(s.get<std::int64_t>());
  }
  g.per_prompt = optional_int(j, "per_prompt");
  g.n_prompts = optional_int(j, "n_prompts");
  g.n_images = optional_int(j, "n_images");
  return g;
}

std::optional<fs::path> find_filter_summary(const fs::path& manifest) {
  return existing_file(manifest.parent_path() / "summary.json");
}

std::optional<fs::path> find_generation_info(const fs::path& manifest, const fs::path& image_root,
                                             const FilterInfo* filter) {
  std::vector<fs::path> candidates{manifest.parent_path() / "generation.json"};
  if (!image_root.empty()) candidates.push_back(image_root / "generation.json");
  if (filter != nullptr) {
    if (!filter->manifest.empty()) candidates.push_back(fs::path(filter->manifest).parent_path() / "generation.json");
    if (!filter->image_root.empty()) candidates.push_back(fs::path(filter->image_root) / "generation.json");
  }
  for (const auto& c : candidates) {
    if (auto p = existing_file(c)) return p;
  }
  return std::nullopt;
}

bool has_quality_column(const Dataset& dataset) {
  return std::any_of(dataset.samples.begin(), dataset.samples.end(),
                     [](const Sample& s) { return s.extra_value(kQualityKey) != nullptr; });
}

namespace {

// Which rows the export keeps: by quality (every row when there is no quality column). Counts go to `summary`;
// rows with a missing or unknown quality are problems.
std::vector<std::optional<std::size_t>> select_rows(const Dataset& dataset, const ExportOptions& options,
                                                    ExportSummary& summary, std::vector<bool>& kept,
                                                    std::vector<InputError>& problems) {
  const std::size_t n = dataset.samples.size();
  std::vector<std::optional<std::size_t>> quality(n);
  kept.assign(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = dataset.samples[i];
    if (!summary.has_quality) {
      kept[i] = true;
      continue;
    }
    const std::string* q = s.extra_value(kQualityKey);
    if (q == nullptr) {
      problems.push_back(row_error(dataset, s, kQualityKey, "no 'quality' (other rows have one)"));
      continue;
    }
    quality[i] = quality_index(*q);
    if (!quality[i]) {
      problems.push_back(row_error(
          dataset, s, kQualityKey,
          fmt::format("quality '{}' is not a grade ({}), 'unparsed' or 'error'", *q, grade_list_text(all_grades()))));
      continue;
    }
    const std::size_t qi = *quality[i];
    ++summary.rows_per_quality[qi];
    // Grade's enumerators are in quality_names() order.
    kept[i] = qi < kUnparsed &&
              std::find(options.keep.begin(), options.keep.end(), static_cast<Grade>(qi)) != options.keep.end();
    if (!kept[i]) {
      ++summary.left_out_per_quality[qi];
      if (qi >= kUnparsed) summary.unparsed_or_error.push_back({s.row, s.image_ref, quality_names()[qi]});
    }
  }
  return quality;
}

// The file name each kept row's image gets in images/: its own, which must be usable and unique.
std::vector<std::string> output_names(const Dataset& dataset, const std::vector<bool>& kept,
                                      std::vector<InputError>& problems) {
  const std::size_t n = dataset.samples.size();
  std::vector<std::string> names(n);
  std::unordered_map<std::string, std::size_t> name_rows;
  for (std::size_t i = 0; i < n; ++i) {
    if (!kept[i]) continue;
    const Sample& s = dataset.samples[i];
    if (!s.prompt) {
      problems.push_back(
          row_error(dataset, s, "", "no prompt; every exported image needs the prompt it was made from"));
    }
    const fs::path name = s.image_path.filename();
    names[i] = name.string();
    if (names[i].empty()) {
      problems.push_back(image_error(dataset, s, "the path names no file"));
      continue;
    }
    if (find_invalid_utf8(names[i])) {
      problems.push_back(image_error(dataset, s, "the file name is not valid UTF-8, which metadata.jsonl needs"));
      continue;
    }
    if (!image_extension_ok(name)) {
      problems.push_back(image_error(dataset, s,
                                     "the file name does not end in .png, .jpg or .jpeg, the image files "
                                     "Hugging Face's imagefolder loads"));
    }
    const auto [it, inserted] = name_rows.emplace(names[i], i);
    if (!inserted) {
      const Sample& first = dataset.samples[it->second];
      problems.push_back(image_error(
          dataset, s,
          fmt::format("its file name '{}' is also that of row {} ('{}'); the export keeps one file per name in "
                      "images/, so rename one of them",
                      names[i], first.row, first.image_ref)));
    }
  }
  return names;
}

// Each manifest label's place among CheXpert's 14; a label outside them may only be used by rows left out.
std::vector<std::optional<std::size_t>> chexpert_places(const Dataset& dataset, const ExportOptions& options,
                                                        const std::vector<bool>& kept,
                                                        std::vector<InputError>& problems) {
  const LabelSet chexpert = LabelSet::chexpert14();
  std::vector<std::optional<std::size_t>> to_chexpert(dataset.labels.size());
  if (options.no_labels) return to_chexpert;
  if (dataset.labels.empty()) {
    problems.push_back(InputError(
        Location{dataset.source.string()},
        "the manifest has no labels, so there is no labels_dict to write; give --no-labels to export without one (or "
        "--labels-column if the labels are in another column)"));
  }
  for (std::size_t k = 0; k < dataset.labels.size(); ++k) {
    to_chexpert[k] = chexpert.index(dataset.labels.name(k));
    if (to_chexpert[k]) continue;
    std::size_t n_using = 0, first = 0;
    for (std::size_t i = 0; i < dataset.samples.size(); ++i) {
      if (!kept[i] || dataset.samples[i].labels[k] == LabelValue::missing) continue;
      if (n_using++ == 0) first = i;
    }
    if (n_using == 0) continue;
    problems.push_back(row_error(
        dataset, dataset.samples[first], dataset.labels.name(k),
        fmt::format("label '{}' is not one of CheXpert's 14 ({}), yet this row and {} other exported row(s) give it "
                    "a value; labels_dict holds CheXpert's labels only: rename the label, or give --no-labels",
                    dataset.labels.name(k), chexpert.joined(), n_using - 1)));
  }
  return to_chexpert;
}

// With problems found, nothing is written: the other kept rows' images are still read and decoded, so that one
// run names every problem; all go to `errors` in file order and the first is thrown.
[[noreturn]] void report_problems(const Dataset& dataset, const ExportOptions& options,
                                  const std::vector<std::size_t>& kept_rows, std::vector<InputError> problems,
                                  ErrorReport& errors, const ProgressOptions* progress_options) {
  std::set<std::size_t> bad_rows;
  for (const auto& e : problems) bad_rows.insert(e.where().row.value_or(0));
  std::vector<std::size_t> to_check;
  for (const std::size_t i : kept_rows) {
    if (bad_rows.count(dataset.samples[i].row) == 0) to_check.push_back(i);
  }
  std::vector<std::optional<InputError>> failures(to_check.size());
  std::optional<Progress> progress;
  if (progress_options != nullptr) {
    progress.emplace("export (checking): " + dataset.source.string(), to_check.size(), *progress_options);
  }
  parallel_for(
      to_check.size(), options.threads,
      [&](std::size_t j) {
        std::string bytes;
        failures[j] = read_checked_image(dataset, dataset.samples[to_check[j]], bytes);
      },
      progress ? &*progress : nullptr);
  for (auto& f : failures) {
    if (f) problems.push_back(*f);
  }
  // In file order, as the manifest readers report.
  std::stable_sort(problems.begin(), problems.end(), [](const InputError& a, const InputError& b) {
    return a.where().row.value_or(0) < b.where().row.value_or(0);
  });
  for (const auto& e : problems) errors.add(e);
  throw problems.front();
}

// Every kept image read, decoded, and copied or linked into images/ unless an identical file is there. Counts go
// to `summary`; an unreadable image is added to `errors` and the first one thrown after all were tried.
void place_images(const Dataset& dataset, const ExportOptions& options, const std::vector<std::size_t>& kept_rows,
                  const std::vector<std::string>& names, const fs::path& images_dir, ExportSummary& summary,
                  ErrorReport& errors, const ProgressOptions* progress_options) {
  std::vector<std::optional<InputError>> failures(kept_rows.size());
  std::atomic<std::size_t> n_copied{0}, n_linked{0}, n_already{0}, n_replaced{0};
  std::optional<Progress> progress;
  if (progress_options != nullptr)
    progress.emplace("export: " + dataset.source.string(), kept_rows.size(), *progress_options);
  parallel_for(
      kept_rows.size(), options.threads,
      [&](std::size_t j) {
        const Sample& s = dataset.samples[kept_rows[j]];
        std::string bytes;
        failures[j] = read_checked_image(dataset, s, bytes);
        if (failures[j]) return;
        switch (place_image(s.image_path, bytes, images_dir / names[kept_rows[j]], options.link)) {
          case Placed::copied: ++n_copied; break;
          case Placed::linked: ++n_linked; break;
          case Placed::already_there: ++n_already; break;
          case Placed::replaced_by_copy: ++n_copied, ++n_replaced; break;
          case Placed::replaced_by_link: ++n_linked, ++n_replaced; break;
        }
      },
      progress ? &*progress : nullptr);
  if (progress) progress->finish();
  summary.n_copied = n_copied;
  summary.n_linked = n_linked;
  summary.n_already_there = n_already;
  summary.n_replaced = n_replaced;
  std::optional<InputError> first_failure;
  for (auto& f : failures) {
    if (!f) continue;
    errors.add(*f);
    if (!first_failure) first_failure = *f;
  }
  if (first_failure) throw *first_failure;
}

}  // namespace

ExportSummary export_dataset(const Dataset& dataset, const fs::path& out_dir, const ExportOptions& options,
                             ErrorReport& errors, const ProgressOptions* progress_options) {
  const auto start = std::chrono::steady_clock::now();
  const LabelSet chexpert = LabelSet::chexpert14();

  claim_output_folder(out_dir, "chexgen export");
  ExportSummary summary;
  summary.n_rows = dataset.samples.size();
  summary.has_quality = has_quality_column(dataset);
  summary.rows_per_quality.assign(quality_names().size(), 0);
  summary.exported_per_quality.assign(quality_names().size(), 0);
  summary.left_out_per_quality.assign(quality_names().size(), 0);

  // ---- Checks that need no image: quality, prompt, file names, labels ----
  std::vector<InputError> problems;
  std::vector<bool> kept;
  const auto quality = select_rows(dataset, options, summary, kept, problems);
  const std::vector<std::string> names = output_names(dataset, kept, problems);
  const auto to_chexpert = chexpert_places(dataset, options, kept, problems);

  // The output's images/ must not be where the source images are: the dataset would then hold every image of the
  // source, kept or not.
  const fs::path images_dir = out_dir / "images";
  std::error_code ec;
  if (fs::is_directory(images_dir, ec)) {
    for (const Sample& s : dataset.samples) {
      if (fs::equivalent(s.image_path.parent_path(), images_dir, ec)) {
        throw UsageError(fmt::format(
            "{}: row {}'s image '{}' is in {}, the export's own image folder; give an --out that is not the "
            "folder the images were generated into",
            dataset.source.string(), s.row, s.image_path.string(), images_dir.string()));
      }
    }
  }

  std::vector<std::size_t> kept_rows;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept[i]) kept_rows.push_back(i);
  }
  if (!problems.empty()) report_problems(dataset, options, kept_rows, std::move(problems), errors, progress_options);
  std::set<std::string> new_names;
  for (const std::size_t i : kept_rows) new_names.insert(names[i]);

  // ---- The output folder: ours to change, or refused ----
  const std::set<std::string> earlier = claim_images_folder(out_dir, new_names);
  place_images(dataset, options, kept_rows, names, images_dir, summary, errors, progress_options);

  // An earlier export's images that this one does not list (e.g. it kept fewer grades) would otherwise stay in
  // images/ without a metadata line.
  for (const auto& name : earlier) {
    if (new_names.count(name) > 0) continue;
    if (fs::remove(images_dir / name, ec)) ++summary.n_removed_stale;
  }

  // ---- metadata.jsonl, prompt_INFO.csv ----
  if (!options.no_labels) {
    for (const auto& name : chexpert.names()) summary.labels.push_back(LabelTally{name});
  }
  std::string metadata, prompt_info = "prompt,img_savename\n";
  std::vector<LabelValue> values(chexpert.size());
  for (const std::size_t i : kept_rows) {
    const Sample& s = dataset.samples[i];
    ojson line{{"file_name", "images/" + names[i]}, {"filename", names[i]}, {"prompt", *s.prompt}};
    if (!options.no_labels) {
      std::fill(values.begin(), values.end(), LabelValue::missing);
      for (std::size_t k = 0; k < dataset.labels.size(); ++k) {
        if (to_chexpert[k]) values[*to_chexpert[k]] = s.labels[k];
      }
      for (std::size_t c = 0; c < values.size(); ++c) {
        if (options.label_policy == LabelPolicy::binary) {
          values[c] = values[c] == LabelValue::positive ? LabelValue::positive : LabelValue::negative;
        }
        LabelTally& t = summary.labels[c];
        switch (values[c]) {
          case LabelValue::positive: ++t.positive; break;
          case LabelValue::negative: ++t.negative; break;
          case LabelValue::uncertain: ++t.uncertain; break;
          case LabelValue::missing: ++t.missing; break;
        }
      }
      line["labels_dict"] = label_dict_json(chexpert, values);
    }
    if (summary.has_quality) {
      line["quality"] = quality_names()[*quality[i]];
      ++summary.exported_per_quality[*quality[i]];
    }
    metadata += line.dump() + "\n";
    prompt_info += csv_field(*s.prompt) + "," + csv_field(names[i]) + "\n";
  }
  summary.n_exported = kept_rows.size();
  summary.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  write_file_atomically(out_dir / "metadata.jsonl", metadata);
  write_file_atomically(out_dir / "prompt_INFO.csv", prompt_info);
  write_file_atomically(out_dir / "README.md", dataset_card(dataset, options, summary));
  write_file_atomically(out_dir / "export.json", summary_json(dataset, out_dir, options, summary).dump(2) + "\n");
  fs::remove(out_dir / kPendingFile, ec);
  return summary;
}

}  // namespace chexgen
