// Reading a vision-language model's free-text reply into one of the four grades.
//
// The reply is lower-cased and cut into words (runs of ASCII letters and digits); everything else, non-ASCII bytes
// included, separates words, and the separators are kept to find clause and sentence ends. Then:
//  1. Mentions: "high|medium|low quality" (also "high-quality", "HIGH QUALITY!!", "highquality"), and Not Relevant
//     as "not relevant", "isn't relevant", "not at all relevant", "irrelevant", "non-relevant" ("not relevant to
//     the description" is therefore Not Relevant: the meta-prompt tells the model to answer exactly that when the
//     image does not fit its description). "relevant" alone is no grade. A bare "High" / "Medium" / "Low" counts
//     only when it is the whole reply.
//  2. Mentions that do not assert a grade are set aside:
//     - negated: "not", "n't", "no", "never", "neither", "nor", "cannot", "without", "than", "rather", "instead of"
//       within the 6 words before it, in the same clause (clauses end at , ; : . ! ? ( ) [ ] and at "but",
//       "however", "although", "though", "whereas", "yet");
//     - conditional: "if", "unless", "whether" earlier in the same clause ("If it were sharper it would be High
//       Quality, but ...");
//     - instructions: "respond with" / "reply with" / "answer with" used as an imperative earlier in the clause
//       (the model echoing the meta-prompt: "... respond with 'Not Relevant'");
//     - questions: the mention's sentence ends with '?';
//     - option lists: two or more mentions of different grades separated only by punctuation (not a sentence end),
//       "or", "and", "either", enumerators ("1.", "b)") — the model restating the options — and hedges such as
//       "medium-to-high quality" or "low/medium quality".
//  3. An answer marker ("answer", "classification", "classify/classified ... as", "grade", "rating", "verdict",
//     ...) designates the first asserted mention after it in the same sentence (within 12 words). If the
//     designated mentions name exactly one grade, that is the answer; several different ones: ambiguous.
//  4. Otherwise the asserted mentions must all name the same grade; none, or different ones: ambiguous (nullopt).
// The rules lean towards nullopt: an unparsed reply costs one more request, a wrong grade corrupts the dataset.
#include "chexgen/curation/grade.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen {

namespace {

constexpr std::array<std::string_view, 4> kNames = {"High Quality", "Medium Quality", "Low Quality", "Not Relevant"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

template <std::size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& words) {
  for (std::string_view w : words) {
    if (word == w) return true;
  }
  return false;
}

std::optional<Grade> level_grade(std::string_view word) {
  if (word == "high") return Grade::high_quality;
  if (word == "medium") return Grade::medium_quality;
  if (word == "low") return Grade::low_quality;
  return std::nullopt;
}

constexpr std::array<std::string_view, 9> kNegators = {"not",    "no",      "never", "neither", "nor",
                                                       "cannot", "without", "than",  "rather"};
constexpr std::array<std::string_view, 6> kClauseWords = {"but", "however", "although", "though", "whereas", "yet"};
constexpr std::array<std::string_view, 3> kConditionals = {"if", "unless", "whether"};
constexpr std::array<std::string_view, 5> kNotFillers = {"at", "all", "really", "entirely", "even"};
constexpr std::array<std::string_view, 23> kMarkers = {
    "answer",     "answers",  "classification", "classifications", "classify", "classified", "classifying", "grade",
    "graded",     "grading",  "rating",         "rated",           "rate",     "verdict",    "assessment",  "assessed",
    "conclusion", "category", "label",          "result",          "decision", "output",     "response"};

struct Word {
  std::string text;       // lower case
  std::size_t begin = 0;  // byte offsets in the reply
  std::size_t end = 0;
};

struct Mention {
  Grade grade;
  std::size_t first = 0;  // word indices, inclusive
  std::size_t last = 0;
  bool asserted = true;  // not negated, conditional, an instruction or a question
  bool listed = false;   // part of an option list or a hedge
};

class ReplyReader {
 public:
  explicit ReplyReader(std::string_view reply) : reply_(reply) {
    std::size_t i = 0;
    while (i < reply.size()) {
      if (!is_word_char(reply[i])) {
        ++i;
        continue;
      }
      Word w;
      w.begin = i;
      while (i < reply.size() && is_word_char(reply[i])) w.text.push_back(lower(reply[i++]));
      w.end = i;
      words_.push_back(std::move(w));
    }
    consumed_.assign(words_.size(), false);
    sentence_end_.resize(words_.size() + 1);
    clause_break_.resize(words_.size() + 1);
    for (std::size_t k = 0; k <= words_.size(); ++k) {
      sentence_end_[k] = find_sentence_end(k);
      clause_break_[k] = sentence_end_[k] != 0 || gap_has(k, ",;:()[]");
    }
    // The terminator of the sentence each word is in ('.', '!', '?', or 0 for an unterminated last sentence).
    terminator_.resize(words_.size());
    char next = sentence_end_[words_.size()];
    for (std::size_t k = words_.size(); k-- > 0;) {
      terminator_[k] = next;
      if (sentence_end_[k] != 0) next = sentence_end_[k];
    }
  }

