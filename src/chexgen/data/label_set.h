// The label model: a named, ordered set of findings and the four states a finding can be in.
// The set is data (CheXpert's 14, NIH's 15, or any list the user gives), never a fixed enum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chexgen {

// What a manifest says about one finding in one image. CheXpert convention:
// 1 = positive, 0 = negative, -1 = uncertain, blank/None/nan = missing (not mentioned).
enum class LabelValue : std::int8_t { missing, negative, positive, uncertain };

// "missing", "negative", "positive", "uncertain".
std::string_view label_value_name(LabelValue v);

// Parses one label cell of a one-column-per-label table: "1"/"1.0" positive, "0"/"0.0" negative,
// "-1"/"-1.0" uncertain, "" missing. Returns nullopt for anything else (the caller reports where).
std::optional<LabelValue> parse_label_cell(std::string_view cell);

// Maps a number to a label value: exactly 1, 0 (or -0) or -1; nullopt otherwise.
std::optional<LabelValue> label_value_from_number(double x);

// Ordered label names with index lookup. Names are unique and non-empty (UsageError otherwise).
class LabelSet {
 public:
  LabelSet() = default;
  explicit LabelSet(std::vector<std::string> names);

  // CheXGenBench's order: Atelectasis, Cardiomegaly, Consolidation, Edema, Enlarged Cardiomediastinum,
  // Fracture, Lung Lesion, Lung Opacity, No Finding, Pleural Effusion, Pleural Other, Pneumonia,
  // Pneumothorax, Support Devices.
  static LabelSet chexpert14();
  // NIH ChestX-ray14's 14 findings plus "No Finding", in the column order of the NIH labels.csv.
  static LabelSet nih15();
  // "chexpert" -> chexpert14(), "nih" -> nih15(); anything else is a UsageError.
  static LabelSet preset(std::string_view name);

  std::size_t size() const { return names_.size(); }
  bool empty() const { return names_.empty(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& name(std::size_t i) const { return names_.at(i); }
  std::optional<std::size_t> index(std::string_view name) const;
  // "a, b, c" (for messages).
  std::string joined() const;

 private:
  std::vector<std::string> names_;
};

}  // namespace chexgen
