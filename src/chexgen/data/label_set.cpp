#include "chexgen/data/label_set.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen {

std::string_view label_value_name(LabelValue v) {
  switch (v) {
    case LabelValue::missing: return "missing";
    case LabelValue::negative: return "negative";
    case LabelValue::positive: return "positive";
    case LabelValue::uncertain: return "uncertain";
  }
  CHEXGEN_ASSERT(false, "unknown LabelValue");
}

std::optional<LabelValue> label_value_from_number(double x) {
  if (x == 1.0) return LabelValue::positive;
  if (x == 0.0) return LabelValue::negative;  // also -0.0
  if (x == -1.0) return LabelValue::uncertain;
  return std::nullopt;
}

std::optional<LabelValue> parse_label_cell(std::string_view cell) {
  if (cell.empty()) return LabelValue::missing;
  // Integer or decimal form only: optional '-', digits, optional '.' and digits. No exponent, no spaces.
  std::size_t i = 0;
  if (cell[i] == '-') ++i;
  const std::size_t digits_start = i;
  while (i < cell.size() && cell[i] >= '0' && cell[i] <= '9') ++i;
  if (i == digits_start) return std::nullopt;
  if (i < cell.size() && cell[i] == '.') {
    ++i;
    while (i < cell.size() && cell[i] >= '0' && cell[i] <= '9') ++i;
  }
  if (i != cell.size()) return std::nullopt;
  double x = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), x);
  if (ec != std::errc() || end != cell.data() + cell.size()) return std::nullopt;
  return label_value_from_number(x);
}

LabelSet::LabelSet(std::vector<std::string> names) : names_(std::move(names)) {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i].empty()) throw UsageError(fmt::format("label set: label {} has an empty name", i + 1));
    for (std::size_t j = 0; j < i; ++j) {
      if (names_[j] == names_[i]) throw UsageError(fmt::format("label set: label '{}' is listed twice", names_[i]));
    }
  }
}

LabelSet LabelSet::chexpert14() {
  return LabelSet({"Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
                   "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
                   "Pneumothorax", "Support Devices"});
}

LabelSet LabelSet::nih15() {
  return LabelSet({"Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
                   "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia",
                   "No Finding"});
}

LabelSet LabelSet::preset(std::string_view name) {
  if (name == "chexpert") return chexpert14();
  if (name == "nih") return nih15();
  throw UsageError(fmt::format("unknown label set '{}' (known: chexpert, nih)", name));
}

std::optional<std::size_t> LabelSet::index(std::string_view name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names_.begin());
}

std::string LabelSet::joined() const { return fmt::format("{}", fmt::join(names_, ", ")); }

}  // namespace chexgen
