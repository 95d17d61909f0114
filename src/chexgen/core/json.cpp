#include "chexgen/core/json.h"

#include <cmath>

#include <fmt/format.h>

#include "chexgen/core/utf8.h"

namespace chexgen {

namespace {

constexpr const char* kNumberTooLarge = "a JSON number too large for a double (such as 1e999)";

// Thrown from the parser callback to stop at the first offending value (nlohmann lets it through).
struct JsonBound {
  std::string reason;
};

nlohmann::json parse_bounded(std::string_view text) {
  const nlohmann::json::parser_callback_t check = [](int depth, nlohmann::json::parse_event_t event,
                                                      nlohmann::json& parsed) {
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth) {
      throw JsonBound{fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth)};
    }
    if (event == nlohmann::json::parse_event_t::value && parsed.is_number_float() &&
        !std::isfinite(parsed.get<double>())) {
      throw JsonBound{kNumberTooLarge};
    }
    return true;
  };
  return nlohmann::json::parse(text.begin(), text.end(), check);
}

}  // namespace

std::vector<JsonLine> json_lines(std::string_view text) {
  std::vector<JsonLine> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(JsonLine{lines.size() + 1, line});
    pos = end + 1;
  }
  return lines;
}

nlohmann::json parse_json(std::string_view text, const Location& where) {
  try {
    return parse_bounded(text);
  } catch (const JsonBound& e) {
    throw InputError(where, e.reason);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(where, fmt::format("not valid JSON (at byte {})", e.byte));
  } catch (const nlohmann::json::out_of_range&) {  // 406: a number beyond a double's range
    throw InputError(where, kNumberTooLarge);
  }
}

std::optional<nlohmann::json> try_parse_json(std::string_view text) {
  try {
    return parse_bounded(text);
  } catch (const JsonBound&) {
    return std::nullopt;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string printable_text(std::string_view text, std::size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
        out += fmt::format("\\x{:02x}", c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    const std::string_view seq = text.substr(i, len);
    // A valid sequence is kept unless it is a C1 control (U+0080..U+009F: C2 80..C2 9F), which some terminals obey.
    const bool c1 = seq.size() == 2 && c == 0xc2 && static_cast<unsigned char>(seq[1]) < 0xa0;
    if (len > 1 && seq.size() == len && !find_invalid_utf8(seq) && !c1) {
      out += seq;
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace chexgen
