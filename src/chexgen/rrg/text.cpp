#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

unsigned char byte(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

}  // namespace

std::size_t python_space_at(std::string_view s, std::size_t i) {
  const unsigned char b = byte(s, i);
  if (b < 0x80) return (b == 0x20 || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F)) ? 1 : 0;
  const std::size_t left = s.size() - i;
  if (b == 0xC2 && left >= 2) return (byte(s, i + 1) == 0x85 || byte(s, i + 1) == 0xA0) ? 2 : 0;  // U+0085, U+00A0
  if (left < 3) return 0;
  const unsigned char b1 = byte(s, i + 1), b2 = byte(s, i + 2);
  if (b == 0xE1) return (b1 == 0x9A && b2 == 0x80) ? 3 : 0;  // U+1680
  if (b == 0xE2 && b1 == 0x80)  // U+2000-U+200A, U+2028, U+2029, U+202F
    return (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) ? 3 : 0;
  if (b == 0xE2 && b1 == 0x81) return b2 == 0x9F ? 3 : 0;    // U+205F
  if (b == 0xE3) return (b1 == 0x80 && b2 == 0x80) ? 3 : 0;  // U+3000
  return 0;
}

std::vector<std::string_view> split_python_whitespace(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t w = 0;
    while (i < text.size() && (w = python_space_at(text, i)) > 0) i += w;
    const std::size_t start = i;
    while (i < text.size() && python_space_at(text, i) == 0) ++i;  // continuation bytes are never spaces
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string_view rstrip_python_whitespace(std::string_view text) {
  // Walk forward, remembering where the last run of whitespace began (valid UTF-8 has no backward ambiguity, but
  // forward is the simplest exact rule).
  std::size_t end = 0, i = 0;
  while (i < text.size()) {
    const std::size_t w = python_space_at(text, i);
    if (w) {
      i += w;
    } else {
      ++i;
      end = i;
    }
  }
  // `end` is one past the last byte that is not whitespace: a multi-byte character ends there too, as its bytes
  // are all non-space.
  return text.substr(0, end);
}

std::uint32_t Vocabulary::id(std::string_view token) {
  if (auto it = ids_.find(token); it != ids_.end()) return it->second;
  const auto next = static_cast<std::uint32_t>(ids_.size());
  ids_.emplace(std::string(token), next);
  return next;
}

}  // namespace chexgen::rrg
