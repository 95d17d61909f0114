// Running a TorchScript model on LibTorch (CPU, or CUDA when LibTorch has it), and the feature extractor that
// puts it through the dataset driver. LibTorch's headers stay inside torch_model.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chexgen/deep/model_spec.h"
#include "chexgen/features/extract.h"
#include "chexgen/features/extractor.h"

namespace chexgen::deep {

enum class DeviceChoice { automatic, cpu, cuda };

// "auto" | "cpu" | "cuda"; anything else is a UsageError.
DeviceChoice parse_device(const std::string& text);
// Whether this LibTorch was built with CUDA and sees a GPU.
bool cuda_available();

struct RunOptions {
  DeviceChoice device = DeviceChoice::automatic;
  int threads = 0;  // LibTorch's intra-op threads on the CPU (0 = all cores)
  // torch.jit.freeze + optimize_for_inference (folds batch norm into convolutions, oneDNN layouts): faster on the
  // CPU, results within float rounding of the plain module (docs/models.md).
  bool optimize = true;
};

class TorchModel {
 public:
  // Loads spec.model_path. A file that is not TorchScript is an InputError naming it; `cuda` without a usable GPU
  // is a UsageError.
  TorchModel(ModelSpec spec, const RunOptions& options);
  ~TorchModel();
  TorchModel(const TorchModel&) = delete;
  TorchModel& operator=(const TorchModel&) = delete;

  const ModelSpec& spec() const { return spec_; }
  std::string device_name() const;

  // One forward pass over `inputs` (all of one shape); writes inputs.size() rows of spec().total_dim() values.
  // A model whose outputs do not match the sidecar (count, shape) is an InputError naming the model.
  void run(const std::vector<const PlanarImageF*>& inputs, std::vector<double>& rows);

 private:
  struct Impl;
  ModelSpec spec_;
  std::unique_ptr<Impl> impl_;
};

// The model as an extractor for features::extract_dataset_features: decodes with the preprocessing's colour,
// preprocesses on the worker threads, runs batches of spec().batch_size on one thread.
features::ImageFeatureExtractor as_image_extractor(std::shared_ptr<TorchModel> model);

// The model as an evaluation uses it: its rows, its preset, its outputs as named column ranges, and a description
// (model file, device) for the results.
features::Extractor as_extractor(std::shared_ptr<TorchModel> model);

// A TorchScript model file with its sidecar (load_model_spec), loaded and made an extractor.
features::Extractor load_image_extractor(const std::filesystem::path& model, const RunOptions& options);

}  // namespace chexgen::deep
