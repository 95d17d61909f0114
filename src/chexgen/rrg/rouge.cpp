#include "chexgen/rrg/rouge.h"

#include <algorithm>

#include "chexgen/core/error.h"
#include "chexgen/metrics/numpy_random.h"
#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

// The ASCII letters and digits that code point c contributes after str.lower(), as a token character, or 0 for a
// separator. Only two code points outside ASCII lower to ASCII letters: U+0130 (to "i" and a combining dot, which
// separates) and the Kelvin sign U+212A (to "k").
char lowered_token_char(char32_t c) {
  if (c >= U'a' && c <= U'z') return static_cast<char>(c);
  if (c >= U'0' && c <= U'9') return static_cast<char>(c);
  if (c >= U'A' && c <= U'Z') return static_cast<char>(c - U'A' + U'a');
  if (c == 0x130) return 'i';
  if (c == 0x212A) return 'k';
  return 0;
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (char32_t c : decode_utf8(text)) {
    const char t = lowered_token_char(c);
    if (t) current.push_back(t);
    if (!t || c == 0x130) {  // U+0130's combining dot ends the token after its "i"
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

std::vector<std::uint32_t> ids(const std::vector<std::string>& tokens, std::unordered_map<std::string, std::uint32_t>& vocab) {
  std::vector<std::uint32_t> out;
  out.reserve(tokens.size());
  for (const std::string& t : tokens) out.push_back(vocab.emplace(t, static_cast<std::uint32_t>(vocab.size())).first->second);
  return out;
}

std::size_t lcs_length(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::vector<std::size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> rouge_tokens(std::string_view text) { return tokenize(text); }

std::vector<RougeScore> rouge_l_scores(const std::vector<std::string>& predictions,
                                       const std::vector<std::string>& references) {
  CHEXGEN_ASSERT(predictions.size() == references.size(), "rouge_l_scores: one reference per prediction");
  std::unordered_map<std::string, std::uint32_t> vocab;
  std::vector<RougeScore> out(predictions.size());
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const std::vector<std::uint32_t> target = ids(tokenize(references[i]), vocab);
    const std::vector<std::uint32_t> prediction = ids(tokenize(predictions[i]), vocab);
    if (target.empty() || prediction.empty()) continue;  // Score(0, 0, 0)
    const auto lcs = static_cast<double>(lcs_length(target, prediction));
    RougeScore& s = out[i];
    s.precision = lcs / static_cast<double>(prediction.size());
    s.recall = lcs / static_cast<double>(target.size());
    s.fmeasure = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  }
  return out;
}

RougeAggregate rouge_bootstrap(const std::vector<RougeScore>& scores, std::size_t resamples, double confidence,
                               std::uint32_t seed) {
  CHEXGEN_ASSERT(!scores.empty() && resamples >= 1, "rouge_bootstrap: no scores or no resamples");
  const std::size_t n = scores.size();
  metrics::NumpyLegacyRandom rng(seed);
  std::vector<double> p(resamples), r(resamples), f(resamples);
  for (std::size_t b = 0; b < resamples; ++b) {
    // np.mean(sample, axis=0) of an (n, 3) matrix adds the rows in order, then divides by n.
    double sp = 0, sr = 0, sf = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const RougeScore& s = scores[rng.randint_below(n)];
      sp += s.precision;
      sr += s.recall;
      sf += s.fmeasure;
    }
    const auto dn = static_cast<double>(n);
    p[b] = sp / dn;
    r[b] = sr / dn;
    f[b] = sf / dn;
  }
  const double delta = (1 - confidence) / 2;
  const double q[3] = {100 * delta, 100 * 0.5, 100 * (1 - delta)};
  RougeScore* bounds[3];
  RougeAggregate out;
  bounds[0] = &out.low;
  bounds[1] = &out.mid;
  bounds[2] = &out.high;
  for (int k = 0; k < 3; ++k) {
    bounds[k]->precision = metrics::numpy_percentile(p, q[k]);
    bounds[k]->recall = metrics::numpy_percentile(r, q[k]);
    bounds[k]->fmeasure = metrics::numpy_percentile(f, q[k]);
  }
  out.resamples = resamples;
  out.confidence = confidence;
  out.seed = seed;
  return out;
}

}  // namespace chexgen::rrg
