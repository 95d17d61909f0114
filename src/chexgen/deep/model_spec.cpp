#include "chexgen/core/json.h"
#include "chexgen/deep/model_spec.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"

namespace chexgen::deep {
namespace {

using json = nlohmann::json;

std::vector<ModelOutput> parse_outputs(const json& j, const Location& where) {
  const auto malformed = [&where] {
    return InputError(where, "outputs must be a non-empty list of {\"name\", \"index\", \"dim\"}");
  };
  if (!j.is_array() || j.empty()) throw malformed();
  std::vector<ModelOutput> out;
  std::set<std::string> names;
  for (const auto& o : j) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string() || !o.contains("dim") ||
        !o["dim"].is_number_integer())
      throw malformed();
    for (const auto& [key, value] : o.items())
      if (key != "name" && key != "index" && key != "dim")
        throw InputError(where, fmt::format("outputs: unknown key '{}'", key));
    ModelOutput m;
    m.name = o["name"].get<std::string>();
    m.dim = o["dim"].get<int>();
    m.index = o.value("index", 0);
    if (m.name.empty() || m.name.find_first_of(",\"\n") != std::string::npos)
      throw InputError(where, fmt::format("outputs: '{}' is not a usable name", m.name));
    if (m.dim < 1 || m.index < 0)
      throw InputError(where, fmt::format("outputs: '{}' needs dim >= 1 and index >= 0", m.name));
    if (!names.insert(m.name).second) throw InputError(where, fmt::format("outputs: '{}' appears twice", m.name));
    out.push_back(m);
  }
  return out;
}

std::string file_sha256(const std::filesystem::path& file) {
  const std::string bytes = read_file_bytes(file);  // InputError naming the file when missing
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

json read_sidecar(const std::filesystem::path& sidecar, const Location& where) {
  const json j = parse_json(read_file_bytes(sidecar), where);
  if (!j.is_object()) throw InputError(where, "the sidecar must be a JSON object");
  return j;
}

std::string kind_of(const json& j, const Location& where) {
  if (!j.contains("kind")) return "image";
  if (!j["kind"].is_string()) throw InputError(where, "\"kind\" must be \"image\" or \"text\"");
  return j["kind"].get<std::string>();
}

TokenizerSettings parse_tokenizer(const json& t, const std::filesystem::path& sidecar, const Location& where) {
  if (!t.is_object())
    throw InputError(where,
                     "\"tokenizer\" must be an object {\"vocab\", \"lowercase\", \"max_length\", "
                     "\"strip_trailing\", \"truncate\"}");
  for (const auto& [key, value] : t.items())
    if (key != "vocab" && key != "lowercase" && key != "max_length" && key != "strip_trailing" && key != "truncate")
      throw InputError(where, fmt::format("tokenizer: unknown key '{}' (known: vocab, lowercase, max_length, "
                                          "strip_trailing, truncate)",
                                          key));
  TokenizerSettings s;
  if (!t.contains("vocab") || !t["vocab"].is_string() || t["vocab"].get<std::string>().empty())
    throw InputError(where, "tokenizer: \"vocab\" must name the vocabulary file (vocab.txt, relative to the sidecar)");
  s.vocab = sidecar.parent_path() / t["vocab"].get<std::string>();
  if (t.contains("lowercase")) {
    if (!t["lowercase"].is_boolean()) throw InputError(where, "tokenizer: \"lowercase\" must be true or false");
    s.lowercase = t["lowercase"].get<bool>();
  }
  if (t.contains("max_length")) {
    if (!t["max_length"].is_number_integer() || t["max_length"].get<std::int64_t>() < 2 ||
        t["max_length"].get<std::int64_t>() > 1'000'000)
      throw InputError(where, "tokenizer: \"max_length\" must be an integer from 2 to 1000000");
    s.max_length = t["max_length"].get<int>();
  }
  if (t.contains("strip_trailing")) {
    if (!t["strip_trailing"].is_string()) throw InputError(where, "tokenizer: \"strip_trailing\" must be a string");
    s.strip_trailing = t["strip_trailing"].get<std::string>();
  }
  if (t.contains("truncate")) {
    if (!t["truncate"].is_boolean()) throw InputError(where, "tokenizer: \"truncate\" must be true or false");
    s.truncate = t["truncate"].get<bool>();
  }
  return s;
}

int parse_batch_size(const json& j, const Location& where, int fallback) {
  if (!j.contains("batch_size")) return fallback;
  if (!j["batch_size"].is_number_integer() || j["batch_size"].get<int>() < 1 || j["batch_size"].get<int>() > 4096)
    throw InputError(where, "\"batch_size\" must be an integer from 1 to 4096");
  return j["batch_size"].get<int>();
}

}  // namespace