  std::optional<Grade> read() {
    if (words_.empty()) return std::nullopt;
    find_mentions();
    if (mentions_.empty()) {
      // A reply that is one bare level word answers the question ("High"), nothing else does.
      if (words_.size() == 1) return level_grade(words_[0].text);
      return std::nullopt;
    }
    std::sort(mentions_.begin(), mentions_.end(), [](const Mention& a, const Mention& b) {
      return a.first != b.first ? a.first < b.first : a.last < b.last;  // a hedge's two grades share their end
    });
    for (Mention& m : mentions_) m.asserted = asserted(m);
    mark_lists();

    std::set<Grade> designated;
    for (std::size_t t = 0; t < words_.size(); ++t) {
      if (consumed_[t] || !one_of(words_[t].text, kMarkers)) continue;
      if (const Mention* m = designated_by(t)) designated.insert(m->grade);
    }
    if (designated.size() == 1) return *designated.begin();
    if (designated.size() > 1) return std::nullopt;

    std::set<Grade> named;
    for (const Mention& m : mentions_) {
      if (m.asserted && !m.listed) named.insert(m.grade);
    }
    if (named.size() == 1) return *named.begin();
    return std::nullopt;
  }

 private:
  // The separator text between word i-1 and word i (i == 0: before the first word; i == size: after the last).
  std::string_view gap_before(std::size_t i) const {
    const std::size_t from = i == 0 ? 0 : words_[i - 1].end;
    const std::size_t to = i == words_.size() ? reply_.size() : words_[i].begin;
    return reply_.substr(from, to - from);
  }

  // The sentence terminator in the gap before word i, or 0. A '.' right after a number or a single letter is an
  // enumerator ("1. High Quality"), not the end of a sentence.
  char find_sentence_end(std::size_t i) const {
    const std::string_view gap = gap_before(i);
    for (std::size_t k = 0; k < gap.size(); ++k) {
      const char c = gap[k];
      if (c == '!' || c == '?') return c;
      if (c == '.') {
        const bool enumerator = k == 0 && i > 0 && (is_digits(words_[i - 1].text) || words_[i - 1].text.size() == 1);
        const bool inside = k + 1 < gap.size() && gap[k + 1] == '.';  // "..." ends the sentence at its last dot
        if (!enumerator && !inside) return c;
      }
    }
    return 0;
  }

  bool gap_has(std::size_t i, std::string_view chars) const {
    return gap_before(i).find_first_of(chars) != std::string_view::npos;
  }

  char sentence_end_before(std::size_t i) const { return sentence_end_[i]; }
  bool clause_break_before(std::size_t i) const { return clause_break_[i]; }

  bool is_negator(std::size_t k) const {
    if (consumed_[k]) return false;
    const std::string& w = words_[k].text;
    if (one_of(w, kNegators)) return true;
    // "isn't", "don't", "can't" split into "isn" + "t" (the apostrophe separates words).
    if (w == "t" && k > 0 && !words_[k - 1].text.empty() && words_[k - 1].text.back() == 'n') return true;
    return w == "instead" && k + 1 < words_.size() && words_[k + 1].text == "of";
  }

