#include "chexgen/utility/plateau.h"

#include <algorithm>

#include "chexgen/core/error.h"

namespace chexgen::utility {

ReduceLrOnPlateau::ReduceLrOnPlateau(double lr, double factor, int patience, double threshold, int cooldown,
                                     double min_lr, double eps)
    : factor_(factor), threshold_(threshold), min_lr_(min_lr), eps_(eps), patience_(patience), cooldown_(cooldown) {
  if (!(factor > 0 && factor < 1)) throw UsageError("the plateau factor must be in (0, 1)");
  if (patience < 0) throw UsageError("the plateau patience must be 0 or more");
  s_.lr = lr;
}

double ReduceLrOnPlateau::step(double loss) {
  if (loss < s_.best * (1.0 - threshold_)) {
    s_.best = loss;
    s_.bad_epochs = 0;
  } else {
    ++s_.bad_epochs;
  }
  if (s_.cooldown_left > 0) {
    --s_.cooldown_left;
    s_.bad_epochs = 0;
  }
  if (s_.bad_epochs > patience_) {
    const double reduced = std::max(s_.lr * factor_, min_lr_);
    if (s_.lr - reduced > eps_) s_.lr = reduced;
    s_.cooldown_left = cooldown_;
    s_.bad_epochs = 0;
  }
  return s_.lr;
}

}  // namespace chexgen::utility
