// JSON from untrusted sources (manifests, sidecars, server replies, our own files read back): one parser with bounds.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"

namespace chexgen {

// Deeper nesting than this is refused while parsing: nothing chexgen reads nests beyond a few levels, and a deeper
// document could exhaust the stack when it is later printed or compared.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text`; a syntax error, nesting deeper than kMaxJsonDepth, or a number too large for a double (1e999) is an
// InputError at `where` saying which.
nlohmann::json parse_json(std::string_view text, const Location& where);

// One line of a JSON Lines text: its 1-based number and its content without the "\n" or "\r\n" that ends it.
struct JsonLine {
  std::size_t number = 0;
  std::string_view text;
  bool blank() const { return text.find_first_not_of(" \t") == std::string_view::npos; }  // spaces and tabs only
};

// The lines of a JSON Lines text, blank ones included (the reader decides what a blank line means); no line after a
// final "\n".
std::vector<JsonLine> json_lines(std::string_view text);

// The same for text that is only shown when it is not JSON (a server's error reply): nullopt instead of an error.
std::optional<nlohmann::json> try_parse_json(std::string_view text);

// Text from outside (a server's reply, a file name) made safe to print on a terminal: control characters other than
// newline and tab, escape sequences included, become \xHH; invalid UTF-8 bytes too. At most `max_bytes` of the input
// are kept ("..." marks the cut).
std::string printable_text(std::string_view text, std::size_t max_bytes = 2000);

}  // namespace chexgen
