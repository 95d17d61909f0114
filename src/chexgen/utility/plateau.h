// PyTorch's ReduceLROnPlateau (torch.optim.lr_scheduler, torch 1.13), which LibTorch 1.13 lacks: after each epoch's
// validation loss, the learning rate is multiplied by `factor` once the loss has not improved for more than
// `patience` epochs. Mode "min", threshold_mode "rel": an improvement is a loss below best * (1 - threshold). A
// reduction smaller than eps is not applied. Tested against torch's (tests/fixtures/make_plateau_golden.py).
#pragma once

#include <limits>

namespace chexgen::utility {

struct PlateauState {  // everything a checkpoint keeps
  double lr = 0;
  double best = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;
  int cooldown_left = 0;
};

class ReduceLrOnPlateau {
 public:
  ReduceLrOnPlateau(double lr, double factor = 0.1, int patience = 2, double threshold = 1e-4, int cooldown = 0,
                    double min_lr = 0, double eps = 1e-8);

  // One epoch's validation loss; returns the learning rate for the next epoch.
  double step(double loss);

  double lr() const { return s_.lr; }
  const PlateauState& state() const { return s_; }
  void restore(const PlateauState& s) { s_ = s; }

 private:
  double factor_, threshold_, min_lr_, eps_;
  int patience_, cooldown_;
  PlateauState s_;
};

}  // namespace chexgen::utility
