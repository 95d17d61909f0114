#include "chexgen/core/files.h"
#include "chexgen/deep/torch_runtime_pvt.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/cuda.h>

#include "chexgen/core/parallel.h"

namespace chexgen::deep {

DeviceChoice parse_device(const std::string& text) {
  if (text == "auto") return DeviceChoice::automatic;
  if (text == "cpu") return DeviceChoice::cpu;
  if (text == "cuda") return DeviceChoice::cuda;
  throw UsageError(fmt::format("--device must be auto, cpu or cuda, not '{}'", text));
}

bool cuda_available() { return torch::cuda::is_available(); }

namespace detail {

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

std::string shape_text(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

LoadedModule load_module(const std::filesystem::path& path, const RunOptions& options) {
  const bool cuda = cuda_available();
  if (options.device == DeviceChoice::cuda && !cuda)
    throw UsageError(
        "--device cuda: this LibTorch sees no usable CUDA GPU (Debian's libtorch is CPU-only; build "
        "against a CUDA LibTorch, docs/models.md)");
  LoadedModule m;
  m.device = (options.device != DeviceChoice::cpu && cuda) ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  if (m.device.is_cpu()) at::set_num_threads(resolve_threads(options.threads));
  note_input_file(path);
  try {
    m.module = torch::jit::load(path.string(), m.device);
    m.module.eval();
    if (options.optimize) m.module = torch::jit::optimize_for_inference(m.module);
  } catch (const c10::Error& e) {
    throw InputError(Location{path.string()},
                     fmt::format("cannot load the TorchScript model: {}", first_line(e.what())));
  }
  return m;
}

std::vector<torch::Tensor> forward_outputs(torch::jit::Module& module, std::vector<torch::jit::IValue> inputs,
                                           const Location& where, const std::string& failure) {
  std::vector<torch::Tensor> results;
  try {
    c10::InferenceMode inference;
    torch::jit::IValue out = module.forward(std::move(inputs));
    if (out.isTensor())
      results.push_back(out.toTensor());
    else if (out.isTuple())
      for (const auto& e : out.toTupleRef().elements())
        results.push_back(e.isTensor() ? e.toTensor() : torch::Tensor());
    else if (out.isTensorList())
      for (const auto& t : out.toTensorVector()) results.push_back(t);
    else
      throw InputError(
          where, fmt::format("forward returned a {}; chexgen reads a tensor or a tuple of tensors", out.tagKind()));
    for (auto& t : results)
      if (t.defined()) t = t.to(torch::kCPU, torch::kDouble).contiguous();
  } catch (const c10::Error& e) {
    throw InputError(where, fmt::format("{}: {}", failure, first_line(e.what())));
  }
  return results;
}

const torch::Tensor& output_tensor(const std::vector<torch::Tensor>& results, const ModelOutput& o, std::int64_t n,
                                   const Location& where) {
  if (o.index >= static_cast<int>(results.size()) || !results[o.index].defined())
    throw InputError(where, fmt::format("output '{}' is element {} of what forward returns, which has {} tensor(s)",
                                        o.name, o.index, results.size()));
  const torch::Tensor& t = results[o.index];
  if (t.dim() < 1 || t.size(0) != n || t.numel() != n * o.dim)
    throw InputError(where, fmt::format("output '{}' has shape {} for a batch of {}; the sidecar says dim {}", o.name,
                                        shape_text(t), n, o.dim));
  return t;
}

}  // namespace detail
}  // namespace chexgen::deep
