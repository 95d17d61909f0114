// Small string operations several stages need written one way.
#pragma once

#include <string>
#include <string_view>

namespace chexgen {

// Every occurrence of `from` (non-empty) in `text` replaced by `to`, left to right, without rescanning what was put
// in (Python's str.replace). `text` is left as it is, uncopied, when `from` does not occur.
void replace_all(std::string& text, std::string_view from, std::string_view to);

}  // namespace chexgen
