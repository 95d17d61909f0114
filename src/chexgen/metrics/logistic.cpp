#include "chexgen/metrics/logistic.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <string>

#include <cblas.h>

#include "chexgen/core/error.h"

namespace chexgen::metrics {
namespace {

// Row-major W (d x L) and b (L) to the n x L linear predictions X W + b.
MatrixD linear_predictions(MatrixViewD x, const std::vector<double>& w, const std::vector<double>& b,
                           std::size_t labels) {
  MatrixD z(x.rows, labels);
  if (x.rows > 0 && x.cols > 0)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(x.rows), static_cast<int>(labels),
                static_cast<int>(x.cols), 1.0, x.data, static_cast<int>(x.cols), w.data(), static_cast<int>(labels),
                0.0, z.data(), static_cast<int>(labels));
  for (std::size_t i = 0; i < x.rows; ++i)
    for (std::size_t l = 0; l < labels; ++l) z(i, l) += b[l];
  return z;
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// Each label's parameters as one vector: the d weights, then the intercept.
using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const Vec& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

// Objective and gradient of every label at the parameters `theta` (one Vec per label), in one pass.
void evaluate(MatrixViewD x, std::span<const std::uint8_t> y, double lambda, const std::vector<Vec>& theta,
              std::vector<double>& f, std::vector<Vec>& g) {
  const std::size_t n = x.rows, d = x.cols, labels = theta.size();
  std::vector<double> w(d * labels), b(labels);
  for (std::size_t l = 0; l < labels; ++l) {
    for (std::size_t j = 0; j < d; ++j) w[j * labels + l] = theta[l][j];
    b[l] = theta[l][d];
  }
  MatrixD r = linear_predictions(x, w, b, labels);  // becomes the residuals sigmoid(z) - y
  std::vector<double> loss(labels, 0.0), residual_sum(labels, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l = 0; l < labels; ++l) {
      const double z = r(i, l), t = y[i * labels + l] != 0 ? 1.0 : 0.0;
      loss[l] += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - t * z;
      r(i, l) = sigmoid(z) - t;
      residual_sum[l] += r(i, l);
    }
  std::vector<double> grad_w(d * labels);
  if (n > 0 && d > 0)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(d), static_cast<int>(labels),
                static_cast<int>(n), 1.0, x.data, static_cast<int>(d), r.data(), static_cast<int>(labels), 0.0,
                grad_w.data(), static_cast<int>(labels));
  f.assign(labels, 0.0);
  g.assign(labels, Vec(d + 1));
  for (std::size_t l = 0; l < labels; ++l) {
    double penalty = 0;
    for (std::size_t j = 0; j < d; ++j) {
      penalty += theta[l][j] * theta[l][j];
      g[l][j] = grad_w[j * labels + l] + lambda * theta[l][j];
    }
    g[l][d] = residual_sum[l];
    f[l] = loss[l] + 0.5 * lambda * penalty;
  }
}

struct LabelState {
  Vec theta, g, direction;
  double f = 0, step = 1;
  std::deque<std::pair<Vec, Vec>> history;  // (s, y) pairs, oldest first
  bool done = false, needs_direction = true;
  int iterations = 0;
};

// The L-BFGS two-loop recursion: -H g with the initial scaling s'y / y'y of the newest pair.
Vec lbfgs_direction(const LabelState& s) {
  Vec q = s.g;
  std::vector<double> alpha(s.history.size());
  for (std::size_t k = s.history.size(); k-- > 0;) {
    const auto& [sk, yk] = s.history[k];
    alpha[k] = dot(sk, q) / dot(yk, sk);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] -= alpha[k] * yk[i];
  }
  if (!s.history.empty()) {
    const auto& [sk, yk] = s.history.back();
    const double gamma = dot(sk, yk) / dot(yk, yk);
    for (double& v : q) v *= gamma;
  }
  for (std::size_t k = 0; k < s.history.size(); ++k) {
    const auto& [sk, yk] = s.history[k];
    const double beta = dot(yk, q) / dot(yk, sk);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] += sk[i] * (alpha[k] - beta);
  }
  for (double& v : q) v = -v;
  return q;
}

}  // namespace

