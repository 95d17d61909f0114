#include "test_support.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "chexgen/data/csv_table.h"
#include "chexgen/image/decode.h"

namespace chexgen::radiomics::testing {

std::filesystem::path golden_dir() { return std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/golden/radiomics"; }

ImageD Phantom::slice_image(int z) const {
  ImageD out(nx, ny, 1);
  for (int i = 0; i < nx * ny; ++i) out.data[i] = image[static_cast<std::size_t>(z) * nx * ny + i];
  return out;
}

Mask Phantom::slice_mask(int z) const {
  Mask out(nx, ny, 1);
  for (int i = 0; i < nx * ny; ++i) out.data[i] = mask[static_cast<std::size_t>(z) * nx * ny + i];
  return out;
}

std::vector<double> Phantom::roi_values() const {
  std::vector<double> out;
  for (std::size_t i = 0; i < image.size(); ++i)
    if (mask[i]) out.push_back(image[i]);
  return out;
}

const Phantom& phantom() {
  static const Phantom p = [] {
    std::ifstream in(golden_dir() / "ibsi_phantom.json");
    if (!in) throw std::runtime_error("cannot read ibsi_phantom.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    Phantom out;
    out.nx = j["size"][0];
    out.ny = j["size"][1];
    out.nz = j["size"][2];
    out.image = j["image"].get<std::vector<double>>();
    for (int v : j["mask"]) out.mask.push_back(static_cast<std::uint8_t>(v != 0));
    return out;
  }();
  return p;
}

std::map<std::string, double> read_named_values(const std::filesystem::path& path) {
  ErrorReport errors;
  const CsvTable table = read_csv_file(path, errors);
  std::map<std::string, double> out;
  for (const auto& r : table.records) out[r.fields.at(0)] = std::stod(r.fields.at(1));
  return out;
}

double FeatureTable::value(std::size_t row, const std::string& column) const {
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == column) return rows.at(row).at(c);
  throw std::runtime_error("no column " + column);
}

FeatureTable read_feature_table(const std::filesystem::path& path) {
  ErrorReport errors;
  const CsvTable table = read_csv_file(path, errors);
  FeatureTable out;
  out.columns.assign(table.header.begin() + 1, table.header.end());
  for (const auto& r : table.records) {
    out.images.push_back(r.fields[0]);
    std::vector<double> row;
    for (std::size_t c = 1; c < r.fields.size(); ++c) row.push_back(std::stod(r.fields[c]));
    out.rows.push_back(std::move(row));
  }
  return out;
}

Image8 nih_image(const std::string& name) { return read_image_u8(golden_dir() / "nih24" / name, ColorMode::gray); }

bool close(double a, double b, double rel, double abs) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  const double d = std::fabs(a - b);
  return d <= abs || d <= rel * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace chexgen::radiomics::testing
