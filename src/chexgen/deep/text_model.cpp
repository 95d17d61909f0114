#include "chexgen/deep/text_model.h"

#include <algorithm>

#include <fmt/format.h>

#include "chexgen/deep/torch_runtime_pvt.h"
#include "chexgen/text/wordpiece.h"

namespace chexgen::deep {

struct TextModel::Impl {
  text::BertTokenizer tokenizer;
  detail::LoadedModule loaded;
};

TextModel::TextModel(const std::filesystem::path& model, const RunOptions& options)
    : spec_(load_text_model_spec(model)) {
  // The vocabulary before the module: a wrong sidecar is reported without waiting for a large model to load.
  text::BertTokenizer tokenizer = text::BertTokenizer::from_file(spec_.tokenizer.vocab, spec_.tokenizer.lowercase);
  impl_.reset(new Impl{std::move(tokenizer), detail::load_module(spec_.model_path, options)});
}

TextModel::~TextModel() = default;

const std::string& TextModel::name() const { return spec_.name; }

std::string TextModel::extractor_id() const { return spec_.extractor_id(impl_->tokenizer.vocab_sha256()); }

int TextModel::dim() const { return spec_.output.dim; }

const text::BertTokenizer& TextModel::tokenizer() const { return impl_->tokenizer; }

std::string TextModel::device_name() const { return impl_->loaded.device.str(); }

std::vector<std::int64_t> TextModel::encode(const std::string& prompt, const Location& where) const {
  std::vector<std::int64_t> ids =
      impl_->tokenizer.encode(text::strip_trailing(prompt, spec_.tokenizer.strip_trailing), where);
  const auto max_length = static_cast<std::size_t>(spec_.tokenizer.max_length);
  if (ids.size() > max_length && spec_.tokenizer.truncate) {
    ids.resize(max_length - 1);
    ids.push_back(impl_->tokenizer.sep_id());
  }
  if (ids.size() > max_length)
    throw InputError(where, fmt::format("the prompt is {} tokens long with [CLS] and [SEP]; text model '{}' takes at "
                                        "most {}",
                                        ids.size(), spec_.name, spec_.tokenizer.max_length));
  return ids;
}

MatrixD TextModel::embed(const std::vector<std::string>& prompts, const std::vector<Location>& locations) {
  CHEXGEN_ASSERT(prompts.size() == locations.size(), "TextModel::embed: one location per prompt");
  std::vector<std::vector<std::int64_t>> ids;
  ids.reserve(prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) ids.push_back(encode(prompts[i], locations[i]));

  const std::size_t dim = static_cast<std::size_t>(spec_.output.dim);
  MatrixD rows(prompts.size(), dim);
  const Location where{spec_.model_path.string()};
  const std::size_t batch_size = static_cast<std::size_t>(spec_.batch_size);
  for (std::size_t first = 0; first < ids.size(); first += batch_size) {
    const std::size_t count = std::min(batch_size, ids.size() - first);
    std::size_t longest = 0;
    for (std::size_t k = 0; k < count; ++k) longest = std::max(longest, ids[first + k].size());
    const auto n = static_cast<std::int64_t>(count);
    const auto len = static_cast<std::int64_t>(longest);
    torch::Tensor input_ids = torch::full({n, len}, impl_->tokenizer.pad_id(), torch::kLong);
    torch::Tensor mask = torch::zeros({n, len}, torch::kLong);
    auto id_acc = input_ids.accessor<std::int64_t, 2>();
    auto mask_acc = mask.accessor<std::int64_t, 2>();
    for (std::int64_t k = 0; k < n; ++k) {
      const std::vector<std::int64_t>& row = ids[first + static_cast<std::size_t>(k)];
      for (std::size_t j = 0; j < row.size(); ++j) {
        id_acc[k][static_cast<std::int64_t>(j)] = row[j];
        mask_acc[k][static_cast<std::int64_t>(j)] = 1;
      }
    }
    const std::vector<torch::Tensor> results = detail::forward_outputs(
        impl_->loaded.module, {input_ids.to(impl_->loaded.device), mask.to(impl_->loaded.device)}, where,
        fmt::format("the model failed on a batch of {} prompts of {} tokens", n, len));

    const torch::Tensor& t = detail::output_tensor(results, spec_.output, n, where);
    std::copy_n(t.data_ptr<double>(), count * dim, rows.row(first));
  }
  return rows;
}

features::TextFeatureExtractor as_text_extractor(std::shared_ptr<TextModel> model) {
  features::TextFeatureExtractor e;
  e.id = model->extractor_id();
  e.name = model->name();
  e.source = model->spec().model_path.string();
  e.dim = static_cast<std::size_t>(model->dim());
  e.embed = [model](const std::vector<std::string>& texts, const std::vector<Location>& where) {
    return model->embed(texts, where);
  };
  return e;
}

}  // namespace chexgen::deep
