// chexgen utility train as a library call (docs/utility.md): a network (ResNet-18/50, DenseNet-121 on LibTorch)
// trained on the setting's images as CheXGenBench trains its timm ResNet-50 (BCE with logits, Adam with L2 in the
// gradient, ReduceLROnPlateau on the validation loss, the best-validation-loss checkpoint tested), with its
// preprocessing exactly on request (--protocol chexgenbench: Resize to a square, horizontal flips) or corrected by
// default (aspect kept by padding, no flip). A checkpoint every epoch: a killed run resumes where it stopped.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chexgen/data/manifest.h"
#include "chexgen/deep/classifier.h"
#include "chexgen/deep/torch_model.h"
#include "chexgen/image/image.h"
#include "chexgen/utility/run.h"

namespace chexgen {
class Log;
}

namespace chexgen::utility {

struct TrainOptions : UtilityOptions {  // threads: image workers and LibTorch's CPU threads
  deep::Architecture architecture = deep::Architecture::resnet50;
  std::filesystem::path weights;  // a state dict to start from, its classification head left out; empty: scratch
  int epochs = 20;
  int batch_size = 32;
  int image_size = 224;
  double learning_rate = 1e-4;
  double weight_decay = 1e-5;  // Adam's L2 term in the gradient (not AdamW)
  double plateau_factor = 0.1;
  int plateau_patience = 2;
  deep::DeviceChoice device = deep::DeviceChoice::automatic;
};

// The network input of one training or test image, 3 x size x size floats normalised with ImageNet's mean and
// standard deviation (the gray image copied to 3 channels, as PIL's convert("RGB")):
//  - chexgenbench: Pillow's bilinear resize to size x size (torchvision's Resize((size, size))); when `augment`, a
//    horizontal flip with probability 1/2, then a rotation by an angle uniform in [-10, 10] degrees (nearest, black);
//  - fixed: the longer side resized to `size` (bilinear), centred on a black square (padding keeps the aspect and the
//    whole chest); when `augment`, the rotation only.
// The random draws are a pure function of `draw` (SplitMix64), so an image gets the same augmentation in an epoch
// whatever the threads.
std::vector<float> network_input(const Image8& gray, Protocol protocol, int size, bool augment, std::uint64_t draw);

// Trains (or resumes, from `work`/checkpoint.pt when the same inputs and options made it), writes `work`/best.pt,
// `work`/model.json (what evaluate_checkpoint needs) and `work`/training_log.csv, and tests the best checkpoint on
// `test` (and, with agreement, the synthetic images).
UtilityRun train_and_test(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                          const TrainOptions& options, const std::filesystem::path& work, const Log& log);

struct EvaluateOptions {
  ScoringOptions scoring;
  std::uint64_t seed = 42;  // of the bootstrap
  int batch_size = 32;
  int threads = 0;
  deep::DeviceChoice device = deep::DeviceChoice::automatic;
  std::string generator;  // empty: the one model.json names
};

// Tests a trained network (`checkpoint`, a best.pt with its model.json beside it) on other real images: the same
// scores and outputs as train_and_test, without a training set.
UtilityRun evaluate_checkpoint(const std::filesystem::path& checkpoint, const Dataset& test,
                               const EvaluateOptions& options, const Log& log);

}  // namespace chexgen::utility