  // Word j starts a negation of "relevant": "not", or the "t" of "isn't"/"doesn't".
  bool starts_not(std::size_t j) const {
    const std::string& w = words_[j].text;
    return w == "not" || (w == "t" && j > 0 && !words_[j - 1].text.empty() && words_[j - 1].text.back() == 'n');
  }

  void add(Grade g, std::size_t first, std::size_t last) { mentions_.push_back({g, first, last}); }

  void find_mentions() {
    const std::size_t n = words_.size();
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& w = words_[i].text;
      if (w == "highquality")
        add(Grade::high_quality, i, i);
      else if (w == "mediumquality")
        add(Grade::medium_quality, i, i);
      else if (w == "lowquality")
        add(Grade::low_quality, i, i);
      else if (w == "irrelevant" || w == "nonrelevant" || w == "notrelevant")
        add(Grade::not_relevant, i, i);
      else if (w == "non" && i + 1 < n && words_[i + 1].text == "relevant") {
        add(Grade::not_relevant, i, i + 1);
        ++i;
      } else if (starts_not(i)) {
        std::size_t j = i + 1;
        while (j < n && j <= i + 2 && one_of(words_[j].text, kNotFillers)) ++j;
        if (j < n && words_[j].text == "relevant") {
          add(Grade::not_relevant, i, j);
          for (std::size_t k = i; k <= j; ++k) consumed_[k] = true;  // this "not" negates nothing else
          i = j;
        }
      } else if (auto g = level_grade(w); g && i + 1 < n && words_[i + 1].text == "quality") {
        add(*g, i, i + 1);
        add_hedge(i);
        ++i;
      }
    }
  }

  // "medium-high quality", "medium to high quality", "low/medium quality", "high or medium quality": the level
  // word before the mention's own is a second grade in the same breath; both become a hedge (listed).
  void add_hedge(std::size_t level) {
    if (level == 0) return;
    std::size_t other = level - 1;
    if (one_of(words_[other].text, std::array<std::string_view, 3>{"to", "or", "and"}) && other > 0) --other;
    const auto g = level_grade(words_[other].text);
    if (!g) return;
    for (std::size_t k = other + 1; k <= level; ++k) {
      if (clause_break_before(k)) return;
    }
    Mention& own = mentions_.back();
    own.listed = true;
    Mention second{*g, other, own.last};
    second.listed = true;
    mentions_.push_back(second);
  }

  bool asserted(const Mention& m) const {
    // Negators in the 6 words before, conditionals and imperatives in the 40 before, within the clause.
    for (std::size_t k = m.first; k > 0 && m.first - k < 40;) {
      if (clause_break_before(k)) break;
      --k;
      const std::string& w = words_[k].text;
      if (one_of(w, kClauseWords)) break;
      if (m.first - k <= 6 && is_negator(k)) return false;
      if (one_of(w, kConditionals)) return false;
      if ((w == "respond" || w == "reply" || w == "answer") && k + 1 < m.first && words_[k + 1].text == "with" &&
          imperative(k)) {
        return false;
      }
    }
    // A question: the sentence holding the mention ends with '?'.
    return terminator_[m.last] != '?';
  }

  // "respond with ..." as an instruction: at the start of a clause, or after "please", "should", "must", "to".
  bool imperative(std::size_t verb) const {
    if (verb == 0 || clause_break_before(verb)) return true;
    const std::string& before = words_[verb - 1].text;
    return before == "please" || before == "should" || before == "must" || before == "to";
  }

  // Words allowed between the items of an option list.
  bool list_word(std::size_t k) const {
    const std::string& w = words_[k].text;
    return w == "or" || w == "and" || w == "either" || is_digits(w) || (w.size() == 1 && w[0] >= 'a' && w[0] <= 'e');
  }

