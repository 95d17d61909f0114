#include "chexgen/deep/torch_model.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "chexgen/core/parallel.h"

namespace chexgen::deep {
namespace {

// The first line of a LibTorch message (the rest is a C++ backtrace that helps nobody using chexgen).
std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

std::string shape_text(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

}  // namespace

DeviceChoice parse_device(const std::string& text) {
  if (text == "auto") return DeviceChoice::automatic;
  if (text == "cpu") return DeviceChoice::cpu;
  if (text == "cuda") return DeviceChoice::cuda;
  throw UsageError(fmt::format("--device must be auto, cpu or cuda, not '{}'", text));
}

bool cuda_available() { return torch::cuda::is_available(); }

struct TorchModel::Impl {
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
};

TorchModel::TorchModel(ModelSpec spec, const RunOptions& options) : spec_(std::move(spec)), impl_(new Impl) {
  const bool cuda = cuda_available();
  if (options.device == DeviceChoice::cuda && !cuda)
    throw UsageError("--device cuda: this LibTorch sees no usable CUDA GPU (Debian's libtorch is CPU-only; build "
                     "against a CUDA LibTorch, docs/models.md)");
  impl_->device = (options.device != DeviceChoice::cpu && cuda) ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  if (impl_->device.is_cpu()) at::set_num_threads(resolve_threads(options.threads));
  try {
    impl_->module = torch::jit::load(spec_.model_path.string(), impl_->device);
    impl_->module.eval();
    if (options.optimize) impl_->module = torch::jit::optimize_for_inference(impl_->module);
  } catch (const c10::Error& e) {
    throw InputError(Location{spec_.model_path.string()},
                     fmt::format("cannot load the TorchScript model: {}", first_line(e.what())));
  }
}

TorchModel::~TorchModel() = default;

std::string TorchModel::device_name() const { return impl_->device.str(); }

void TorchModel::run(const std::vector<const PlanarImageF*>& inputs, std::vector<double>& rows) {
  CHEXGEN_ASSERT(!inputs.empty(), "TorchModel::run: an empty batch");
  const PlanarImageF& first = *inputs.front();
  for (const PlanarImageF* in : inputs)
    if (in->channels != first.channels || in->height != first.height || in->width != first.width)
      throw InputError(Location{spec_.model_path.string()},
                       fmt::format("images of one batch preprocess to different sizes ({}x{} and {}x{}); give the "
                                   "preprocessing a resize or crop to a fixed size",
                                   first.width, first.height, in->width, in->height));
  const auto n = static_cast<std::int64_t>(inputs.size());
  const bool u8 = spec_.preprocessing.dtype == InputDtype::uint8;
  torch::Tensor batch = torch::empty({n, first.channels, first.height, first.width}, u8 ? torch::kUInt8 : torch::kFloat);
  const std::size_t per_image = first.values.size();
  for (std::int64_t k = 0; k < n; ++k) {
    const std::vector<float>& v = inputs[k]->values;
    if (u8) std::copy(v.begin(), v.end(), batch.data_ptr<std::uint8_t>() + k * per_image);  // exact: 0..255 values
    else std::copy(v.begin(), v.end(), batch.data_ptr<float>() + k * per_image);
  }

  const Location where{spec_.model_path.string()};
  std::vector<torch::Tensor> results;
  try {
    c10::InferenceMode inference;
    torch::jit::IValue out = impl_->module.forward({batch.to(impl_->device)});
    if (out.isTensor()) results.push_back(out.toTensor());
    else if (out.isTuple())
      for (const auto& e : out.toTupleRef().elements()) results.push_back(e.isTensor() ? e.toTensor() : torch::Tensor());
    else if (out.isTensorList())
      for (const auto& t : out.toTensorVector()) results.push_back(t);
    else
      throw InputError(where, fmt::format("forward returned a {}; chexgen reads a tensor or a tuple of tensors",
                                          out.tagKind()));
    for (auto& t : results)
      if (t.defined()) t = t.to(torch::kCPU, torch::kDouble).contiguous();
  } catch (const c10::Error& e) {
    throw InputError(where, fmt::format("the model failed on a batch of {} {}x{}x{} inputs: {}", n, first.channels,
                                        first.height, first.width, first_line(e.what())));
  }

  const int total = spec_.total_dim();
  rows.assign(static_cast<std::size_t>(n) * total, 0.0);
  int offset = 0;
  for (const ModelOutput& o : spec_.outputs) {
    if (o.index >= static_cast<int>(results.size()) || !results[o.index].defined())
      throw InputError(where, fmt::format("output '{}' is element {} of what forward returns, which has {} tensor(s)",
                                          o.name, o.index, results.size()));
    const torch::Tensor& t = results[o.index];
    if (t.dim() < 1 || t.size(0) != n || t.numel() != n * o.dim)
      throw InputError(where, fmt::format("output '{}' has shape {} for a batch of {}; the sidecar says dim {}", o.name,
                                          shape_text(t), n, o.dim));
    const double* src = t.data_ptr<double>();
    for (std::int64_t k = 0; k < n; ++k)
      std::copy_n(src + k * o.dim, o.dim, rows.data() + k * total + offset);
    offset += o.dim;
  }
}

features::ImageFeatureExtractor as_image_extractor(std::shared_ptr<TorchModel> model) {
  features::ImageFeatureExtractor e;
  const ModelSpec& spec = model->spec();
  e.id = spec.extractor_id();
  e.columns = spec.columns();
  e.color = spec.preprocessing.color;
  e.require_finite = true;
  features::ImageFeatureExtractor::Batched b;
  b.batch_size = static_cast<std::size_t>(spec.batch_size);
  b.prepare = [model](const Image8& image) { return preprocess(image, model->spec().preprocessing); };
  b.infer = [model](const std::vector<const PlanarImageF*>& inputs, std::vector<double>& rows) {
    model->run(inputs, rows);
  };
  e.batched = std::move(b);
  return e;
}

}  // namespace chexgen::deep
