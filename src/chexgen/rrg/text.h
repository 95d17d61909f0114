// Text as the reference scorers see it: Python str semantics on UTF-8 input (code points, str.isspace, str.split,
// str.rstrip), for the tokenizers of sacrebleu and rouge-score (docs/reports.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chexgen::rrg {

// The code points of valid UTF-8 text (the callers' text comes through the JSON parser, which checks it).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

// Python's str.isspace for one code point (Unicode White_Space as CPython defines it, \x1c-\x1f included).
bool is_python_space(char32_t c);

// str.split() and str.rstrip() without arguments.
std::vector<std::u32string_view> split_python_whitespace(std::u32string_view text);
std::u32string_view rstrip_python_whitespace(std::u32string_view text);

// Interns tokens as dense ids, so that n-grams and LCS compare integers.
class Vocabulary {
 public:
  std::uint32_t id(std::u32string_view token);
  std::size_t size() const { return ids_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::u32string_view s) const { return std::hash<std::u32string_view>{}(s); }
  };
  std::unordered_map<std::u32string, std::uint32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace chexgen::rrg
