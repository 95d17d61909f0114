#include "chexgen/radiomics/wavelet.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace chexgen::radiomics {
namespace {

struct WaveletFilter {
  std::string_view name;
  std::span<const double> low;  // pywt's dec_lo
};

// Decomposition low-pass filters, the published coefficients as pywt 1.1 tabulates them (Wavelet(name).dec_lo).
constexpr double kHaar[] = {0.7071067811865476, 0.7071067811865476};
constexpr double kDb2[] = {-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416};
constexpr double kDb3[] = {0.03522629188570953, -0.08544127388202666, -0.13501102001025458,
                           0.45987750211849154, 0.8068915093110925,   0.33267055295008263};
constexpr double kDb4[] = {-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
                           -0.027983769416859854, 0.6308807679298589, 0.7148465705529157,   0.2303778133088965};
constexpr double kSym2[] = {-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025};
constexpr double kSym3[] = {0.035226291882100656, -0.08544127388224149, -0.13501102001039084,
                            0.4598775021193313,   0.8068915093133388,   0.3326705529509569};
constexpr double kSym4[] = {-0.07576571478927333, -0.02963552764599851, 0.49761866763201545,   0.8037387518059161,
                            0.29785779560527736,  -0.09921954357684722, -0.012603967262037833, 0.0322231006040427};
constexpr double kCoif1[] = {-0.015655728135791993, -0.07273261951252645, 0.3848648468648578,
                             0.8525720202116004,    0.3378976624574818,   -0.07273261951252645};
constexpr double kCoif2[] = {-0.000720549445520347, -0.0018232088709110323, 0.005611434819368834, 0.02368017194684777,
                             -0.05943441864643109,  -0.07648859907828076,   0.4170051844232391,   0.8127236354494135,
                             0.3861100668227629,    -0.0673725547237256,    -0.04146493678687178, 0.01638733646320364};

constexpr std::array<WaveletFilter, 10> kFilters = {{
    {"haar", kHaar},
    {"db1", kHaar},
    {"db2", kDb2},
    {"db3", kDb3},
    {"db4", kDb4},
    {"sym2", kSym2},
    {"sym3", kSym3},
    {"sym4", kSym4},
    {"coif1", kCoif1},
    {"coif2", kCoif2},
}};

constexpr std::array<std::string_view, kFilters.size()> kNames = [] {
  std::array<std::string_view, kFilters.size()> names{};
  for (std::size_t i = 0; i < kFilters.size(); ++i) names[i] = kFilters[i].name;
  return names;
}();

const WaveletFilter& find_filter(std::string_view name) {
  for (const WaveletFilter& f : kFilters) {
    if (f.name == name) return f;
  }
  throw std::invalid_argument(fmt::format("unsupported wavelet '{}'; supported: {}", name, fmt::join(kNames, ", ")));
}

// The quadrature mirror of an orthogonal low-pass filter: high[k] = (-1)^(k+1) low[L-1-k] (pywt's dec_hi).
std::vector<double> high_pass(std::span<const double> low) {
  const std::size_t n = low.size();
  std::vector<double> high(n);
  for (std::size_t k = 0; k < n; ++k) high[k] = (k % 2 == 0 ? -1.0 : 1.0) * low[n - 1 - k];
  return high;
}

// pywt's periodic convolution (its downsampling_convolution_periodization with step 1) accumulates output o, at
// i = o + L/2, as sum_m f[m] * in[(i - m) mod n] with m ascending from 0 while i < n; for the last L/2 outputs
// (i >= n) it first takes the wrapped terms m = i - n, i - n - 1, ..., 0 and then m = i - n + 1, ..., L - 1. The
// bulk loops below sum in ascending order; this recomputes those last outputs in pywt's order, so that every value
// is bit-identical to pywt's. That matters: a detail band of a flat region is zero up to rounding, zero is a bin
// edge, and the rounding decides the bin (docs/radiomics.md, "Agreement with PyRadiomics").
template <class At>
double pywt_wrapped_output(std::span<const double> f, int i, int n, const At& at) {
  const int taps = static_cast<int>(f.size());
  auto index = [n](int k) { return ((k % n) + n) % n; };
  double sum = 0.0;
  for (int m = i - n; m >= 0; --m) sum += f[m] * at(index(i - m));
  for (int m = std::max(i - n + 1, 0); m < taps; ++m) sum += f[m] * at(index(i - m));
  return sum;
}

// One level of the undecimated periodic transform along x of every row of `in` (width n, `rows` rows):
// out[i] = sum_k f[k] in[(i + L/2 - k) mod n] for filters low and high.
void rows_low_high(const std::vector<double>& in, int n, int rows, std::span<const double> low,
                   std::span<const double> high, std::vector<double>& out_low, std::vector<double>& out_high) {
  const int taps = static_cast<int>(low.size());
  const int shift = taps / 2 - (taps - 1);  // ext[j] = row[(j + shift) mod n]
  std::vector<double> ext(static_cast<std::size_t>(n) + taps - 1);
  for (int r = 0; r < rows; ++r) {
    const double* row = &in[static_cast<std::size_t>(r) * n];
    for (std::size_t j = 0; j < ext.size(); ++j) {
      int i = (static_cast<int>(j) + shift) % n;
      if (i < 0) i += n;
      ext[j] = row[i];
    }
    double* lo = &out_low[static_cast<std::size_t>(r) * n];
    double* hi = &out_high[static_cast<std::size_t>(r) * n];
    std::fill(lo, lo + n, 0.0);
    std::fill(hi, hi + n, 0.0);
    for (int k = 0; k < taps; ++k) {
      const double fl = low[k];
      const double fh = high[k];
      const double* src = &ext[static_cast<std::size_t>(taps - 1 - k)];
      for (int i = 0; i < n; ++i) {
        lo[i] += fl * src[i];
        hi[i] += fh * src[i];
      }
    }
    const auto at = [row](int k) { return row[k]; };
    for (int o = std::max(n - taps / 2, 0); o < n; ++o) {
      lo[o] = pywt_wrapped_output(low, o + taps / 2, n, at);
      hi[o] = pywt_wrapped_output(high, o + taps / 2, n, at);
    }
  }
}

// The same along y (n rows of `width`), keeping only the first `keep` output rows.
void columns_low_high(const std::vector<double>& in, int n, int width, int keep, std::span<const double> low,
                      std::span<const double> high, double* out_low, double* out_high, int out_width) {
  const int taps = static_cast<int>(low.size());
  for (int i = 0; i < keep; ++i) {
    double* lo = out_low + static_cast<std::size_t>(i) * out_width;
    double* hi = out_high + static_cast<std::size_t>(i) * out_width;
    std::fill(lo, lo + out_width, 0.0);
    std::fill(hi, hi + out_width, 0.0);
    for (int k = 0; k < taps; ++k) {
      int src_row = (i + taps / 2 - k) % n;
      if (src_row < 0) src_row += n;
      const double* src = &in[static_cast<std::size_t>(src_row) * width];
      const double fl = low[k];
      const double fh = high[k];
      for (int x = 0; x < out_width; ++x) {
        lo[x] += fl * src[x];
        hi[x] += fh * src[x];
      }
    }
  }
  for (int o = std::max(n - taps / 2, 0); o < keep; ++o) {
    for (int x = 0; x < out_width; ++x) {
      const auto at = [&](int k) { return in[static_cast<std::size_t>(k) * width + x]; };
      out_low[static_cast<std::size_t>(o) * out_width + x] = pywt_wrapped_output(low, o + taps / 2, n, at);
      out_high[static_cast<std::size_t>(o) * out_width + x] = pywt_wrapped_output(high, o + taps / 2, n, at);
    }
  }
}

}  // namespace

