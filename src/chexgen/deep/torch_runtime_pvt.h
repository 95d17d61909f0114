// LibTorch plumbing shared by the image models (torch_model.cpp) and the text models (text_model.cpp): loading a
// TorchScript file on the chosen device with the chosen threads, and collecting what forward returns. Private to
// src/chexgen/deep: it brings LibTorch's headers, which the public headers keep out.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <torch/script.h>

#include "chexgen/core/error.h"
#include "chexgen/deep/torch_model.h"

namespace chexgen::deep::detail {

// The first line of a LibTorch message (the rest is a C++ backtrace that helps nobody using chexgen).
std::string first_line(const std::string& message);

// "[2, 128]".
std::string shape_text(const torch::Tensor& t);

struct LoadedModule {
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
};

// Picks the device (`cuda` without a usable GPU is a UsageError), sets LibTorch's CPU threads, loads the file in
// eval mode and, with options.optimize, freezes and optimizes it. A file that is not TorchScript is an InputError
// naming it.
LoadedModule load_module(const std::filesystem::path& path, const RunOptions& options);

// Runs forward under InferenceMode and returns the tensors it gave (a tensor; the elements of a tuple, undefined
// for those that are not tensors; a list of tensors) on the CPU as contiguous float64. Any other result is an
// InputError at `where`; a LibTorch failure is an InputError at `where` whose message starts with `failure`.
std::vector<torch::Tensor> forward_outputs(torch::jit::Module& module, std::vector<torch::jit::IValue> inputs,
                                           const Location& where, const std::string& failure);

// The tensor of `output` among forward's results, checked to hold n rows of output.dim values; otherwise an
// InputError at `where` saying what the model returned and what the sidecar says.
const torch::Tensor& output_tensor(const std::vector<torch::Tensor>& results, const ModelOutput& output, std::int64_t n,
                                   const Location& where);

}  // namespace chexgen::deep::detail
