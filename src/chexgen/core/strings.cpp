#include "chexgen/core/strings.h"

#include "chexgen/core/error.h"

namespace chexgen {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  CHEXGEN_ASSERT(!from.empty(), "replace_all: empty pattern");
  std::size_t at = text.find(from);
  if (at == std::string::npos) return;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  for (; at != std::string::npos; at = text.find(from, i)) {
    out.append(text, i, at - i);
    out.append(to);
    i = at + from.size();
  }
  out.append(text, i, std::string::npos);
  text = std::move(out);
}

}  // namespace chexgen
