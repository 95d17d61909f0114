// Radiomic feature vectors of whole radiographs, configured as PyRadiomics' feature extractor (docs/radiomics.md).
//
// An image goes through PyRadiomics' steps for a single-slice volume with spacing 1 mm: the ROI is every pixel but
// (0, 0) (CheXGenBench's mask); normalisation over the whole image; resampling to `resample_spacing` mm (cubic
// B-spline) or, without resampling, a crop to the ROI plus padDistance; then each image type (Original, the 2-D
// LoG images if asked for, the four level-1 wavelet bands), cropped to the ROI, discretised with a fixed bin width
// and passed to the enabled feature classes. The vector starts with PyRadiomics' numeric diagnostics.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/features/extract.h"
#include "chexgen/features/extractor.h"
#include "chexgen/image/image.h"
#include "chexgen/image/resize.h"

namespace chexgen::radiomics {

enum class FeatureClass { firstorder, glcm, glrlm, glszm, gldm, ngtdm };
std::string_view feature_class_name(FeatureClass c);  // PyRadiomics' names: "firstorder", "glcm", ...

struct RadiomicsConfig {
  std::string name;      // the preset it came from ("frd-v1", ...)
  int image_size = 512;  // images are resized to this square first; 0 keeps them as they are
  ResampleFilter resize_filter = ResampleFilter::lanczos;
  double normalize_scale = 100;            // normalize: true, normalizeScale; 0 turns normalisation off
  double resample_spacing = 2;             // resampledPixelSpacing (x and y, mm); 0 turns resampling off
  int pad_distance = 10;                   // padDistance
  double bin_width = 5;                    // binWidth
  double voxel_array_shift = 300;          // voxelArrayShift (first-order Energy, TotalEnergy, RMS)
  bool original = true;                    // the Original image type
  std::vector<double> log_sigmas;          // 2-D LoG image types, sigma in mm (opt-in; see the file comment)
  std::string wavelet = "coif1";           // the Wavelet image type's wavelet; empty turns it off
  std::vector<FeatureClass> classes;       // in output order
  std::vector<std::string> glcm_features;  // GLCM features in output order; empty = all 24 (alphabetical)

  // Everything that changes the numbers, as one canonical line (the feature store keys rows by it).
  std::string id() const;
  // Whether GLCM's MCC is among the features (it needs an eigenvalue problem per angle: only when asked for).
  bool computes_mcc() const;
};

// "frd-v1": CheXGenBench's FRD configuration (frd_v1/configs/2D_extraction.yaml). "full": every feature class
// (adds GLDM and the two GLCM features frd-v1 leaves out) and 2-D LoG images at sigma 2, 3, 4 and 5 mm on top
// of frd-v1. An unknown name is a UsageError listing these.
RadiomicsConfig radiomics_preset(std::string_view name);
std::vector<std::string> radiomics_preset_names();

class RadiomicsExtractor {
 public:
  explicit RadiomicsExtractor(RadiomicsConfig config);

  const RadiomicsConfig& config() const { return config_; }
  // Column names in output order, as PyRadiomics prints them ("diagnostics_Image-original_Mean",
  // "original_firstorder_10Percentile", "wavelet-LH_glcm_Contrast", ...).
  const std::vector<std::string>& columns() const { return columns_; }

  // The feature vector of an 8-bit gray image (Pillow 'L'), columns().size() values. Throws
  // std::invalid_argument for an image it cannot measure (smaller than 2x2, constant).
  std::vector<double> extract(const Image8& gray) const;

 private:
  RadiomicsConfig config_;
  std::vector<std::string> columns_;
};

// The extractor for features::extract_dataset_features (gray decoding, extract() on the worker threads), and as an
// evaluation uses it: preset radiomics, one output "radiomics" with every column, the configuration described.
features::ImageFeatureExtractor as_image_extractor(std::shared_ptr<const RadiomicsExtractor> extractor);
features::Extractor as_extractor(std::shared_ptr<const RadiomicsExtractor> extractor);

}  // namespace chexgen::radiomics