std::vector<LogisticModel> fit_logistic_l2(MatrixViewD x, std::span<const std::uint8_t> y, std::size_t labels,
                                           const LogisticOptions& o) {
  CHEXGEN_ASSERT(o.C > 0 && o.memory > 0, "fit_logistic_l2: C and memory must be positive");
  CHEXGEN_ASSERT(y.size() == x.rows * labels, "fit_logistic_l2: y is not n x labels");
  const std::size_t n = x.rows, d = x.cols;
  for (std::size_t l = 0; l < labels; ++l) {
    std::size_t positives = 0;
    for (std::size_t i = 0; i < n; ++i) positives += y[i * labels + l] != 0 ? 1 : 0;
    if (positives == 0 || positives == n)
      throw std::invalid_argument("label column " + std::to_string(l) + " has only one class in the training rows");
  }
  const double lambda = 1.0 / o.C;
  std::vector<LabelState> state(labels);
  std::vector<Vec> theta(labels, Vec(d + 1, 0.0)), g;
  std::vector<double> f;
  evaluate(x, y, lambda, theta, f, g);
  for (std::size_t l = 0; l < labels; ++l) {
    state[l].theta = theta[l];
    state[l].f = f[l];
    state[l].g = g[l];
  }
  constexpr double kArmijo = 1e-4;
  for (int round = 0;; ++round) {
    bool any = false;
    std::vector<Vec> trial(labels);
    for (std::size_t l = 0; l < labels; ++l) {
      LabelState& s = state[l];
      if (!s.done && max_abs(s.g) <= o.gradient_tolerance) s.done = true;
      if (!s.done && s.iterations >= o.max_iterations) s.done = true;
      trial[l] = s.theta;
      if (s.done) continue;
      any = true;
      if (s.needs_direction) {
        s.direction = lbfgs_direction(s);
        if (dot(s.direction, s.g) >= 0) {  // not a descent direction: restart from steepest descent
          s.history.clear();
          s.direction = lbfgs_direction(s);
        }
        // The first step is scaled to a unit move; later ones try the full quasi-Newton step.
        s.step = s.history.empty() ? 1.0 / std::max(1.0, std::sqrt(dot(s.g, s.g))) : 1.0;
        s.needs_direction = false;
      }
      for (std::size_t i = 0; i <= d; ++i) trial[l][i] += s.step * s.direction[i];
    }
    if (!any) break;
    evaluate(x, y, lambda, trial, f, g);
    for (std::size_t l = 0; l < labels; ++l) {
      LabelState& s = state[l];
      if (s.done) continue;
      const double slope = dot(s.g, s.direction);
      const bool decrease = f[l] <= s.f + kArmijo * s.step * slope;
      // Near the optimum the objective is flat to its rounding: a step that does not raise it and shrinks the
      // gradient is taken.
      const bool flat = std::abs(f[l] - s.f) <= 1e-14 * std::abs(s.f) && max_abs(g[l]) < max_abs(s.g);
      if (decrease || flat) {
        Vec sk(d + 1), yk(d + 1);
        for (std::size_t i = 0; i <= d; ++i) {
          sk[i] = trial[l][i] - s.theta[i];
          yk[i] = g[l][i] - s.g[i];
        }
        if (dot(sk, yk) > 1e-12 * dot(yk, yk)) {
          s.history.emplace_back(std::move(sk), std::move(yk));
          if (s.history.size() > static_cast<std::size_t>(o.memory)) s.history.pop_front();
        }
        s.theta = trial[l];
        s.f = f[l];
        s.g = g[l];
        s.needs_direction = true;
        ++s.iterations;
      } else {
        s.step *= 0.5;
        if (s.step * max_abs(s.direction) < 1e-16 * std::max(1.0, max_abs(s.theta))) s.done = true;  // no progress
      }
    }
  }
  std::vector<LogisticModel> out(labels);
  for (std::size_t l = 0; l < labels; ++l) {
    const LabelState& s = state[l];
    out[l].coef.assign(s.theta.begin(), s.theta.begin() + static_cast<std::ptrdiff_t>(d));
    out[l].intercept = s.theta[d];
    out[l].iterations = s.iterations;
    out[l].objective = s.f;
    out[l].gradient_max = max_abs(s.g);
    out[l].converged = out[l].gradient_max <= o.gradient_tolerance;
  }
  return out;
}

MatrixD logistic_probabilities(MatrixViewD x, const std::vector<LogisticModel>& models) {
  const std::size_t labels = models.size(), d = x.cols;
  std::vector<double> w(d * labels), b(labels);
  for (std::size_t l = 0; l < labels; ++l) {
    CHEXGEN_ASSERT(models[l].coef.size() == d, "logistic_probabilities: the model has another number of features");
    for (std::size_t j = 0; j < d; ++j) w[j * labels + l] = models[l].coef[j];
    b[l] = models[l].intercept;
  }
  MatrixD p = linear_predictions(x, w, b, labels);
  for (std::size_t i = 0; i < p.rows(); ++i)
    for (std::size_t l = 0; l < labels; ++l) p(i, l) = sigmoid(p(i, l));
  return p;
}

}  // namespace chexgen::metrics
