// Content hashes, used to find duplicate images and (later) to key the feature store.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace chexgen {

using Sha256 = std::array<std::uint8_t, 32>;

// SHA-256 of a byte buffer, raw and as lower-case hex.
Sha256 sha256(std::span<const std::uint8_t> bytes);
std::string to_hex(const Sha256& digest);
std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);  // of the string's bytes

}  // namespace chexgen