std::span<const std::string_view> supported_wavelets() { return kNames; }

std::vector<WaveletBand> wavelet_bands(const ImageD& image, std::string_view wavelet) {
  const WaveletFilter& filter = find_filter(wavelet);
  if (image.channels != 1) throw std::invalid_argument("the wavelet filter needs a single-channel image");
  if (image.empty()) throw std::invalid_argument("the wavelet filter needs a non-empty image");
  const int w = image.width;
  const int h = image.height;
  // PyRadiomics pads odd sizes by one, wrapping around, so that pywt.swtn accepts them.
  const int pw = w + w % 2;
  const int ph = h + h % 2;
  std::vector<double> padded(static_cast<std::size_t>(pw) * ph);
  for (int y = 0; y < ph; ++y) {
    for (int x = 0; x < pw; ++x) padded[static_cast<std::size_t>(y) * pw + x] = image.at(x % w, y % h);
  }
  const std::span<const double> low = filter.low;
  const std::vector<double> high = high_pass(low);

  std::vector<double> low_x(padded.size());
  std::vector<double> high_x(padded.size());
  rows_low_high(padded, pw, ph, low, high, low_x, high_x);

  std::vector<WaveletBand> bands;
  for (const char* name : {"wavelet-LH", "wavelet-HL", "wavelet-HH", "wavelet-LL"}) {
    bands.push_back(WaveletBand{name, ImageD(w, h, 1)});
  }
  ImageD& lh = bands[0].image;
  ImageD& hl = bands[1].image;
  ImageD& hh = bands[2].image;
  ImageD& ll = bands[3].image;
  columns_low_high(low_x, ph, pw, h, low, high, ll.data.data(), lh.data.data(), w);
  columns_low_high(high_x, ph, pw, h, low, high, hl.data.data(), hh.data.data(), w);
  return bands;
}

}  // namespace chexgen::radiomics
