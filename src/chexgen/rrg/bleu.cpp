#include "chexgen/rrg/bleu.h"

#include <algorithm>
#include <cmath>

#include "chexgen/core/error.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/strings.h"
#include "chexgen/metrics/numpy_random.h"
#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_period_comma(char c) { return c == '.' || c == ','; }

// TokenizerRegexp's first pattern: [\{-\~\[-\` -\&\(-\+\:-\@\/], i.e. { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * +
// : ; < = > ? @ /.
bool is_split_punctuation(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

// re.sub of a two-character pattern with replacement `pre \1 mid \2 post`: leftmost, non-overlapping matches, as
// Python's re scans. On UTF-8 bytes this equals the scan over code points: both patterns here have an ASCII
// character on one side, and "not a digit" on the other matches the neighbouring byte of a multi-byte character
// exactly when it matches that character, with the rest of the character copied unchanged.
template <class First, class Second>
void substitute_pairs(const std::string& s, std::string& out, First first, Second second, std::string_view pre,
                      std::string_view mid, std::string_view post) {
  out.resize(s.size() * 2 + 2);  // a match of 2 characters becomes at most 4
  char* o = out.data();
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    if (i + 1 < n && first(s[i]) && second(s[i + 1])) {
      for (char c : pre) *o++ = c;
      *o++ = s[i];
      for (char c : mid) *o++ = c;
      *o++ = s[i + 1];
      for (char c : post) *o++ = c;
      i += 2;
    } else {
      *o++ = s[i++];
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
}

// Tokenizer13a(line.rstrip()) before its final split.
std::string tokenize_13a(std::string_view text) {
  std::string line(rstrip_python_whitespace(text));
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  std::string s(line.size() * 3 + 2, ' '), t;
  char* o = s.data() + 1;
  for (char c : line) {
    if (is_split_punctuation(c)) {
      *o++ = ' ';
      *o++ = c;
      *o++ = ' ';
    } else {
      *o++ = c;
    }
  }
  *o++ = ' ';
  s.resize(static_cast<std::size_t>(o - s.data()));
  auto not_digit = [](char c) { return !is_digit(c); };
  substitute_pairs(s, t, not_digit, is_period_comma, "", " ", " ");
  substitute_pairs(t, s, is_period_comma, not_digit, " ", " ", "");
  substitute_pairs(s, t, is_digit, [](char c) { return c == '-'; }, "", " ", " ");
  return t;
}

// An n-gram of up to four token ids as one integer: 16 bits per id while the vocabulary fits (the usual case, and
// the faster sort), else 32 bits in 128.
template <class Key, int Bits>
void sorted_ngrams(const std::vector<std::uint32_t>& ids, int n, std::vector<Key>& keys) {
  keys.clear();
  for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= ids.size(); ++i) {
    Key k = 0;
    for (int j = 0; j < n; ++j) k = (k << Bits) | ids[i + static_cast<std::size_t>(j)];
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
}

// The sum over distinct n-grams of min(count in hyp, count in ref), both sorted.
template <class Key>
std::int64_t clipped_matches(const std::vector<Key>& hyp, const std::vector<Key>& ref) {
  std::int64_t matched = 0;
  std::size_t i = 0, j = 0;
  while (i < hyp.size() && j < ref.size()) {
    if (hyp[i] < ref[j]) {
      ++i;
    } else if (ref[j] < hyp[i]) {
      ++j;
    } else {
      const Key k = hyp[i];
      std::int64_t ch = 0, cr = 0;
      while (i < hyp.size() && hyp[i] == k) ++i, ++ch;
      while (j < ref.size() && ref[j] == k) ++j, ++cr;
      matched += std::min(ch, cr);
    }
  }
  return matched;
}

template <class Key, int Bits>
void count_ngrams(const std::vector<std::uint32_t>& hyp, const std::vector<std::uint32_t>& ref, BleuStats& seg,
                  std::vector<Key>& h, std::vector<Key>& r) {
  for (std::size_t n = 1; n <= seg.correct.size(); ++n) {
    sorted_ngrams<Key, Bits>(hyp, static_cast<int>(n), h);
    sorted_ngrams<Key, Bits>(ref, static_cast<int>(n), r);
    seg.total[n - 1] = static_cast<std::int64_t>(h.size());
    seg.correct[n - 1] = clipped_matches(h, r);
  }
}

void token_ids(std::string_view text, Vocabulary& vocab, std::vector<std::uint32_t>& ids) {
  const std::string tokenized = tokenize_13a(text);
  ids.clear();
  for (std::string_view t : split_python_whitespace(tokenized)) ids.push_back(vocab.id(t));
}

}  // namespace

std::vector<std::string> bleu_tokens(std::string_view text) {
  const std::string tokenized = tokenize_13a(text);
  std::vector<std::string> out;
  for (std::string_view t : split_python_whitespace(tokenized)) out.emplace_back(t);
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

std::vector<BleuStats> bleu_segment_stats(const std::vector<std::string>& predictions,
                                          const std::vector<std::string>& references, int max_order, int threads) {
  CHEXGEN_ASSERT(predictions.size() == references.size(), "bleu_segment_stats: one reference per prediction");
  CHEXGEN_ASSERT(max_order >= 1 && max_order <= 4, "bleu_segment_stats: max_order in 1..4");
  const auto orders = static_cast<std::size_t>(max_order);
  std::vector<BleuStats> out(predictions.size());
  // Token ids are compared only within a pair, so each block of pairs interns its own.
  constexpr std::size_t kBlock = 128;
  const std::size_t blocks = (predictions.size() + kBlock - 1) / kBlock;
  parallel_for(blocks, threads, [&](std::size_t block) {
    Vocabulary vocab;
    std::vector<std::uint32_t> hyp, ref;
    std::vector<std::uint64_t> h16, r16;
    std::vector<metrics::uint128> h32, r32;
    const std::size_t end = std::min(predictions.size(), (block + 1) * kBlock);
    for (std::size_t i = block * kBlock; i < end; ++i) {
      token_ids(predictions[i], vocab, hyp);
      token_ids(references[i], vocab, ref);
      BleuStats& seg = out[i];
      seg.hyp_len = static_cast<std::int64_t>(hyp.size());
      seg.ref_len = static_cast<std::int64_t>(ref.size());
      seg.correct.assign(orders, 0);
      seg.total.assign(orders, 0);
      if (vocab.size() <= (std::size_t{1} << 16))
        count_ngrams<std::uint64_t, 16>(hyp, ref, seg, h16, r16);
      else
        count_ngrams<metrics::uint128, 32>(hyp, ref, seg, h32, r32);
    }
  });
  return out;
}

CorpusBleu corpus_bleu(const std::vector<BleuStats>& segments, int order, std::size_t resamples,
                       std::uint64_t seed) {
  CHEXGEN_ASSERT(!segments.empty(), "corpus_bleu: no segments");
  CHEXGEN_ASSERT(order >= 1 && static_cast<std::size_t>(order) <= segments.front().correct.size(),
                 "corpus_bleu: order beyond the statistics");
  const auto orders = static_cast<std::size_t>(order);
  const std::size_t n = segments.size();
  // Per segment, flat: hyp_len, ref_len, correct[0..order), total[0..order).
  const std::size_t width = 2 + 2 * orders;
  std::vector<std::int64_t> flat(n * width);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t* f = &flat[i * width];
    f[0] = segments[i].hyp_len;
    f[1] = segments[i].ref_len;
    for (std::size_t k = 0; k < orders; ++k) {
      f[2 + k] = segments[i].correct[k];
      f[2 + orders + k] = segments[i].total[k];
    }
  }
  auto score_of = [&](const std::vector<std::int64_t>& sum) {
    BleuStats s;
    s.hyp_len = sum[0];
    s.ref_len = sum[1];
    s.correct.assign(sum.begin() + 2, sum.begin() + 2 + static_cast<std::ptrdiff_t>(orders));
    s.total.assign(sum.begin() + 2 + static_cast<std::ptrdiff_t>(orders), sum.end());
    return bleu_from_stats(s);
  };
  std::vector<std::int64_t> sum(width, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < width; ++k) sum[k] += flat[i * width + k];
  CorpusBleu out;
  out.corpus = score_of(sum);
  if (resamples < 2) return out;

  // significance._bootstrap_resample: rng.choice(len, size=(B, len)) from default_rng(seed), row by row; each row's
  // statistics summed (sacrebleu sums float32 copies, exact while every sum stays below 2^24).
  BleuBootstrap boot;
  boot.resamples = resamples;
  boot.seed = seed;
  metrics::NumpyGenerator rng(seed);
  std::vector<std::size_t> idx(n);
  std::vector<double> scores(resamples);
  constexpr std::int64_t kFloat32Exact = std::int64_t{1} << 24;
  for (std::size_t b = 0; b < resamples; ++b) {
    rng.fill_below(n, idx);
    std::fill(sum.begin(), sum.end(), 0);
    for (std::size_t i : idx) {
      const std::int64_t* f = &flat[i * width];
      for (std::size_t k = 0; k < width; ++k) sum[k] += f[k];
    }
    if (sum[0] >= kFloat32Exact || sum[1] >= kFloat32Exact) boot.float32_exact = false;
    scores[b] = score_of(sum).score;
  }
  std::sort(scores.begin(), scores.end());
  const std::size_t lower_idx = resamples / 40, upper_idx = resamples - lower_idx - 1;
  boot.half_width = 0.5 * (scores[upper_idx] - scores[lower_idx]);
  boot.mean = metrics::python_exact_mean(scores);
  boot.low = boot.mean - boot.half_width;
  boot.high = boot.mean + boot.half_width;
  out.bootstrap = boot;
  return out;
}

}  // namespace chexgen::rrg
