#include "chexgen/deep/torch_model.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include "chexgen/deep/torch_runtime_pvt.h"

namespace chexgen::deep {

struct TorchModel::Impl {
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
};

TorchModel::TorchModel(ModelSpec spec, const RunOptions& options) : spec_(std::move(spec)), impl_(new Impl) {
  detail::LoadedModule loaded = detail::load_module(spec_.model_path, options);
  impl_->module = std::move(loaded.module);
  impl_->device = loaded.device;
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
  torch::Tensor batch =
      torch::empty({n, first.channels, first.height, first.width}, u8 ? torch::kUInt8 : torch::kFloat);
  const std::size_t per_image = first.values.size();
  for (std::int64_t k = 0; k < n; ++k) {
    const std::vector<float>& v = inputs[k]->values;
    if (u8)
      std::copy(v.begin(), v.end(), batch.data_ptr<std::uint8_t>() + k * per_image);  // exact: 0..255 values
    else
      std::copy(v.begin(), v.end(), batch.data_ptr<float>() + k * per_image);
  }

  const Location where{spec_.model_path.string()};
  const std::vector<torch::Tensor> results = detail::forward_outputs(
      impl_->module, {batch.to(impl_->device)}, where,
      fmt::format("the model failed on a batch of {} {}x{}x{} inputs", n, first.channels, first.height, first.width));

  const int total = spec_.total_dim();
  rows.assign(static_cast<std::size_t>(n) * total, 0.0);
  int offset = 0;
  for (const ModelOutput& o : spec_.outputs) {
    const torch::Tensor& t = detail::output_tensor(results, o, n, where);
    const double* src = t.data_ptr<double>();
    for (std::int64_t k = 0; k < n; ++k) std::copy_n(src + k * o.dim, o.dim, rows.data() + k * total + offset);
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

features::Extractor as_extractor(std::shared_ptr<TorchModel> model) {
  features::Extractor x;
  const ModelSpec& spec = model->spec();
  x.rows = as_image_extractor(model);
  x.preset = spec.preprocessing.preset;
  x.name = spec.name;
  std::size_t offset = 0;
  for (const auto& o : spec.outputs) {
    x.outputs.push_back({o.name, offset, static_cast<std::size_t>(o.dim)});
    offset += static_cast<std::size_t>(o.dim);
  }
  x.description = {{"model", spec.model_path.string()}, {"device", model->device_name()}};
  return x;
}

features::Extractor load_image_extractor(const std::filesystem::path& model, const RunOptions& options) {
  return as_extractor(std::make_shared<TorchModel>(load_model_spec(model), options));
}

}  // namespace chexgen::deep
