// UTF-8 checks for text from outside: manifests, file names, server replies.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace chexgen {

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates, code points above
// U+10FFFF and truncated sequences are invalid, per RFC 3629), or nullopt if `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Number of code points in valid UTF-8 text (bytes that are not continuation bytes).
std::size_t count_code_points(std::string_view text);

}  // namespace chexgen