std::vector<ModelOutput> preset_outputs(features::ExtractorPreset preset) {
  switch (preset) {
    case features::ExtractorPreset::inception_fid: return {{"pool", 0, 2048}, {"logits", 1, 1008}};
    case features::ExtractorPreset::raddino: return {{"cls", 0, 768}};
    case features::ExtractorPreset::biovil_image: return {{"projected", 0, 128}};
    case features::ExtractorPreset::radiomics:
    case features::ExtractorPreset::generic: break;
  }
  return {};
}

std::string ModelSpec::extractor_id() const {
  json outs = json::array();
  for (const auto& o : outputs) outs.push_back({{"name", o.name}, {"index", o.index}, {"dim", o.dim}});
  const json canonical = {{"preprocess", to_json(preprocessing)}, {"outputs", outs}};
  return fmt::format("torchscript/{}/weights-sha256:{}/{}", name, weights_sha256, canonical.dump());
}

std::vector<std::string> ModelSpec::columns() const {
  std::vector<std::string> c;
  for (const auto& o : outputs)
    for (int i = 0; i < o.dim; ++i) c.push_back(fmt::format("{}_{}", o.name, i));
  return c;
}

int ModelSpec::total_dim() const {
  int d = 0;
  for (const auto& o : outputs) d += o.dim;
  return d;
}

int ModelSpec::column_offset(const std::string& output) const {
  int offset = 0;
  std::string known;
  for (const auto& o : outputs) {
    if (o.name == output) return offset;
    offset += o.dim;
    known += (known.empty() ? "" : ", ") + o.name;
  }
  throw UsageError(fmt::format("model '{}' has no output '{}' (it has: {})", name, output, known));
}

namespace {

// What every sidecar shares: it sits beside the model as M.json, says its format, and may rename the model.
std::filesystem::path sidecar_of(const std::filesystem::path& model) {
  std::filesystem::path sidecar = model;
  sidecar.replace_extension(".json");
  return sidecar;
}

void check_format(const json& j, const Location& where) {
  if (!j.contains("format") || j["format"] != "chexgen-model/1")
    throw InputError(where, "\"format\" must be \"chexgen-model/1\"");
}

std::string name_in(const json& j, const Location& where, std::string fallback) {
  if (!j.contains("name")) return fallback;
  if (!j["name"].is_string() || j["name"].get<std::string>().empty())
    throw InputError(where, "\"name\" must be a non-empty string");
  return j["name"].get<std::string>();
}

}  // namespace