  // Runs of mentions (in reading order) linked by list separators; a run naming two grades or more is a list.
  void mark_lists() {
    std::size_t run_start = 0;
    for (std::size_t r = 1; r <= mentions_.size(); ++r) {
      if (r < mentions_.size() && linked(mentions_[r - 1], mentions_[r])) continue;
      std::set<Grade> grades;
      for (std::size_t k = run_start; k < r; ++k) grades.insert(mentions_[k].grade);
      if (grades.size() >= 2) {
        for (std::size_t k = run_start; k < r; ++k) mentions_[k].listed = true;
      }
      run_start = r;
    }
  }

  // Two mentions in a row with only list separators between them.
  bool linked(const Mention& a, const Mention& b) const {
    if (b.first <= a.last) return b.first >= a.first;  // a hedge's two grades
    for (std::size_t k = a.last + 1; k <= b.first; ++k) {
      if (sentence_end_before(k) != 0 || gap_has(k, ":;")) return false;  // "Options: A, B, C: B" ends at ":"
      if (k < b.first && !list_word(k)) return false;
    }
    return true;
  }

  // The mention an answer marker at word t points at: the first asserted one after it in the same sentence and
  // within 12 words; none if that one is part of an option list.
  const Mention* designated_by(std::size_t t) const {
    auto it = std::upper_bound(mentions_.begin(), mentions_.end(), t,
                               [](std::size_t word, const Mention& m) { return word < m.first; });
    while (it != mentions_.end() && it->first - t <= 12 && !it->asserted) ++it;
    if (it == mentions_.end() || it->first - t > 12) return nullptr;
    const Mention* best = &*it;
    for (std::size_t k = t + 1; k <= best->first; ++k) {
      if (sentence_end_before(k) != 0) return nullptr;
    }
    return best->listed ? nullptr : best;
  }

  std::string_view reply_;
  std::vector<Word> words_;
  std::vector<bool> consumed_;      // words that belong to a "not relevant" mention
  std::vector<char> sentence_end_;  // [k]: the sentence terminator in the gap before word k, or 0
  std::vector<bool> clause_break_;  // [k]: the gap before word k ends a clause
  std::vector<char> terminator_;    // [k]: how word k's sentence ends
  std::vector<Mention> mentions_;
};

}  // namespace

std::string_view grade_name(Grade g) { return kNames[static_cast<std::size_t>(g)]; }

std::optional<Grade> grade_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    const std::string_view candidate = kNames[i];
    if (candidate.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < name.size() && same; ++k) same = lower(name[k]) == lower(candidate[k]);
    if (same) return static_cast<Grade>(i);
  }
  return std::nullopt;
}

std::optional<Grade> parse_grade_reply(std::string_view reply) { return ReplyReader(reply).read(); }

const std::vector<Grade>& all_grades() {
  static const std::vector<Grade> grades{Grade::high_quality, Grade::medium_quality, Grade::low_quality,
                                         Grade::not_relevant};
  return grades;
}

std::string grade_list_text(const std::vector<Grade>& grades) {
  std::string out;
  for (const Grade g : grades) out += (out.empty() ? "" : ", ") + std::string(grade_name(g));
  return out;
}

std::vector<Grade> parse_grade_list(std::string_view text) {
  std::vector<Grade> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    const auto g = grade_from_name(item);
    if (!g) {
      throw UsageError(fmt::format("'{}' is not a grade; the grades are: {}", item, grade_list_text(all_grades())));
    }
    if (std::find(out.begin(), out.end(), *g) != out.end()) {
      throw UsageError(fmt::format("grade '{}' is listed twice", grade_name(*g)));
    }
    out.push_back(*g);
  }
  if (out.empty()) throw UsageError(fmt::format("no grade given; the grades are: {}", grade_list_text(all_grades())));
  return out;
}

const std::vector<std::string>& quality_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Grade g : all_grades()) n.emplace_back(grade_name(g));
    n.emplace_back("unparsed");
    n.emplace_back("error");
    return n;
  }();
  return names;
}

}  // namespace chexgen
