// JSON Lines manifests in the Hugging Face imagefolder convention: metadata.jsonl, one object per
// line with "file_name" and, optionally, a prompt and a "labels_dict" object of label -> 1/0/-1/null.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/json.h"
#include "chexgen/core/files.h"
#include "chexgen/data/manifest_pvt.h"
#include "chexgen/core/utf8.h"

namespace chexgen::manifest_detail {
namespace {

struct JsonRow {
  std::size_t line = 0;
  nlohmann::json object;
};

std::string as_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The first of `defaults` present in any row, or "".
std::string first_present_key(const std::vector<JsonRow>& rows, std::initializer_list<const char*> defaults) {
  for (const char* key : defaults) {
    for (const auto& r : rows) {
      if (r.object.contains(key)) return key;
    }
  }
  return {};
}

LabelValue json_label_value(const nlohmann::json& v, const std::string& label, const Location& where) {
  if (v.is_null()) return LabelValue::missing;
  if (v.is_number()) {
    if (const auto value = label_value_from_number(v.get<double>())) return *value;
  }
  throw InputError(where, fmt::format("label '{}' has value {}; expected 1, 0, -1 or null", label, v.dump()));
}

}  // namespace

void read_jsonl_manifest(const std::filesystem::path& path, const ManifestOptions& options, SampleCollector& collector,
                         Dataset& dataset) {
  const std::string source = path.string();
  const std::string bytes = read_file_bytes(path);
  const std::string_view text = strip_utf8_bom(bytes);

  // Pass 1: every non-blank line must be a JSON object.
  std::vector<JsonRow> rows;
  for (const JsonLine& l : json_lines(text)) {
    if (l.blank()) continue;
    const std::size_t line = l.number;
    const std::string_view content = l.text;
    try {
      if (const auto bad = find_invalid_utf8(content)) {
        throw InputError({source, line}, fmt::format("invalid UTF-8 at byte {} of the line", *bad + 1));
      }
      nlohmann::json object = parse_json(content, Location{source, line});
      if (!object.is_object()) throw InputError({source, line}, "a line must hold one JSON object");
      rows.push_back(JsonRow{line, std::move(object)});
    } catch (const InputError& e) {
      collector.reject(e);
    }
  }

  const ManifestColumns& c = options.columns;
  const std::string image_key = c.image.empty() ? "file_name" : c.image;
  const std::string prompt_key =
      c.prompt.empty() ? first_present_key(rows, {"prompt", "annotated_prompt", "text"}) : c.prompt;
  const std::string labels_key = c.labels.empty() ? first_present_key(rows, {"labels_dict"}) : c.labels;
  const std::string patient_key = c.patient.empty() ? first_present_key(rows, {"patient_id"}) : c.patient;
  const std::string& id_key = c.id.empty() ? image_key : c.id;
  dataset.image_column = image_key;
  // Keys named explicitly (and a default key used by some row) are required in every row.
  const bool prompt_required = !c.prompt.empty();
  const bool patient_required = !c.patient.empty();

  if (!labels_key.empty()) {
    dataset.labels = dict_label_set(options);
  } else if (!options.label_names.empty()) {
    throw UsageError(fmt::format("{}: labels were given but no line has a 'labels_dict' object", source));
  } else if (!options.label_column_range.empty()) {
    throw UsageError("--label-columns applies to onehot manifests only");
  }

  dataset.samples.reserve(rows.size());
  for (const JsonRow& row : rows) {
    try {
      const auto& obj = row.object;
      const auto required_string = [&](const std::string& key, const char* what) -> std::string {
        const auto it = obj.find(key);
        if (it == obj.end()) throw InputError({source, row.line, key}, fmt::format("no '{}' key ({})", key, what));
        if (!it->is_string()) throw InputError({source, row.line, key}, fmt::format("'{}' must be a string", key));
        return it->get<std::string>();
      };
      Sample s;
      s.row = row.line;
      s.image_ref = required_string(image_key, "the image path");
      s.id = c.id.empty()
                 ? s.image_ref
                 : as_text(obj.contains(id_key) ? obj.at(id_key)
                                                : throw InputError({source, row.line, id_key},
                                                                   fmt::format("no '{}' key (the sample id)", id_key)));
      if (!prompt_key.empty()) {
        const auto it = obj.find(prompt_key);
        if (it == obj.end() && prompt_required)
          throw InputError({source, row.line, prompt_key}, fmt::format("no '{}' key (the prompt)", prompt_key));
        if (it != obj.end() && !it->is_null()) {
          if (!it->is_string()) throw InputError({source, row.line, prompt_key}, "the prompt must be a string or null");
          if (!it->get_ref<const std::string&>().empty()) s.prompt = it->get<std::string>();
        }
      }
      if (!patient_key.empty()) {
        const auto it = obj.find(patient_key);
        if (it == obj.end() && patient_required)
          throw InputError({source, row.line, patient_key}, fmt::format("no '{}' key (the patient id)", patient_key));
        if (it != obj.end() && !it->is_null()) {
          if (!it->is_string() && !it->is_number_integer())
            throw InputError({source, row.line, patient_key}, "the patient id must be a string or an integer");
          const std::string p = as_text(*it);
          if (!p.empty()) s.patient_id = p;
        }
      }
      s.labels.assign(dataset.labels.size(), LabelValue::missing);
      if (!labels_key.empty()) {
        const Location where{source, row.line, labels_key};
        const auto it = obj.find(labels_key);
        if (it == obj.end()) throw InputError(where, fmt::format("no '{}' object (other lines have one)", labels_key));
        if (!it->is_object())
          throw InputError(where, fmt::format("'{}' must be an object of label -> 1/0/-1/null", labels_key));
        std::vector<std::pair<std::string, LabelValue>> dict;
        for (const auto& [name, value] : it->items()) dict.emplace_back(name, json_label_value(value, name, where));
        apply_label_dict(dict, dataset.labels, where, s.labels);
      }
      for (const auto& [key, value] : obj.items()) {
        if (key == image_key || key == id_key || key == prompt_key || key == labels_key || key == patient_key) continue;
        s.extra.emplace_back(key, as_text(value));
      }
      collector.add(std::move(s), image_key, id_key);
    } catch (const InputError& e) {
      collector.reject(e);
    }
  }
}

}  // namespace chexgen::manifest_detail
