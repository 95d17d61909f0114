// Base64 (RFC 4648, standard alphabet, with padding), for images sent to and received from HTTP services.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chexgen {

std::string base64_encode(std::string_view bytes);

// Decodes standard base64; line breaks and other whitespace are ignored. Returns nullopt for anything that is not
// valid base64 (a character outside the alphabet, a length that is not a multiple of 4, misplaced padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace chexgen
