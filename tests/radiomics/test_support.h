// Shared fixtures for the radiomics tests: the IBSI phantom, PyRadiomics' golden tables, the 24 NIH images.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/image/image.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics::testing {

std::filesystem::path golden_dir();  // tests/golden/radiomics

// The IBSI digital phantom: 5x4x4 voxels, x fastest.
struct Phantom {
  int nx = 0, ny = 0, nz = 0;
  std::vector<double> image;
  std::vector<std::uint8_t> mask;
  ImageD slice_image(int z) const;  // nx x ny plane
  Mask slice_mask(int z) const;
  std::vector<double> roi_values() const;  // every voxel inside the mask, x fastest
};
const Phantom& phantom();

// Two-column CSV of "<name>,<value>" after a header line (pyradiomics_ibsi_phantom_2d_per_slice_avg.csv).
std::map<std::string, double> read_named_values(const std::filesystem::path& path);

// A feature table: header (first column "image"), one row per image.
struct FeatureTable {
  std::vector<std::string> columns;  // without the leading "image" column
  std::vector<std::string> images;
  std::vector<std::vector<double>> rows;
  double value(std::size_t row, const std::string& column) const;  // throws if the column is missing
};
FeatureTable read_feature_table(const std::filesystem::path& path);

// One of the 24 NIH images (tests/golden/radiomics/nih24/<name>) as 8-bit gray.
Image8 nih_image(const std::string& name);

// A rectangle of a NIH image as doubles; crop = [x0, y0, width, height] (the filter goldens' crops).
ImageD nih_crop(const std::string& name, const nlohmann::json& crop);

// A NIH image as CheXGenBench's Original image type without resampling sees it: normalised (scale 100), the ROI
// every pixel but (0, 0), discretised with bin width 5.
struct NihPlane {
  ImageD image;
  Discretized levels;
};
NihPlane nih_original(const std::string& name);

// tests/golden/radiomics/filters/<name> (written by tests/fixtures/make_radiomics_filter_golden.py).
nlohmann::json read_filter_golden(const std::string& name);

// A Discretized plane from levels (0 = outside the ROI), with present / ng / roi_count as discretize() fills them.
Discretized plane_from_levels(int width, int height, std::vector<std::int32_t> levels);

// A feature class's values by name.
std::map<std::string, double> as_map(const FeatureClassValues& f);

// The IBSI 1 reference value of the digital phantom (ibsi1_digital_phantom_reference.csv) for a feature name,
// aggregation and code as pyradiomics_vs_ibsi_digital_phantom_2d.csv names them (the table leaves some codes empty,
// e.g. GLSZM's: such a row matches any code), with its tolerance: the table's where it gives one, else half a unit of
// the third significant digit to which the manual prints the value. Throws unless exactly one row matches.
struct IbsiReference {
  double value = 0;
  double tolerance = 0;
};
IbsiReference ibsi_reference(const std::string& feature, const std::string& aggregation, const std::string& code);

// |a - b| <= rel * max(|a|, |b|) or |a - b| <= abs.
bool close(double a, double b, double rel, double abs);

}  // namespace chexgen::radiomics::testing
