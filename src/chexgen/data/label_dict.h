// A strict parser for the labels cell of CheXGenBench's real-image CSV: a Python dict literal such as
//   {'Atelectasis': 1.0, 'Cardiomegaly': None, 'Edema': -1.0, 'Fracture': nan}
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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

// The inverse, for the CSVs chexgen writes in CheXGenBench's shape: {'Atelectasis': 1.0, 'Cardiomegaly': None, ...}
// in the label set's order; positive 1.0, negative 0.0, uncertain -1.0, missing None (so that Python's
// ast.literal_eval reads it too). Names are quoted with ' and their backslashes and quotes escaped.
std::string format_label_dict(const LabelSet& labels, std::span<const LabelValue> values);

// The same labels as a JSON object in the label set's order: 1, 0, -1, null (the labels_dict of a metadata.jsonl
// written without a policy; the JSONL manifest reader reads it back).
nlohmann::ordered_json label_dict_json(const LabelSet& labels, std::span<const LabelValue> values);

}  // namespace chexgen
