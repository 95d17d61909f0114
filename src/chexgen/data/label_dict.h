// A strict parser for the labels cell of CheXGenBench's real-image CSV: a Python dict literal such as
//   {'Atelectasis': 1.0, 'Cardiomegaly': None, 'Edema': -1.0, 'Fracture': nan}
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/data/label_set.h"

namespace chexgen {

// Grammar (whitespace = space, tab, CR, LF, allowed around every token):
//   dict   := '{' [ entry { ',' entry } [ ',' ] ] '}'
//   entry  := string ':' value
//   string := '...' or "..." ; escapes \\ \' \" only; no newline inside
//   value  := None | nan | number, number = ['+'|'-'] digits ['.' [digits]] | ['+'|'-'] '.' digits,
//             whose value is exactly 1, 0 or -1 (1 / 1.0 positive, 0 / 0.0 negative, -1 / -1.0 uncertain)
// None and nan mean missing. A key given twice is an error. Anything else throws InputError at
// `where` with a reason that names the character offset and what was expected.
std::vector<std::pair<std::string, LabelValue>> parse_label_dict(std::string_view text, const Location& where);

}  // namespace chexgen
