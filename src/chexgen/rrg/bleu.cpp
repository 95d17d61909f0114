#include "chexgen/rrg/bleu.h"

#include <algorithm>
#include <cmath>

#include "chexgen/core/error.h"
#include "chexgen/metrics/numpy_random.h"
#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

// TokenizerRegexp's first pattern: [\{-\~\[-\` -\&\(-\+\:-\@\/], i.e. { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * +
// : ; < = > ? @ /.
bool is_split_punctuation(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

void replace_all(std::u32string& s, std::u32string_view from, std::u32string_view to) {
  if (s.find(from) == std::u32string::npos) return;
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (true) {
    const std::size_t at = s.find(from, i);
    if (at == std::u32string::npos) break;
    out.append(s, i, at - i);
    out.append(to);
    i = at + from.size();
  }
  out.append(s, i, std::u32string::npos);
  s = std::move(out);
}

// re.sub of a two-character pattern (first, second) with replacement "pre \1 mid \2 post": leftmost, non-overlapping
// matches, as Python's re scans.
template <class First, class Second>
std::u32string substitute_pairs(const std::u32string& s, First first, Second second, std::u32string_view pre,
                                std::u32string_view mid, std::u32string_view post) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 4);
  for (std::size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out.append(pre);
      out.push_back(s[i]);
      out.append(mid);
      out.push_back(s[i + 1]);
      out.append(post);
      i += 2;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

// Tokenizer13a(line.rstrip()) before the final split: the tokenized line with single spaces.
std::u32string tokenize_13a(std::string_view text) {
  const std::u32string decoded = decode_utf8(text);
  std::u32string line(rstrip_python_whitespace(decoded));
  replace_all(line, U"<skipped>", U"");
  replace_all(line, U"-\n", U"");
  replace_all(line, U"\n", U" ");
  if (line.find(U'&') != std::u32string::npos) {
    replace_all(line, U"&quot;", U"\"");
    replace_all(line, U"&amp;", U"&");
    replace_all(line, U"&lt;", U"<");
    replace_all(line, U"&gt;", U">");
  }
  std::u32string s;
  s.reserve(line.size() * 2 + 2);
  s.push_back(U' ');
  for (char32_t c : line) {
    if (is_split_punctuation(c)) {
      s.push_back(U' ');
      s.push_back(c);
      s.push_back(U' ');
    } else {
      s.push_back(c);
    }
  }
  s.push_back(U' ');
  auto period_comma = [](char32_t c) { return c == U'.' || c == U','; };
  auto not_digit = [](char32_t c) { return !is_digit(c); };
  s = substitute_pairs(s, not_digit, period_comma, U"", U" ", U" ");
  s = substitute_pairs(s, period_comma, not_digit, U" ", U" ", U"");
  s = substitute_pairs(s, is_digit, [](char32_t c) { return c == U'-'; }, U"", U" ", U" ");
  return s;
}

using NgramKey = metrics::uint128;  // up to four 32-bit token ids

std::vector<NgramKey> ngrams(const std::vector<std::uint32_t>& ids, int n) {
  std::vector<NgramKey> keys;
  if (static_cast<int>(ids.size()) < n) return keys;
  keys.reserve(ids.size() - static_cast<std::size_t>(n) + 1);
  for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= ids.size(); ++i) {
    NgramKey k = 0;
    for (int j = 0; j < n; ++j) k = (k << 32) | ids[i + static_cast<std::size_t>(j)];
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// sum over distinct n-grams of min(count in hyp, count in ref), both sorted.
std::int64_t clipped_matches(const std::vector<NgramKey>& hyp, const std::vector<NgramKey>& ref) {
  std::int64_t matched = 0;
  std::size_t i = 0, j = 0;
  while (i < hyp.size() && j < ref.size()) {
    if (hyp[i] < ref[j]) {
      ++i;
    } else if (ref[j] < hyp[i]) {
      ++j;
    } else {
      const NgramKey k = hyp[i];
      std::int64_t ch = 0, cr = 0;
      while (i < hyp.size() && hyp[i] == k) ++i, ++ch;
      while (j < ref.size() && ref[j] == k) ++j, ++cr;
      matched += std::min(ch, cr);
    }
  }
  return matched;
}

std::vector<std::uint32_t> token_ids(std::string_view text, Vocabulary& vocab) {
  const std::u32string tokenized = tokenize_13a(text);
  std::vector<std::uint32_t> ids;
  for (std::u32string_view t : split_python_whitespace(tokenized)) ids.push_back(vocab.id(t));
  return ids;
}

}  // namespace

std::vector<std::string> bleu_tokens(std::string_view text) {
  const std::u32string tokenized = tokenize_13a(text);
  std::vector<std::string> out;
  for (std::u32string_view t : split_python_whitespace(tokenized)) out.push_back(encode_utf8(t));
  return out;
}

BleuScore bleu_from_stats(const BleuStats& stats) {
  const std::size_t max_order = stats.correct.size();
  BleuScore s;
  s.stats = stats;
  s.precisions.assign(max_order, 0.0);
  if (stats.hyp_len < stats.ref_len)
    s.brevity_penalty = stats.hyp_len > 0 ? std::exp(1.0 - static_cast<double>(stats.ref_len) /
                                                               static_cast<double>(stats.hyp_len))
                                          : 0.0;
  if (std::none_of(stats.correct.begin(), stats.correct.end(), [](std::int64_t c) { return c != 0; })) {
    s.score = 0.0;
    return s;
  }
  double smooth_mteval = 1.0;
  for (std::size_t n = 0; n < max_order; ++n) {
    if (stats.total[n] == 0) break;
    if (stats.correct[n] == 0) {
      smooth_mteval *= 2;
      s.precisions[n] = 100.0 / (smooth_mteval * static_cast<double>(stats.total[n]));
    } else {
      s.precisions[n] = 100.0 * static_cast<double>(stats.correct[n]) / static_cast<double>(stats.total[n]);
    }
  }
  double log_sum = 0.0;  // sum([my_log(p) ...]): my_log(0) is -9999999999
  for (double p : s.precisions) log_sum += p == 0.0 ? -9999999999.0 : std::log(p);
  s.score = s.brevity_penalty * std::exp(log_sum / static_cast<double>(max_order));
  return s;
}

CorpusBleu corpus_bleu(const std::vector<std::string>& predictions, const std::vector<std::string>& references,
                       int max_order, std::size_t resamples, std::uint64_t seed) {
  CHEXGEN_ASSERT(predictions.size() == references.size(), "corpus_bleu: one reference per prediction");
  CHEXGEN_ASSERT(max_order >= 1 && max_order <= 4, "corpus_bleu: max_order in 1..4");
  CHEXGEN_ASSERT(!predictions.empty(), "corpus_bleu: no segments");
  const auto orders = static_cast<std::size_t>(max_order);
  Vocabulary vocab;
  CorpusBleu out;
  out.segments.reserve(predictions.size());
  BleuStats sum;
  sum.correct.assign(orders, 0);
  sum.total.assign(orders, 0);
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const std::vector<std::uint32_t> hyp = token_ids(predictions[i], vocab);
    const std::vector<std::uint32_t> ref = token_ids(references[i], vocab);
    BleuStats seg;
    seg.hyp_len = static_cast<std::int64_t>(hyp.size());
    seg.ref_len = static_cast<std::int64_t>(ref.size());
    seg.correct.assign(orders, 0);
    seg.total.assign(orders, 0);
    for (int n = 1; n <= max_order; ++n) {
      const std::vector<NgramKey> h = ngrams(hyp, n), r = ngrams(ref, n);
      seg.total[static_cast<std::size_t>(n - 1)] = static_cast<std::int64_t>(h.size());
      seg.correct[static_cast<std::size_t>(n - 1)] = clipped_matches(h, r);
    }
    sum.hyp_len += seg.hyp_len;
    sum.ref_len += seg.ref_len;
    for (std::size_t k = 0; k < orders; ++k) {
      sum.correct[k] += seg.correct[k];
      sum.total[k] += seg.total[k];
    }
    out.segments.push_back(std::move(seg));
  }
  out.corpus = bleu_from_stats(sum);
  if (resamples < 2) return out;

  // significance._bootstrap_resample: rng.choice(len, size=(B, len)) from default_rng(seed), row by row.
  BleuBootstrap boot;
  boot.resamples = resamples;
  boot.seed = seed;
  const std::size_t n = predictions.size();
  metrics::NumpyGenerator rng(seed);
  std::vector<double> scores(resamples);
  constexpr std::int64_t kFloat32Exact = std::int64_t{1} << 24;
  BleuStats s;
  for (std::size_t b = 0; b < resamples; ++b) {
    s.hyp_len = s.ref_len = 0;
    s.correct.assign(orders, 0);
    s.total.assign(orders, 0);
    for (std::size_t j = 0; j < n; ++j) {
      const BleuStats& seg = out.segments[rng.integer_below(n)];
      s.hyp_len += seg.hyp_len;
      s.ref_len += seg.ref_len;
      for (std::size_t k = 0; k < orders; ++k) {
        s.correct[k] += seg.correct[k];
        s.total[k] += seg.total[k];
      }
    }
    if (s.hyp_len >= kFloat32Exact || s.ref_len >= kFloat32Exact) boot.float32_exact = false;
    scores[b] = bleu_from_stats(s).score;
  }
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t lower_idx = resamples / 40, upper_idx = resamples - lower_idx - 1;
  boot.half_width = 0.5 * (sorted[upper_idx] - sorted[lower_idx]);
  boot.mean = metrics::python_exact_mean(sorted);
  boot.low = boot.mean - boot.half_width;
  boot.high = boot.mean + boot.half_width;
  out.bootstrap = boot;
  return out;
}

}  // namespace chexgen::rrg
