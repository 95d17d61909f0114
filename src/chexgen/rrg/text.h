// Text as the reference scorers see it, on UTF-8 bytes: Python's str.split() and str.rstrip() (str.isspace's
// whitespace, \x1c-\x1f and the Unicode spaces included), and token interning (docs/reports.md). The tokenizers of
// sacrebleu and rouge-score only ever compare ASCII characters or "anything else", so they work on bytes without
// decoding: a multi-byte character is never split, since none of its bytes is ASCII.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chexgen::rrg {

// The length in bytes of the whitespace character (str.isspace) starting at text[i], or 0.
std::size_t python_space_at(std::string_view text, std::size_t i);

// str.split() and str.rstrip() without arguments, on valid UTF-8.
std::vector<std::string_view> split_python_whitespace(std::string_view text);
std::string_view rstrip_python_whitespace(std::string_view text);

// Interns tokens as dense ids, so that n-grams and LCS compare integers.
class Vocabulary {
 public:
  std::uint32_t id(std::string_view token);
  std::size_t size() const { return ids_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace chexgen::rrg
