// The grades of SynthCheX-75K's quality filter, and the reading of a vision-language model's free-text reply into
// one of them. A reply that does not name exactly one grade is never guessed: the caller retries it once and then
// records it as unparsed, with the reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chexgen {

enum class Grade { high_quality, medium_quality, low_quality, not_relevant };

// "High Quality", "Medium Quality", "Low Quality", "Not Relevant": the dataset card's spelling.
std::string_view grade_name(Grade g);
// The inverse, exact spelling, case-insensitive; nullopt otherwise.
std::optional<Grade> grade_from_name(std::string_view name);

// The four grades in the card's order.
const std::vector<Grade>& all_grades();
// "High Quality, Medium Quality" (for messages and the dataset card).
std::string grade_list_text(const std::vector<Grade>& grades);
// A comma-separated list of grade names (any case, spaces around names ignored), as --keep takes it. An unknown
// name, a name given twice or an empty list is a UsageError listing the grades.
std::vector<Grade> parse_grade_list(std::string_view text);
// What a filtered image's `quality` cell may hold: the four grade names in order, then "unparsed" and "error".
const std::vector<std::string>& quality_names();

// Reads a model's reply. Robust to case, punctuation, quotes, markdown emphasis, surrounding words ("The image is of
// high quality."), a leading label ("Answer: Low Quality"), and the model restating the options before or after
// its answer ("Options: 'High Quality', 'Medium Quality', or 'Low Quality'. Answer: Medium Quality"). Returns
// nullopt when the reply names no grade, or names more than one and nothing says which is the answer.
std::optional<Grade> parse_grade_reply(std::string_view reply);

}  // namespace chexgen
