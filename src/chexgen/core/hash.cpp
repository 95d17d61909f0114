#include "chexgen/core/hash.h"

#include <openssl/evp.h>

#include "chexgen/core/error.h"

namespace chexgen {

Sha256 sha256(std::span<const std::uint8_t> bytes) {
  Sha256 digest{};
  unsigned int length = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  CHEXGEN_ASSERT(ok == 1 && length == digest.size(), "EVP_Digest(sha256) failed");
  return digest;
}

std::string to_hex(const Sha256& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(2 * digest.size(), '0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15];
  }
  return hex;
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) { return to_hex(sha256(bytes)); }

std::string sha256_hex(std::string_view bytes) {
  return sha256_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace chexgen
