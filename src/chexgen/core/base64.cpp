#include "chexgen/core/base64.h"

#include <cstddef>

#include <openssl/evp.h>

namespace chexgen {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) return out;
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

namespace {
bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (const char c : text) {
    if (!is_space(c)) clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    if (c == '=') {
      // Padding only in the last two places, and nothing but padding after it.
      if (i + 2 < clean.size()) return std::nullopt;
      ++padding;
    } else if (!in_alphabet(c) || padding > 0) {
      return std::nullopt;
    }
  }
  std::string out(3 * (clean.size() / 4), '\0');
  if (clean.empty()) return out;
  // EVP_DecodeBlock does not strip padding: it decodes '=' as zero bits, so the padded bytes are cut off here.
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace chexgen
