// Image classifiers to train on LibTorch (the utility suite's networks, docs/utility.md): ResNet-18, ResNet-50 and
// DenseNet-121 as torch::nn modules whose parameters and buffers carry torchvision's names (timm's resnet50 uses the
// same ones), so a state dict exported from either loads as is. Unlike the rest of the deep stage's public headers
// this one brings LibTorch: the code that trains a network needs its types.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "chexgen/deep/torch_model.h"

namespace chexgen::deep {

enum class Architecture { resnet18, resnet50, densenet121 };

std::string_view architecture_name(Architecture a);      // "resnet18", "resnet50", "densenet121"
Architecture parse_architecture(std::string_view name);  // UsageError listing the three otherwise
std::string architecture_title(Architecture a);          // "ResNet-18", "ResNet-50", "DenseNet-121"

// torchvision's ResNet (v1.5: the stride of a bottleneck on its 3x3 convolution), `classes` outputs (logits).
class ResNetImpl : public torch::nn::Module {
 public:
  ResNetImpl(Architecture architecture, int classes);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> layers_;
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

// torchvision's DenseNet-121 (growth 32, 4 x bottleneck, blocks of 6, 12, 24, 16 layers, compression 0.5).
class DenseNetImpl : public torch::nn::Module {
 public:
  explicit DenseNetImpl(int classes);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(DenseNet);

// One of the three, as a module with a forward from images (n x 3 x h x w, normalised) to n x classes logits.
class Classifier {
 public:
  Classifier(Architecture architecture, int classes);
  torch::Tensor forward(const torch::Tensor& x);
  std::shared_ptr<torch::nn::Module> module() const { return module_; }
  Architecture architecture() const { return architecture_; }

 private:
  Architecture architecture_;
  std::shared_ptr<torch::nn::Module> module_;
  ResNet resnet_{nullptr};
  DenseNet densenet_{nullptr};
};

// The device to train on: `cuda` without a usable GPU is a UsageError; automatic takes the GPU when there is one.
torch::Device training_device(DeviceChoice choice);

// Copies a state dict saved by Python's torch.save(dict(model.state_dict()), path) (tools/export_models.py) into
// `module`'s parameters and buffers, by name. Every parameter and buffer must be in the file with its shape, except
// BatchNorm's num_batches_tracked and, with `skip_prefix` (e.g. "fc." to keep a new 14-way head), the entries under
// it; entries of the file the module lacks are an error too. Errors (InputError naming the file) list the names.
void load_state_dict(torch::nn::Module& module, const std::filesystem::path& file, const std::string& skip_prefix = "");

}  // namespace chexgen::deep
