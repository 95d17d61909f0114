#include "test_support.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "chexgen/data/csv_table.h"
#include "chexgen/image/decode.h"
#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/preprocess.h"

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

ImageD nih_crop(const std::string& name, const nlohmann::json& crop) {
  const ImageD full = to_double(nih_image(name));
  const int x0 = crop[0], y0 = crop[1], w = crop[2], h = crop[3];
  ImageD out(w, h, 1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) out.at(x, y) = full.at(x0 + x, y0 + y);
  }
  return out;
}

NihPlane nih_original(const std::string& name) {
  NihPlane p;
  p.image = normalize(to_double(nih_image(name)), 100);
  p.levels = discretize(p.image, chexgenbench_mask(p.image.width, p.image.height), 5);
  return p;
}

nlohmann::json read_filter_golden(const std::string& name) {
  std::ifstream in(golden_dir() / "filters" / name);
  if (!in) throw std::runtime_error("cannot read golden file filters/" + name);
  return nlohmann::json::parse(in);
}

Discretized plane_from_levels(int width, int height, std::vector<std::int32_t> levels) {
  Discretized d;
  d.width = width;
  d.height = height;
  d.levels = std::move(levels);
  std::set<std::int32_t> present;
  for (std::int32_t g : d.levels) {
    if (g > 0) {
      present.insert(g);
      ++d.roi_count;
    }
  }
  d.present.assign(present.begin(), present.end());
  d.ng = d.present.empty() ? 0 : d.present.back();
  return d;
}

std::map<std::string, double> as_map(const FeatureClassValues& f) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < f.names.size(); ++i) out[std::string(f.names[i])] = f.values.at(i);
  return out;
}

IbsiReference ibsi_reference(const std::string& feature, const std::string& aggregation, const std::string& code) {
  static const CsvTable table = [] {
    ErrorReport errors;
    return read_csv_file(golden_dir() / "ibsi1_digital_phantom_reference.csv", errors);
  }();
  const CsvRecord* match = nullptr;
  for (const auto& r : table.records) {
    const std::string& row_code = r.fields[table.column("ibsi_code")];
    if (r.fields[table.column("feature")] != feature || r.fields[table.column("aggregation")] != aggregation ||
        !(row_code == code || row_code.empty()))
      continue;
    if (match) throw std::runtime_error("several IBSI reference rows for " + feature + " (" + aggregation + ")");
    match = &r;
  }
  if (!match) throw std::runtime_error("no IBSI reference row for " + feature + " (" + aggregation + ")");
  IbsiReference ref;
  ref.value = std::stod(match->fields[table.column("value")]);
  const std::string& tolerance = match->fields[table.column("tolerance")];
  if (!tolerance.empty())
    ref.tolerance = std::stod(tolerance);
  else if (ref.value == 0)
    ref.tolerance = 5e-4;
  else
    ref.tolerance = 0.5 * std::pow(10.0, std::floor(std::log10(std::fabs(ref.value))) - 2);
  return ref;
}

bool close(double a, double b, double rel, double abs) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  const double d = std::fabs(a - b);
  return d <= abs || d <= rel * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace chexgen::radiomics::testing
