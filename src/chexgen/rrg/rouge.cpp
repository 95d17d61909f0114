#include "chexgen/rrg/rouge.h"

#include <algorithm>

#include "chexgen/core/error.h"
#include "chexgen/core/parallel.h"
#include "chexgen/metrics/numpy_random.h"
#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

// rouge-score's tokenize(text, None): str.lower(), every run of characters other than [a-z0-9] a separator; calls
// `token` with each token. Only two characters outside ASCII lower to ASCII letters: U+0130 (to "i" and a combining
// dot, which separates) and the Kelvin sign U+212A (to "k"); every other multi-byte character separates.
template <class Token>
void for_each_token(std::string_view text, std::string& buf, Token&& token) {
  buf.clear();
  auto flush = [&] {
    if (!buf.empty()) token(std::string_view(buf));
    buf.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      const char c = static_cast<char>(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        buf.push_back(c);
      else
        flush();
      ++i;
      continue;
    }
    const std::size_t len = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    const std::string_view ch = text.substr(i, len);
    if (ch == "\xC4\xB0") {  // U+0130
      buf.push_back('i');
      flush();
    } else if (ch == "\xE2\x84\xAA") {  // U+212A
      buf.push_back('k');
    } else {
      flush();
    }
    i += len;
  }
  flush();
}

std::vector<std::uint32_t> ids(std::string_view text, Vocabulary& vocab, std::string& buf) {
  std::vector<std::uint32_t> out;
  for_each_token(text, buf, [&](std::string_view t) { out.push_back(vocab.id(t)); });
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

std::vector<std::string> rouge_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string buf;
  for_each_token(text, buf, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

std::vector<RougeScore> rouge_l_scores(const std::vector<std::string>& predictions,
                                       const std::vector<std::string>& references, int threads) {
  CHEXGEN_ASSERT(predictions.size() == references.size(), "rouge_l_scores: one reference per prediction");
  std::vector<RougeScore> out(predictions.size());
  constexpr std::size_t kBlock = 128;  // tokens are compared only within a pair: a vocabulary per block
  const std::size_t blocks = (predictions.size() + kBlock - 1) / kBlock;
  parallel_for(blocks, threads, [&](std::size_t block) {
    Vocabulary vocab;
    std::string buf;
    const std::size_t end = std::min(predictions.size(), (block + 1) * kBlock);
    for (std::size_t i = block * kBlock; i < end; ++i) {
      const std::vector<std::uint32_t> target = ids(references[i], vocab, buf);
      const std::vector<std::uint32_t> prediction = ids(predictions[i], vocab, buf);
      if (target.empty() || prediction.empty()) continue;  // Score(0, 0, 0)
      const auto lcs = static_cast<double>(lcs_length(target, prediction));
      RougeScore& s = out[i];
      s.precision = lcs / static_cast<double>(prediction.size());
      s.recall = lcs / static_cast<double>(target.size());
      s.fmeasure = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    }
  });
  return out;
}

RougeAggregate rouge_bootstrap(const std::vector<RougeScore>& scores, std::size_t resamples, double confidence,
                               std::uint32_t seed) {
  CHEXGEN_ASSERT(!scores.empty() && resamples >= 1, "rouge_bootstrap: no scores or no resamples");
  const std::size_t n = scores.size();
  metrics::NumpyLegacyRandom rng(seed);
  std::vector<double> p(resamples), r(resamples), f(resamples);
  std::vector<std::size_t> idx(n);
  for (std::size_t b = 0; b < resamples; ++b) {
    // np.mean(sample, axis=0) of an (n, 3) matrix adds the rows in order, then divides by n.
    rng.fill_below(n, idx);
    double sp = 0, sr = 0, sf = 0;
    for (std::size_t j : idx) {
      const RougeScore& s = scores[j];
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
