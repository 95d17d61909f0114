#include "chexgen/core/files.h"
#include "chexgen/deep/classifier.h"

#include <array>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen::deep {
namespace {

torch::nn::Conv2d conv(int in, int out, int kernel, int stride, int padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// torchvision's BasicBlock (expansion 1) and Bottleneck (expansion 4).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(bool bottleneck, int in, int planes, int stride) : bottleneck_(bottleneck) {
    const int out = bottleneck ? planes * 4 : planes;
    if (bottleneck) {
      conv1 = register_module("conv1", conv(in, planes, 1, 1, 0));
      bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
      conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
      bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
      conv3 = register_module("conv3", conv(planes, out, 1, 1, 0));
      bn3 = register_module("bn3", torch::nn::BatchNorm2d(out));
    } else {
      conv1 = register_module("conv1", conv(in, planes, 3, stride, 1));
      bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
      conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
      bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    }
    if (stride != 1 || in != out)
      downsample = register_module("downsample",
                                   torch::nn::Sequential(conv(in, out, 1, stride, 0), torch::nn::BatchNorm2d(out)));
  }

  // In place where torchvision is (ReLU(inplace=True), out += identity): fewer tensors to allocate and fill.
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor y = bn1(conv1(x)).relu_();
    y = bn2(conv2(y));
    if (bottleneck_) y = bn3(conv3(y.relu_()));
    y += downsample ? downsample->forward(x) : x;
    return y.relu_();
  }

 private:
  bool bottleneck_;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Block);

// torchvision's _DenseLayer: BN, ReLU, 1x1 to 4 x growth, BN, ReLU, 3x3 to growth; its input and output concatenated.
class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int in, int growth) {
    norm1 = register_module("norm1", torch::nn::BatchNorm2d(in));
    conv1 = register_module("conv1", conv(in, 4 * growth, 1, 1, 0));
    norm2 = register_module("norm2", torch::nn::BatchNorm2d(4 * growth));
    conv2 = register_module("conv2", conv(4 * growth, growth, 3, 1, 1));
  }
  torch::Tensor forward(torch::Tensor x) {
    const torch::Tensor y = conv2(norm2(conv1(norm1(x).relu_())).relu_());
    return torch::cat({x, y}, 1);
  }

 private:
  torch::nn::BatchNorm2d norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(DenseLayer);

class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int layers, int in, int growth) {
    for (int i = 0; i < layers; ++i)
      layers_.push_back(register_module(fmt::format("denselayer{}", i + 1), DenseLayer(in + i * growth, growth)));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& layer : layers_) x = layer(x);
    return x;
  }

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

class TransitionImpl : public torch::nn::Module {
 public:
  TransitionImpl(int in, int out) {
    norm = register_module("norm", torch::nn::BatchNorm2d(in));
    conv_ = register_module("conv", conv(in, out, 1, 1, 0));
  }
  torch::Tensor forward(torch::Tensor x) { return torch::avg_pool2d(conv_(norm(x).relu_()), 2, 2); }

 private:
  torch::nn::BatchNorm2d norm{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Transition);

// torchvision's initialisation: Kaiming normal (fan out, ReLU) for convolutions, BatchNorm at 1 and 0; a Linear
// keeps LibTorch's default, as torchvision keeps PyTorch's (DenseNet sets its bias to 0).
void init_weights(torch::nn::Module& m, bool zero_linear_bias) {
  torch::NoGradGuard guard;
  for (auto& sub : m.modules(/*include_self=*/false)) {
    if (auto* c = sub->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = sub->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(b->weight);
      torch::nn::init::zeros_(b->bias);
    } else if (auto* l = sub->as<torch::nn::Linear>()) {
      if (zero_linear_bias) torch::nn::init::zeros_(l->bias);
    }
  }
}

}  // namespace

std::string_view architecture_name(Architecture a) {
  switch (a) {
    case Architecture::resnet18: return "resnet18";
    case Architecture::resnet50: return "resnet50";
    case Architecture::densenet121: return "densenet121";
  }
  return "";
}

Architecture parse_architecture(std::string_view name) {
  for (Architecture a : {Architecture::resnet18, Architecture::resnet50, Architecture::densenet121})
    if (architecture_name(a) == name) return a;
  throw UsageError(fmt::format("--arch must be resnet18, resnet50 or densenet121, not '{}'", name));
}

std::string architecture_title(Architecture a) {
  switch (a) {
    case Architecture::resnet18: return "ResNet-18";
    case Architecture::resnet50: return "ResNet-50";
    case Architecture::densenet121: return "DenseNet-121";
  }
  return "";
}

