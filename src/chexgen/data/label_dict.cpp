#include "chexgen/data/label_dict.h"

#include <charconv>

#include <fmt/format.h>

namespace chexgen {
namespace {

class DictParser {
 public:
  DictParser(std::string_view text, const Location& where) : text_(text), where_(where) {}

  std::vector<std::pair<std::string, LabelValue>> parse() {
    std::vector<std::pair<std::string, LabelValue>> out;
    skip_space();
    expect('{', "'{' at the start of the labels dict");
    skip_space();
    if (peek() == '}') {
      ++pos_;
    } else {
      while (true) {
        const std::size_t key_pos = pos_;
        std::string key = parse_string();
        skip_space();
        expect(':', "':' after the label name");
        skip_space();
        const LabelValue value = parse_value(key);
        for (const auto& [k, v] : out) {
          if (k == key) fail(key_pos, fmt::format("label '{}' appears twice", key));
        }
        out.emplace_back(std::move(key), value);
        skip_space();
        if (peek() == ',') {
          ++pos_;
          skip_space();
          if (peek() == '}') {
            ++pos_;
            break;
          }
          continue;
        }
        expect('}', "',' or '}' after a label value");
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail(pos_, "unexpected text after the closing '}'");
    return out;
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw InputError(where_, fmt::format("labels dict, character {}: {}", at + 1, what));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n'))
      ++pos_;
  }
  void expect(char c, const char* what) {
    if (at_end()) fail(pos_, fmt::format("expected {}, found the end of the text", what));
    if (text_[pos_] != c) fail(pos_, fmt::format("expected {}, found '{}'", what, text_[pos_]));
    ++pos_;
  }

  std::string parse_string() {
    if (at_end()) fail(pos_, "expected a quoted label name, found the end of the text");
    const char quote = text_[pos_];
    if (quote != '\'' && quote != '"') fail(pos_, fmt::format("expected a quoted label name, found '{}'", quote));
    const std::size_t start = pos_++;
    std::string out;
    while (true) {
      if (at_end()) fail(start, "label name is never closed by its quote");
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\n' || c == '\r') fail(pos_, "line break inside a label name");
      if (c == '\\') {
        const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
        if (next != '\\' && next != '\'' && next != '"')
          fail(pos_, "unsupported escape in a label name (only \\\\ \\' \\\")");
        out += next;
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
    if (out.empty()) fail(start, "empty label name");
    return out;
  }

  bool take_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t after = pos_ + word.size();
    if (after < text_.size()) {
      const char c = text_[after];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') return false;
    }
    pos_ = after;
    return true;
  }

  LabelValue parse_value(const std::string& key) {
    if (take_word("None") || take_word("nan")) return LabelValue::missing;
    const std::size_t start = pos_;
    std::size_t i = pos_;
    if (i < text_.size() && (text_[i] == '-' || text_[i] == '+')) ++i;
    const std::size_t int_start = i;
    while (i < text_.size() && text_[i] >= '0' && text_[i] <= '9') ++i;
    std::size_t n_digits = i - int_start;
    const bool has_point = i < text_.size() && text_[i] == '.';
    // Python rejects integer literals with leading zeros ("01"); so do we.
    if (!has_point && n_digits > 1 && text_[int_start] == '0') {
      fail(start, fmt::format("value {} of label '{}' has a leading zero", text_.substr(start, i - start), key));
    }
    if (has_point) {
      ++i;
      const std::size_t frac_start = i;
      while (i < text_.size() && text_[i] >= '0' && text_[i] <= '9') ++i;
      n_digits += i - frac_start;
    }
    if (n_digits == 0) {
      if (at_end()) fail(pos_, fmt::format("expected a value for label '{}', found the end of the text", key));
      fail(pos_,
           fmt::format("expected a value for label '{}' (1.0, 0.0, -1.0, None or nan), found '{}'", key, text_[pos_]));
    }
    std::string_view number = text_.substr(start, i - start);
    if (!number.empty() && number[0] == '+') number.remove_prefix(1);
    double x = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), x);
    std::optional<LabelValue> value;
    if (ec == std::errc() && end == number.data() + number.size()) value = label_value_from_number(x);
    if (!value) {
      fail(start, fmt::format("value {} of label '{}' is not one of 1.0, 0.0, -1.0, None, nan",
                              text_.substr(start, i - start), key));
    }
    pos_ = i;
    return *value;
  }

  std::string_view text_;
  const Location& where_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<std::pair<std::string, LabelValue>> parse_label_dict(std::string_view text, const Location& where) {
  return DictParser(text, where).parse();
}

std::string format_label_dict(const LabelSet& labels, std::span<const LabelValue> values) {
  CHEXGEN_ASSERT(values.size() == labels.size(), "one value per label");
  std::string out = "{";
  for (std::size_t k = 0; k < labels.size(); ++k) {
    if (k > 0) out += ", ";
    out += '\'';
    for (const char c : labels.name(k)) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    out += "': ";
    switch (values[k]) {
      case LabelValue::positive: out += "1.0"; break;
      case LabelValue::negative: out += "0.0"; break;
      case LabelValue::uncertain: out += "-1.0"; break;
      case LabelValue::missing: out += "None"; break;
    }
  }
  return out + "}";
}

nlohmann::ordered_json label_dict_json(const LabelSet& labels, std::span<const LabelValue> values) {
  CHEXGEN_ASSERT(values.size() == labels.size(), "one value per label");
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < labels.size(); ++k) {
    switch (values[k]) {
      case LabelValue::positive: out[labels.name(k)] = 1; break;
      case LabelValue::negative: out[labels.name(k)] = 0; break;
      case LabelValue::uncertain: out[labels.name(k)] = -1; break;
      case LabelValue::missing: out[labels.name(k)] = nullptr; break;
    }
  }
  return out;
}

}  // namespace chexgen
