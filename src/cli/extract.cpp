// chexgen extract: fills the feature store with a model's (or radiomics') features of every image in a manifest,
// and optionally exports them as .npy matrices with an index (docs/models.md, docs/feature-store.md).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/json.h"
#include "chexgen/core/version.h"
#if CHEXGEN_NEURAL
#include "chexgen/deep/torch_model.h"
#endif
#include "chexgen/features/npy.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"
#include "cli/neural_stage.h"

namespace chexgen::cli {
namespace {

struct ExtractArgs {
  std::string manifest;
  ManifestArgs manifest_args;
  std::string model;
  std::string preset;
  std::string device = "auto";
  int batch_size = 0;
  bool no_optimize = false;
  ExtractorArgs radiomics;
  std::string out;
};

// A slice of columns [offset, offset + dim) of the extracted rows, written as <out>/<name>.npy.
struct OutputBlock {
  std::string name;
  std::size_t offset = 0, dim = 0;
  bool as_float32 = true;
};

// The export is published as a whole: extraction.json, written last, names every file of this run with its SHA-256.
// It is removed first, so that a run killed half-way leaves no description that looks complete, and the files an
// earlier run listed in it (another extractor's matrices) are removed with it.
void export_features(const std::filesystem::path& dir, const ExtractedSet& set, const std::vector<OutputBlock>& blocks,
                     nlohmann::ordered_json info, const std::string& names_source) {
  const std::filesystem::path description = dir / "extraction.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(description, ec)) {
    nlohmann::json earlier;
    try {
      earlier = parse_json(read_file_bytes(description, ReadAs::own_output), description.string());
    } catch (const InputError&) {
      earlier = nlohmann::json::object();  // unreadable: nothing of it is removed but the file itself
    }
    std::filesystem::remove(description, ec);
    if (ec) throw OutputError(fmt::format("{}: cannot remove: {}", description.string(), ec.message()));
    if (earlier.is_object() && earlier.contains("files") && earlier["files"].is_object()) {
      for (const auto& [name, hash] : earlier["files"].items()) {
        std::filesystem::remove(file_in_folder(dir, name, description.string()), ec);
      }
    }
  }
  std::vector<std::string> written;
  const auto& values = set.features.values;
  for (const OutputBlock& b : blocks) {
    const std::filesystem::path path = file_in_folder(dir, b.name + ".npy", names_source);
    written.push_back(path.filename().string());
    if (b.as_float32) {
      MatrixF m(values.rows(), b.dim);
      for (std::size_t r = 0; r < values.rows(); ++r)
        for (std::size_t c = 0; c < b.dim; ++c) m(r, c) = static_cast<float>(values(r, b.offset + c));
      features::write_npy(path, m.view());
    } else {
      MatrixD m(values.rows(), b.dim);
      for (std::size_t r = 0; r < values.rows(); ++r)
        for (std::size_t c = 0; c < b.dim; ++c) m(r, c) = values(r, b.offset + c);
      features::write_npy(path, m.view());
    }
  }
  std::vector<std::string> index = {"row,id,image"};
  for (std::size_t r = 0; r < set.features.samples.size(); ++r) {
    const Sample& s = set.dataset.samples[set.features.samples[r]];
    index.push_back(fmt::format("{},{},{}", r, csv_field(s.id), csv_field(s.image_ref)));
  }
  write_lines(dir / "index.csv", index);
  written.push_back("index.csv");
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  for (const std::string& name : written) {
    const std::string bytes = read_file_bytes(dir / name, ReadAs::own_output);
    files[name] = sha256_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  }
  info["files"] = files;
  write_file_atomically(description, info.dump(2) + "\n");
}

int run_extract(const ExtractArgs& a, const GlobalOptions& global) {
  const bool radiomics_only = a.model.empty();
  if (radiomics_only && a.preset != "radiomics")
    throw UsageError("give --model M.pt (a TorchScript model with its sidecar), or --preset radiomics");
  if (!radiomics_only && a.preset == "radiomics")
    throw UsageError("--preset radiomics needs no --model: it is computed by chexgen itself");
#if !CHEXGEN_NEURAL
  if (!radiomics_only) needs_neural_stage("extract --model");
#endif
  if (!a.out.empty()) claim_output_folder(a.out, "chexgen extract");

  features::ImageFeatureExtractor extractor;
  std::vector<OutputBlock> blocks;
  nlohmann::ordered_json info;
  info["chexgen_version"] = version_string();
  info["manifest"] = a.manifest;
  std::string what;
  if (radiomics_only) {
    const auto r = std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.radiomics));
    extractor = radiomics::as_image_extractor(r);
    blocks.push_back({"radiomics", 0, extractor.columns.size(), false});
    info["extractor"] = {{"kind", "radiomics"}, {"configuration", r->config().name}};
    what = "radiomics";
  } else {
#if CHEXGEN_NEURAL
    deep::ModelSpec spec =
        deep::load_model_spec(a.model, a.preset.empty() ? std::nullopt : std::optional<std::string>(a.preset));
    if (a.batch_size > 0) spec.batch_size = a.batch_size;
    const auto model = std::make_shared<deep::TorchModel>(
        spec, deep::RunOptions{deep::parse_device(a.device), global.threads, !a.no_optimize});
    extractor = deep::as_image_extractor(model);
    std::size_t offset = 0;
    for (const auto& o : spec.outputs) {
      blocks.push_back({o.name, offset, static_cast<std::size_t>(o.dim), true});
      offset += o.dim;
    }
    info["extractor"] = {{"kind", "torchscript"},
                         {"model", a.model},
                         {"name", spec.name},
                         {"preset", features::preset_info(spec.preprocessing.preset).name},
                         {"weights_sha256", spec.weights_sha256},
                         {"device", model->device_name()},
                         {"batch_size", spec.batch_size},
                         {"optimized", !a.no_optimize}};
    what = spec.name;
    if (!global.quiet)
      fmt::print(stderr, "{}: {} on {}, batches of {}, {} preprocessing\n", what, a.model, model->device_name(),
                 spec.batch_size, features::preset_info(spec.preprocessing.preset).name);
#endif
  }
  const std::filesystem::path store_dir = store_root(a.radiomics.store);
  features::FeatureStore store(store_dir, extractor.id, extractor.columns);
  const ExtractedSet set =
      extract_set(a.manifest, a.manifest_args.options(), extractor, store, global, what, a.manifest);
  const auto& f = set.features;
  info["store"] = store.directory().string();
  info["images"] = f.samples.size();
  info["computed"] = f.computed;
  info["from_store"] = f.reused;
  info["seconds"] = f.seconds;
  info["time_summed_over_threads"] = {{"reading", f.time.reading},
                                      {"preparing", f.time.preparing},
                                      {"computing", f.time.computing},
                                      {"waiting_for_inputs", f.time.waiting}};
  info["images_per_second"] = f.seconds > 0 ? f.samples.size() / f.seconds : 0.0;
  if (!a.out.empty()) export_features(a.out, set, blocks, info, radiomics_only ? "radiomics" : a.model);
  fmt::print("{}: {} images x {} features in {} ({} computed, {} from the store, {:.1f} images/s){}\n", a.manifest,
             f.values.rows(), f.values.cols(), store.directory().string(), f.computed, f.reused,
             info["images_per_second"].get<double>(), a.out.empty() ? "" : fmt::format("; exported to {}", a.out));
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract",
      "Compute features of every image in a manifest into the feature store (TorchScript model or radiomics)");
  cmd->add_option("manifest", args->manifest, "Manifest: CSV, metadata.jsonl, or a folder of images")->required();
  cmd->add_option("--model", args->model, "TorchScript model M.pt; its sidecar M.json says how to preprocess");
  cmd->add_option("--preset", args->preset,
                  "Preprocessing preset for a model without sidecar (inception-fid | raddino | biovil-image), or "
                  "'radiomics' for radiomic features without a model");
  cmd->add_option("--device", args->device, "auto | cpu | cuda (auto: CUDA when LibTorch has a GPU)")
      ->default_val("auto");
  cmd->add_option("--batch-size", args->batch_size, "Images per forward pass (default: the sidecar's, else 32)")
      ->check(CLI::Range(1, 4096));
  cmd->add_flag("--no-optimize", args->no_optimize,
                "Run the module as loaded, without freezing and optimize_for_inference (bit-for-bit the plain module)");
  cmd->add_option("--out", args->out,
                  "Also export to DIR: one OUTPUT.npy per model output (radiomics.npy for radiomics), index.csv "
                  "(row, sample id, image) and extraction.json");
  add_store_option(cmd, args->radiomics.store);
  add_radiomics_options(cmd->add_option_group("Radiomics (with --preset radiomics)"), args->radiomics);
  add_manifest_options(cmd, args->manifest_args);
  add_skip_bad_flag(cmd, args->manifest_args.skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_extract(*args, global); });
}

}  // namespace chexgen::cli
