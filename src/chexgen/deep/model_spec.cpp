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
    if (m.dim < 1 || m.index < 0) throw InputError(where, fmt::format("outputs: '{}' needs dim >= 1 and index >= 0",
                                                                      m.name));
    if (!names.insert(m.name).second) throw InputError(where, fmt::format("outputs: '{}' appears twice", m.name));
    out.push_back(m);
  }
  return out;
}

}  // namespace

std::vector<ModelOutput> preset_outputs(const std::string& preset) {
  if (preset == "inception-fid") return {{"pool", 0, 2048}, {"logits", 1, 1008}};
  if (preset == "raddino") return {{"cls", 0, 768}};
  if (preset == "biovil-image") return {{"projected", 0, 128}};
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

ModelSpec load_model_spec(const std::filesystem::path& model, const std::optional<std::string>& preset) {
  ModelSpec spec;
  spec.model_path = model;
  const std::string bytes = read_file_bytes(model);  // InputError naming the file when missing
  spec.weights_sha256 =
      sha256_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  spec.name = model.stem().string();

  std::filesystem::path sidecar = model;
  sidecar.replace_extension(".json");
  const Location where{sidecar.string()};
  if (!std::filesystem::exists(sidecar)) {
    if (!preset)
      throw UsageError(fmt::format("model '{}' has no sidecar '{}': write one (docs/models.md) or give --preset",
                                   model.string(), sidecar.string()));
    spec.preprocessing = preset_preprocessing(*preset);
    spec.outputs = preset_outputs(*preset);
    return spec;
  }

  json j;
  try {
    j = json::parse(read_file_bytes(sidecar));
  } catch (const json::parse_error& e) {
    throw InputError(where, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) throw InputError(where, "the sidecar must be a JSON object");
  for (const auto& [key, value] : j.items())
    if (key != "format" && key != "name" && key != "preprocess" && key != "outputs" && key != "batch_size" &&
        key != "kind" && key != "source")
      throw InputError(where, fmt::format("unknown key '{}' (known: format, name, preprocess, outputs, batch_size, "
                                          "kind, source)",
                                          key));
  if (j.value("format", "") != "chexgen-model/1")
    throw InputError(where, "\"format\" must be \"chexgen-model/1\"");
  if (j.value("kind", "image") != "image")
    throw InputError(where, fmt::format("this is a '{}' model; chexgen extract runs image models",
                                        j.value("kind", "")));
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty())
      throw InputError(where, "\"name\" must be a non-empty string");
    spec.name = j["name"].get<std::string>();
  }
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
    spec.outputs = preset_outputs(name);
  } else {
    if (preset && *preset != "generic")
      throw UsageError(fmt::format("--preset {} disagrees with the sidecar '{}', which gives its own steps", *preset,
                                   sidecar.string()));
    spec.preprocessing = parse_preprocessing(pre, where);
  }
  if (j.contains("outputs")) spec.outputs = parse_outputs(j["outputs"], where);
  if (spec.outputs.empty()) throw InputError(where, "\"outputs\" is missing (a generic model must list them)");
  if (j.contains("batch_size")) {
    if (!j["batch_size"].is_number_integer() || j["batch_size"].get<int>() < 1 || j["batch_size"].get<int>() > 4096)
      throw InputError(where, "\"batch_size\" must be an integer from 1 to 4096");
    spec.batch_size = j["batch_size"].get<int>();
  }
  return spec;
}

}  // namespace chexgen::deep
