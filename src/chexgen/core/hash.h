// Content hashes, used to find duplicate images and (later) to key the feature store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace chexgen {

// Lower-case hex SHA-256 of a byte buffer.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

// Reads a whole file; an unreadable or missing file is an InputError naming the path.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace chexgen