ModelSpec load_model_spec(const std::filesystem::path& model, const std::optional<std::string>& preset) {
  ModelSpec spec;
  spec.model_path = model;
  spec.weights_sha256 = file_sha256(model);
  spec.name = model.stem().string();
  const std::filesystem::path sidecar = sidecar_of(model);
  const Location where{sidecar.string()};
  if (!std::filesystem::exists(sidecar)) {
    if (!preset)
      throw UsageError(fmt::format("model '{}' has no sidecar '{}': write one (docs/models.md) or give --preset",
                                   model.string(), sidecar.string()));
    spec.preprocessing = preset_preprocessing(*preset);
    spec.outputs = preset_outputs(spec.preprocessing.preset);
    return spec;
  }

  const json j = read_sidecar(sidecar, where);
  const std::string kind = kind_of(j, where);
  for (const auto& [key, value] : j.items())
    if (key != "format" && key != "name" && key != "preprocess" && key != "outputs" && key != "batch_size" &&
        key != "kind" && key != "source" && !(kind == "text" && key == "tokenizer"))
      throw InputError(where, fmt::format("unknown key '{}' (known: format, name, preprocess, outputs, batch_size, "
                                          "kind, source)",
                                          key));
  check_format(j, where);
  if (kind != "image")
    throw InputError(where, fmt::format("this is a '{}' model; chexgen extract runs image models", kind));
  spec.name = name_in(j, where, spec.name);
  if (!j.contains("preprocess")) throw InputError(where, "\"preprocess\" is missing (a preset name or an object)");
  const json& pre = j["preprocess"];
  if (pre.is_string()) {
    const std::string name = pre.get<std::string>();
    if (preset && *preset != name)
      throw UsageError(fmt::format("--preset {} disagrees with the sidecar '{}', which says \"{}\"", *preset,
                                   sidecar.string(), name));
    try {
      spec.preprocessing = preset_preprocessing(name);
    } catch (const UsageError& e) {
      throw InputError(where, e.what());
    }
    spec.outputs = preset_outputs(spec.preprocessing.preset);
  } else {
    if (preset && *preset != "generic")
      throw UsageError(fmt::format("--preset {} disagrees with the sidecar '{}', which gives its own steps", *preset,
                                   sidecar.string()));
    spec.preprocessing = parse_preprocessing(pre, where);
  }
  if (j.contains("outputs")) spec.outputs = parse_outputs(j["outputs"], where);
  if (spec.outputs.empty()) throw InputError(where, "\"outputs\" is missing (a generic model must list them)");
  spec.batch_size = parse_batch_size(j, where, spec.batch_size);
  return spec;
}

std::string TextModelSpec::extractor_id(const std::string& vocab_sha256) const {
  json canonical = {
      {"tokenizer",
       {{"vocab_sha256", vocab_sha256},
        {"lowercase", tokenizer.lowercase},
        {"max_length", tokenizer.max_length},
        {"strip_trailing", tokenizer.strip_trailing}}},
      {"outputs", json::array({{{"name", output.name}, {"index", output.index}, {"dim", output.dim}}})}};
  if (tokenizer.truncate) canonical["tokenizer"]["truncate"] = true;  // absent otherwise: earlier ids stay valid
  return fmt::format("torchscript-text/{}/weights-sha256:{}/{}", name, weights_sha256, canonical.dump());
}

TextModelSpec load_text_model_spec(const std::filesystem::path& model) {
  TextModelSpec spec;
  spec.model_path = model;
  spec.weights_sha256 = file_sha256(model);
  spec.name = model.stem().string();
  const std::filesystem::path sidecar = sidecar_of(model);
  const Location where{sidecar.string()};
  if (!std::filesystem::exists(sidecar))
    throw InputError(where,
                     "not found: a text model needs its sidecar, with \"kind\": \"text\" and a "
                     "\"tokenizer\" (docs/models.md, \"Text models\")");
  const json j = read_sidecar(sidecar, where);
  check_format(j, where);
  if (const std::string kind = kind_of(j, where); kind != "text")
    throw InputError(where,
                     fmt::format("this sidecar is for a '{}' model; a text encoder's says \"kind\": \"text\"", kind));
  for (const auto& [key, value] : j.items())
    if (key != "format" && key != "name" && key != "kind" && key != "tokenizer" && key != "outputs" &&
        key != "batch_size" && key != "source")
      throw InputError(where, fmt::format("unknown key '{}' (known for text models: format, name, kind, tokenizer, "
                                          "outputs, batch_size, source)",
                                          key));
  spec.name = name_in(j, where, spec.name);
  if (!j.contains("tokenizer")) throw InputError(where, "\"tokenizer\" is missing (a text model needs its vocabulary)");
  spec.tokenizer = parse_tokenizer(j["tokenizer"], sidecar, where);
  if (!j.contains("outputs")) throw InputError(where, "\"outputs\" is missing (the text embedding's index and dim)");
  const std::vector<ModelOutput> outputs = parse_outputs(j["outputs"], where);
  if (outputs.size() != 1)
    throw InputError(
        where, fmt::format("a text model has one output, the text embedding; the sidecar lists {}", outputs.size()));
  spec.output = outputs.front();
  spec.batch_size = parse_batch_size(j, where, spec.batch_size);
  return spec;
}

}  // namespace chexgen::deep
