#include "chexgen/radiomics/extractor.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/firstorder.h"
#include "chexgen/radiomics/glcm.h"
#include "chexgen/radiomics/gldm.h"
#include "chexgen/radiomics/glrlm.h"
#include "chexgen/radiomics/glszm.h"
#include "chexgen/radiomics/log_filter.h"
#include "chexgen/radiomics/ngtdm.h"
#include "chexgen/radiomics/preprocess.h"
#include "chexgen/radiomics/resample.h"
#include "chexgen/radiomics/wavelet.h"

namespace chexgen::radiomics {
namespace {

// Bumped whenever a change in this library changes any number it produces (the store keys rows by id()).
constexpr int kEngineVersion = 1;
// Bumped when only MCC's numbers change (it is in the id only when computed, so other stored rows stay valid):
// 2 = the general eigenvalues of PyRadiomics' Q with its eps term (1 solved a symmetric problem without it).
constexpr int kMccVersion = 2;

std::span<const std::string_view> class_feature_names(FeatureClass c) {
  switch (c) {
    case FeatureClass::firstorder: return firstorder_feature_names();
    case FeatureClass::glcm: return glcm_feature_names();
    case FeatureClass::glrlm: return glrlm_feature_names();
    case FeatureClass::glszm: return glszm_feature_names();
    case FeatureClass::gldm: return gldm_feature_names();
    case FeatureClass::ngtdm: return ngtdm_feature_names();
  }
  return {};
}

// Number of 8-connected pieces of the ROI (PyRadiomics' VolumeNum: fully connected components; in 2-D, 8), by
// union-find over the runs of each row: a run joins every run of the row above that it touches, diagonals included.
int count_pieces(const Mask& mask) {
  struct Run {
    int first, last;
  };
  std::vector<Run> runs;
  std::vector<std::size_t> row_start;
  for (int y = 0; y < mask.height; ++y) {
    row_start.push_back(runs.size());
    const std::uint8_t* row = &mask.data[static_cast<std::size_t>(y) * mask.width];
    for (int x = 0; x < mask.width;) {
      if (!row[x]) {
        ++x;
        continue;
      }
      const int first = x;
      while (x < mask.width && row[x]) ++x;
      runs.push_back({first, x - 1});
    }
  }
  row_start.push_back(runs.size());
  std::vector<std::size_t> parent(runs.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  auto find = [&](std::size_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  std::size_t pieces = runs.size();
  for (int y = 1; y < mask.height; ++y) {
    std::size_t above = row_start[y - 1];
    for (std::size_t r = row_start[y]; r < row_start[y + 1]; ++r) {
      while (above < row_start[y] && runs[above].last < runs[r].first - 1) ++above;
      for (std::size_t a = above; a < row_start[y] && runs[a].first <= runs[r].last + 1; ++a) {
        const std::size_t ra = find(a), rr = find(r);
        if (ra != rr) {
          parent[ra] = rr;
          --pieces;
        }
      }
    }
  }
  return static_cast<int>(pieces);
}

struct Stats {
  double mean = 0, minimum = 0, maximum = 0;
  std::size_t count = 0;
};

// Mean, minimum and maximum of the image, over the ROI when a mask is given (numpy's mean: long double sum keeps
// it within an ulp of numpy's pairwise sum).
Stats image_stats(const ImageD& image, const Mask* mask) {
  Stats s;
  long double sum = 0;
  bool first = true;
  for (std::size_t i = 0; i < image.data.size(); ++i) {
    if (mask && !mask->data[i]) continue;
    const double v = image.data[i];
    sum += v;
    if (first) {
      s.minimum = s.maximum = v;
      first = false;
    } else {
      s.minimum = std::min(s.minimum, v);
      s.maximum = std::max(s.maximum, v);
    }
    ++s.count;
  }
  s.mean = s.count ? static_cast<double>(sum / s.count) : std::nan("");
  return s;
}

std::size_t roi_count(const Mask& mask) {
  return static_cast<std::size_t>(
      std::count_if(mask.data.begin(), mask.data.end(), [](std::uint8_t v) { return v != 0; }));
}

std::string format_number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string_view feature_class_name(FeatureClass c) {
  switch (c) {
    case FeatureClass::firstorder: return "firstorder";
    case FeatureClass::glcm: return "glcm";
    case FeatureClass::glrlm: return "glrlm";
    case FeatureClass::glszm: return "glszm";
    case FeatureClass::gldm: return "gldm";
    case FeatureClass::ngtdm: return "ngtdm";
  }
  return "";
}

std::string RadiomicsConfig::id() const {
  std::string classes_text;
  for (FeatureClass c : classes)
    classes_text += std::string(classes_text.empty() ? "" : ",") + std::string(feature_class_name(c));
  std::string sigmas;
  for (double s : log_sigmas) sigmas += (sigmas.empty() ? "" : ",") + format_number(s);
  std::string glcm;
  for (const auto& f : glcm_features) glcm += (glcm.empty() ? "" : ",") + f;
  return fmt::format(
      "chexgen-radiomics/{} size={} resize={} normalize={} spacing={} pad={} bin_width={} shift={} original={} "
      "log=[{}] wavelet={} classes=[{}] glcm=[{}] mask=all-but-origin{}",
      kEngineVersion, image_size, resample_filter_name(resize_filter), format_number(normalize_scale),
      format_number(resample_spacing), pad_distance, format_number(bin_width), format_number(voxel_array_shift),
      original ? 1 : 0, sigmas, wavelet.empty() ? "none" : wavelet, classes_text, glcm,
      computes_mcc() ? fmt::format(" mcc={}", kMccVersion) : std::string());
}

bool RadiomicsConfig::computes_mcc() const {
  return std::find(classes.begin(), classes.end(), FeatureClass::glcm) != classes.end() &&
         (glcm_features.empty() || std::find(glcm_features.begin(), glcm_features.end(), "MCC") != glcm_features.end());
}

std::vector<std::string> radiomics_preset_names() { return {"frd-v1", "full"}; }

RadiomicsConfig radiomics_preset(std::string_view name) {
  RadiomicsConfig c;
  c.name = std::string(name);
  c.classes = {FeatureClass::firstorder, FeatureClass::glcm, FeatureClass::glrlm, FeatureClass::glszm,
               FeatureClass::ngtdm};
  if (name == "frd-v1") {
    c.glcm_features = {"Autocorrelation",
                       "JointAverage",
                       "ClusterProminence",
                       "ClusterShade",
                       "ClusterTendency",
                       "Contrast",
                       "Correlation",
                       "DifferenceAverage",
                       "DifferenceEntropy",
                       "DifferenceVariance",
                       "JointEnergy",
                       "JointEntropy",
                       "Imc1",
                       "Imc2",
                       "Idm",
                       "Idmn",
                       "Id",
                       "Idn",
                       "InverseVariance",
                       "MaximumProbability",
                       "SumEntropy",
                       "SumSquares"};
    return c;
  }
  if (name == "full") {
    c.classes = {FeatureClass::firstorder, FeatureClass::glcm,  FeatureClass::gldm,
                 FeatureClass::glrlm,      FeatureClass::glszm, FeatureClass::ngtdm};  // PyRadiomics' order
    c.log_sigmas = {2, 3, 4, 5};
    return c;
  }
  std::string known;
  for (const auto& n : radiomics_preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw UsageError(fmt::format("unknown radiomics configuration '{}' (known: {})", name, known));
}

RadiomicsExtractor::RadiomicsExtractor(RadiomicsConfig config) : config_(std::move(config)) {
  if (config_.classes.empty()) throw UsageError("a radiomics configuration needs at least one feature class");
  if (!(config_.bin_width > 0)) throw UsageError("the bin width must be positive");
  if (config_.resample_spacing < 0) throw UsageError("the resampling spacing must be 0 (off) or positive");
  for (const auto& f : config_.glcm_features) {
    const auto names = glcm_feature_names();
    if (std::find(names.begin(), names.end(), f) == names.end())
      throw UsageError(fmt::format("unknown GLCM feature '{}'", f));
  }
  columns_ = {"diagnostics_Image-original_Mean", "diagnostics_Image-original_Minimum",
              "diagnostics_Image-original_Maximum", "diagnostics_Mask-original_VoxelNum",
              "diagnostics_Mask-original_VolumeNum"};
  if (config_.resample_spacing > 0) {
    for (const char* n : {"diagnostics_Image-interpolated_Mean", "diagnostics_Image-interpolated_Minimum",
                          "diagnostics_Image-interpolated_Maximum", "diagnostics_Mask-interpolated_VoxelNum",
                          "diagnostics_Mask-interpolated_VolumeNum", "diagnostics_Mask-interpolated_Mean",
                          "diagnostics_Mask-interpolated_Minimum", "diagnostics_Mask-interpolated_Maximum"})
      columns_.emplace_back(n);
  }
  std::vector<std::string> types;
  if (config_.original) types.emplace_back("original");
  for (double s : config_.log_sigmas) types.push_back(log_image_type_name(s));
  if (!config_.wavelet.empty())
    for (const char* band : {"wavelet-LH", "wavelet-HL", "wavelet-HH", "wavelet-LL"}) types.emplace_back(band);
  if (types.empty()) throw UsageError("a radiomics configuration needs at least one image type");
  for (const auto& type : types)
    for (FeatureClass c : config_.classes) {
      if (c == FeatureClass::glcm && !config_.glcm_features.empty()) {
        for (const auto& f : config_.glcm_features) columns_.push_back(fmt::format("{}_glcm_{}", type, f));
        continue;
      }
      for (std::string_view f : class_feature_names(c))
        columns_.push_back(fmt::format("{}_{}_{}", type, feature_class_name(c), f));
    }
}

std::vector<double> RadiomicsExtractor::extract(const Image8& input) const {
  if (input.channels != 1) throw std::invalid_argument("radiomics needs a gray (single-channel) image");
  const Image8 gray =
      config_.image_size > 0 && (input.width != config_.image_size || input.height != config_.image_size)
          ? resize(input, config_.image_size, config_.image_size, config_.resize_filter)
          : input;
  if (gray.width < 2 || gray.height < 2) throw std::invalid_argument("the image is smaller than 2x2 pixels");

  std::vector<double> out;
  out.reserve(columns_.size());
  const ImageD raw = to_double(gray);
  const Mask mask = chexgenbench_mask(gray.width, gray.height);
  const Stats original = image_stats(raw, nullptr);
  out.insert(out.end(), {original.mean, original.minimum, original.maximum, static_cast<double>(roi_count(mask)),
                         static_cast<double>(count_pieces(mask))});

  const ImageD normalised = config_.normalize_scale > 0 ? normalize(raw, config_.normalize_scale) : raw;
  Plane plane;
  double spacing = 1.0;
  if (config_.resample_spacing > 0) {
    plane = resample_like_pyradiomics(normalised, mask, config_.resample_spacing, config_.pad_distance);
    spacing = config_.resample_spacing;
    const Stats interpolated = image_stats(plane.image, nullptr);
    const Stats in_roi = image_stats(plane.image, &plane.mask);
    out.insert(out.end(),
               {interpolated.mean, interpolated.minimum, interpolated.maximum, static_cast<double>(in_roi.count),
                static_cast<double>(count_pieces(plane.mask)), in_roi.mean, in_roi.minimum, in_roi.maximum});
  } else {
    plane = crop_to_mask(normalised, mask, config_.pad_distance);
  }
  if (roi_count(plane.mask) == 0) throw std::invalid_argument("the region of interest is empty after resampling");

  FirstOrderSettings first_order;
  first_order.voxel_array_shift = config_.voxel_array_shift;
  first_order.voxel_volume = spacing * spacing;  // z spacing stays 1 mm

  // MCC needs an eigendecomposition per angle, more than everything else together: only when it is asked for.
  GlcmSettings glcm_settings;
  glcm_settings.compute_mcc = config_.computes_mcc();
  auto measure = [&](const ImageD& filtered) {
    const Plane roi = crop_to_mask(filtered, plane.mask, 0);
    const Discretized levels = discretize(roi.image, roi.mask, config_.bin_width);
    // One padded plane coded by rank for every texture class but GLCM (which pads its own way).
    std::optional<TexturePlane> ranks;
    const auto rank_plane = [&]() -> const TexturePlane& {
      if (!ranks) ranks = texture_plane(levels, LevelCoding::rank, "radiomics");
      return *ranks;
    };
    for (FeatureClass c : config_.classes) {
      FeatureClassValues values;
      switch (c) {
        case FeatureClass::firstorder: values = firstorder_features(roi.image, levels, first_order); break;
        case FeatureClass::glcm: values = glcm_features(levels, glcm_settings); break;
        case FeatureClass::glrlm: values = glrlm_features(rank_plane()); break;
        case FeatureClass::glszm: values = glszm_features(rank_plane()); break;
        case FeatureClass::gldm: values = gldm_features(rank_plane()); break;
        case FeatureClass::ngtdm: values = ngtdm_features(rank_plane()); break;
      }
      if (c == FeatureClass::glcm && !config_.glcm_features.empty()) {
        for (const auto& f : config_.glcm_features) {
          const auto it = std::find(values.names.begin(), values.names.end(), f);
          out.push_back(values.values[static_cast<std::size_t>(it - values.names.begin())]);
        }
      } else {
        out.insert(out.end(), values.values.begin(), values.values.end());
      }
    }
  };
  if (config_.original) measure(plane.image);
  for (double sigma : config_.log_sigmas) measure(laplacian_of_gaussian(plane.image, sigma, spacing));
  if (!config_.wavelet.empty())
    for (const WaveletBand& band : wavelet_bands(plane.image, config_.wavelet)) measure(band.image);
  CHEXGEN_ASSERT(out.size() == columns_.size(), "radiomics: feature vector and column list differ in length");
  return out;
}

features::ImageFeatureExtractor as_image_extractor(std::shared_ptr<const RadiomicsExtractor> extractor) {
  features::ImageFeatureExtractor e;
  e.id = extractor->config().id();
  e.columns = extractor->columns();
  e.color = ColorMode::gray;
  e.compute = [extractor](const Image8& image) { return extractor->extract(image); };
  return e;
}

features::Extractor as_extractor(std::shared_ptr<const RadiomicsExtractor> extractor) {
  features::Extractor x;
  x.rows = as_image_extractor(extractor);
  x.preset = features::ExtractorPreset::radiomics;
  x.name = "Radiomics";
  x.outputs = {{"radiomics", 0, extractor->columns().size()}};
  x.description = {{"configuration", extractor->config().name}, {"size", extractor->config().image_size}};
  return x;
}

}  // namespace chexgen::radiomics
