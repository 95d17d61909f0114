// The utility suite's networks against torchvision: the same parameter names and shapes (a state dict saved in
// Python loads), and the same logits in eval mode. The reference is made at test time by
// tests/fixtures/make_classifier_reference.py with Debian's torch 1.13 and torchvision 0.14.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/deep/classifier.h"
#include "support/scratch_dir.h"
#include "support/torch_reference.h"

namespace chexgen::deep {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The reference folder, made once per test process; empty with the reason when /usr/bin/python3 has no torchvision.
const fs::path& reference(std::string& unavailable) {
  static chexgen::testing::ScratchDir dir("classifier-reference");
  static std::string why;
  static const bool made = [] {
    if (!fs::exists("/usr/bin/python3")) {
      why = "no /usr/bin/python3 (make reference-deps installs Debian's torch and torchvision)";
      return false;
    }
    const auto probe = chexgen::testing::run_shell("/usr/bin/python3 -c 'import torch, torchvision'");
    if (probe.status != 0) {
      why = "no torchvision in /usr/bin/python3 (make reference-deps installs it)";
      return false;
    }
    const auto run = chexgen::testing::run_shell("/usr/bin/python3 " + std::string(CHEXGEN_SOURCE_DIR) +
                                                 "/tests/fixtures/make_classifier_reference.py " + dir.path().string());
    if (run.status != 0) throw std::runtime_error("make_classifier_reference.py failed:\n" + run.output);
    return true;
  }();
  unavailable = made ? "" : why;
  return dir.path();
}

torch::Tensor io_tensor(const fs::path& file, const std::string& key) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict().at(key).toTensor();
}

class ClassifierTest : public ::testing::TestWithParam<Architecture> {};

TEST_P(ClassifierTest, LoadsTorchvisionWeightsAndGivesItsLogits) {
  std::string unavailable;
  const fs::path& dir = reference(unavailable);
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  torch::set_num_threads(1);
  const std::string name(architecture_name(GetParam()));
  Classifier net(GetParam(), 14);
  load_state_dict(*net.module(), dir / (name + ".weights.pt"));
  net.module()->eval();
  torch::NoGradGuard guard;
  const torch::Tensor y = net.forward(io_tensor(dir / (name + ".io.pt"), "input"));
  const torch::Tensor expected = io_tensor(dir / (name + ".io.pt"), "output");
  ASSERT_EQ(y.sizes(), expected.sizes());
  // The same LibTorch build in both languages: equal up to the order of float32 sums (one thread each).
  const double scale = expected.abs().max().item<double>();
  EXPECT_LE((y - expected).abs().max().item<double>(), 1e-5 * scale) << name;
  // A network that ignored the buffers (training-mode BatchNorm) would not be: the check can fail.
  net.module()->train();
  EXPECT_GT((net.forward(io_tensor(dir / (name + ".io.pt"), "input")) - expected).abs().max().item<double>(),
            1e-3 * scale);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, ClassifierTest,
                         ::testing::Values(Architecture::resnet18, Architecture::resnet50, Architecture::densenet121),
                         [](const auto& info) { return std::string(architecture_name(info.param)); });

TEST(Classifier, WeightsOfAnotherNetworkAreRefusedByName) {
  std::string unavailable;
  const fs::path& dir = reference(unavailable);
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  Classifier net(Architecture::resnet50, 14);
  try {
    load_state_dict(*net.module(), dir / "resnet18.weights.pt");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("resnet18.weights.pt"));
    EXPECT_THAT(e.what(), HasSubstr("missing (layer1.0.conv3.weight"));
  }
  // A new head: the file's fc entries are left out with skip_prefix, so a 5-way head loads a 14-way file's body.
  Classifier five(Architecture::resnet18, 5);
  EXPECT_THROW(load_state_dict(*five.module(), dir / "resnet18.weights.pt"), InputError);
  EXPECT_NO_THROW(load_state_dict(*five.module(), dir / "resnet18.weights.pt", "fc."));
  EXPECT_THROW(parse_architecture("vgg16"), UsageError);
}

}  // namespace
}  // namespace chexgen::deep