ResNetImpl::ResNetImpl(Architecture architecture, int classes) {
  const bool bottleneck = architecture == Architecture::resnet50;
  const std::array<int, 4> blocks = bottleneck ? std::array<int, 4>{3, 4, 6, 3} : std::array<int, 4>{2, 2, 2, 2};
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  int in = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int planes = 64 << stage;
    torch::nn::Sequential layer;
    for (int b = 0; b < blocks[stage]; ++b) {
      layer->push_back(Block(bottleneck, in, planes, b == 0 && stage > 0 ? 2 : 1));
      in = bottleneck ? planes * 4 : planes;
    }
    layers_.push_back(register_module(fmt::format("layer{}", stage + 1), layer));
  }
  fc = register_module("fc", torch::nn::Linear(in, classes));
  init_weights(*this, false);
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = torch::max_pool2d(bn1(conv1(x)).relu_(), 3, 2, 1);
  for (auto& layer : layers_) x = layer->forward(x);
  return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

DenseNetImpl::DenseNetImpl(int classes) {
  constexpr int growth = 32;
  features = torch::nn::Sequential();
  features->push_back("conv0", conv(3, 64, 7, 2, 3));
  features->push_back("norm0", torch::nn::BatchNorm2d(64));
  features->push_back("relu0", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  features->push_back("pool0", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int in = 64;
  const std::array<int, 4> layers = {6, 12, 24, 16};
  for (int b = 0; b < 4; ++b) {
    features->push_back(fmt::format("denseblock{}", b + 1), DenseBlock(layers[b], in, growth));
    in += layers[b] * growth;
    if (b < 3) {
      features->push_back(fmt::format("transition{}", b + 1), Transition(in, in / 2));
      in /= 2;
    }
  }
  features->push_back("norm5", torch::nn::BatchNorm2d(in));
  register_module("features", features);
  classifier = register_module("classifier", torch::nn::Linear(in, classes));
  init_weights(*this, true);
}

torch::Tensor DenseNetImpl::forward(torch::Tensor x) {
  x = features->forward(x).relu_();
  return classifier(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

Classifier::Classifier(Architecture architecture, int classes) : architecture_(architecture) {
  if (architecture == Architecture::densenet121) {
    densenet_ = DenseNet(classes);
    module_ = densenet_.ptr();
  } else {
    resnet_ = ResNet(architecture, classes);
    module_ = resnet_.ptr();
  }
}

torch::Tensor Classifier::forward(const torch::Tensor& x) {
  return densenet_ ? densenet_->forward(x) : resnet_->forward(x);
}

torch::Device training_device(DeviceChoice choice) {
  const bool cuda = cuda_available();
  if (choice == DeviceChoice::cuda && !cuda)
    throw UsageError("--device cuda: this LibTorch has no CUDA or sees no GPU (docs/models.md)");
  return choice != DeviceChoice::cpu && cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

void load_state_dict(torch::nn::Module& module, const std::filesystem::path& file, const std::string& skip_prefix) {
  const std::string text = read_file_bytes(file);
  const std::vector<char> bytes(text.begin(), text.end());
  c10::IValue loaded;
  try {
    loaded = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw InputError(Location{file.string()},
                     fmt::format("not a state dict saved by torch.save: {}", std::string(e.what()).substr(0, 200)));
  }
  if (!loaded.isGenericDict())
    throw InputError(Location{file.string()}, "not a state dict (torch.save(dict(model.state_dict()), path))");
  std::map<std::string, torch::Tensor> entries;
  for (const auto& item : loaded.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      throw InputError(Location{file.string()}, "a state dict maps names to tensors; this file holds something else");
    entries.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  const auto skipped = [&](const std::string& name) {
    return !skip_prefix.empty() && name.compare(0, skip_prefix.size(), skip_prefix) == 0;
  };
  std::vector<std::string> missing, wrong_shape;
  std::set<std::string> used;
  torch::NoGradGuard guard;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    if (skipped(name)) return;
    const auto it = entries.find(name);
    if (it == entries.end()) {
      if (name.size() < 19 || name.compare(name.size() - 19, 19, "num_batches_tracked") != 0) missing.push_back(name);
      return;
    }
    used.insert(name);
    if (it->second.sizes() != target.sizes()) {
      wrong_shape.push_back(name);
      return;
    }
    target.copy_(it->second.to(target.dtype()));
  };
  for (auto& p : module.named_parameters(true)) copy(p.key(), p.value());
  for (auto& b : module.named_buffers(true)) copy(b.key(), b.value());
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : entries)
    if (!used.count(name) && !skipped(name)) unexpected.push_back(name);
  const auto some = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
    return v.size() > 5 ? s + fmt::format(" and {} more", v.size() - 5) : s;
  };
  if (!missing.empty() || !wrong_shape.empty() || !unexpected.empty())
    throw InputError(Location{file.string()},
                     fmt::format("the weights do not fit the network: {} missing ({}), {} of another shape ({}), {} "
                                 "not in the network ({})",
                                 missing.size(), some(missing), wrong_shape.size(), some(wrong_shape),
                                 unexpected.size(), some(unexpected)));
}

}  // namespace chexgen::deep
