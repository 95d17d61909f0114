// Shared fixtures for the radiomics tests: the IBSI phantom, PyRadiomics' golden tables, the 24 NIH images.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

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

// |a - b| <= rel * max(|a|, |b|) or |a - b| <= abs.
bool close(double a, double b, double rel, double abs);

}  // namespace chexgen::radiomics::testing
