#include "chexgen/text/wordpiece.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <utf8proc.h>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"

namespace chexgen::text {
namespace {

constexpr std::array<std::string_view, 5> kSpecialTokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

// BERT counts tab, LF and CR as whitespace although Unicode calls them controls.
bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO;
}

// ASCII symbols that Unicode files under S* ($, +, <, =, >, ^, `, |, ~) are punctuation to BERT as well.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// The CJK Unified Ideographs blocks and their extensions A-E, and the compatibility ideographs; not Hangul,
// Hiragana or Katakana, which BERT leaves to the whitespace split.
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Python's str.split() also splits at the line and paragraph separators, which cleaning keeps (they are
// neither controls nor Zs).
bool splits_words(char32_t c) {
  return c == ' ' || category(c) == UTF8PROC_CATEGORY_ZL || category(c) == UTF8PROC_CATEGORY_ZP;
}

void append_utf8(std::string& out, char32_t c) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

// Code points of `text`; the first invalid sequence is an InputError at `where`.
std::vector<char32_t> decode(std::string_view text, const Location& where, const char* what) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t c = 0;
    const auto n = utf8proc_iterate(s + i, static_cast<utf8proc_ssize_t>(text.size() - i), &c);
    if (n <= 0) throw InputError(where, fmt::format("{} is not valid UTF-8 (byte {})", what, i));
    out.push_back(static_cast<char32_t>(c));
    i += static_cast<std::size_t>(n);
  }
  return out;
}

// Canonical decomposition (NFD, with canonical reordering of the marks) of `cps`.
std::vector<char32_t> nfd(const std::vector<char32_t>& cps) {
  std::string utf8;
  for (char32_t c : cps) append_utf8(utf8, c);
  std::vector<utf8proc_int32_t> buf(cps.size() + 16);
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STABLE);
  for (;;) {
    const auto n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                                      static_cast<utf8proc_ssize_t>(utf8.size()), buf.data(),
                                      static_cast<utf8proc_ssize_t>(buf.size()), options);
    CHEXGEN_ASSERT(n >= 0, "utf8proc_decompose failed on text that was decoded as valid UTF-8");
    if (static_cast<std::size_t>(n) <= buf.size()) {
      return std::vector<char32_t>(buf.begin(), buf.begin() + n);
    }
    buf.resize(static_cast<std::size_t>(n));
  }
}

// BasicTokenizer on a stretch of text without special tokens: appends its words to `words`.
void basic_words(const std::vector<char32_t>& text, bool lowercase, std::vector<std::string>& words) {
  std::vector<char32_t> cleaned;
  cleaned.reserve(text.size());
  for (char32_t c : text) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(' ');
    } else if (is_cjk(c)) {
      cleaned.insert(cleaned.end(), {U' ', c, U' '});
    } else {
      cleaned.push_back(c);
    }
  }
  if (lowercase) {
    for (char32_t& c : cleaned) c = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
    std::vector<char32_t> decomposed = nfd(cleaned);
    std::erase_if(decomposed, [](char32_t c) { return category(c) == UTF8PROC_CATEGORY_MN; });
    cleaned = std::move(decomposed);
  }
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char32_t c : cleaned) {
    if (splits_words(c)) {
      flush();
    } else if (is_punctuation(c)) {
      flush();
      append_utf8(word, c);
      flush();
    } else {
      append_utf8(word, c);
    }
  }
  flush();
}

// The text cut at literal special tokens: pieces of plain text and the special tokens between them.
struct Piece {
  std::string_view text;
  bool special = false;
};

std::vector<Piece> split_special(std::string_view text) {
  std::vector<Piece> pieces;
  std::size_t start = 0, i = 0;
  while ((i = text.find('[', i)) != std::string_view::npos) {
    const auto it = std::find_if(kSpecialTokens.begin(), kSpecialTokens.end(),
                                 [&](std::string_view t) { return text.substr(i).starts_with(t); });
    if (it == kSpecialTokens.end()) {
      ++i;
      continue;
    }
    if (i > start) pieces.push_back({text.substr(start, i - start), false});
    pieces.push_back({*it, true});
    i += it->size();
    start = i;
  }
  if (start < text.size()) pieces.push_back({text.substr(start), false});
  return pieces;
}

}  // namespace

BertTokenizer BertTokenizer::from_file(const std::filesystem::path& vocab, bool lowercase) {
  return from_vocab_text(read_file_bytes(vocab), vocab.string(), lowercase);
}

BertTokenizer BertTokenizer::from_vocab_text(std::string_view contents, const std::string& source, bool lowercase) {
  BertTokenizer t;
  t.lowercase_ = lowercase;
  t.vocab_sha256_ = sha256_hex({reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size()});
  // Lines end at LF, CR or CRLF: Python reads vocab.txt with universal newlines.
  std::size_t pos = 0;
  while (pos < contents.size()) {
    const std::size_t end = std::min(contents.find_first_of("\r\n", pos), contents.size());
    const std::string_view token = contents.substr(pos, end - pos);
    const Location where{source, t.lines_ + 1};
    decode(token, where, "the line");
    t.vocab_[std::string(token)] = static_cast<std::int64_t>(t.lines_);
    ++t.lines_;
    pos = end;
    if (pos < contents.size())
      pos += (contents[pos] == '\r' && pos + 1 < contents.size() && contents[pos + 1] == '\n') ? 2 : 1;
  }
  if (t.lines_ == 0) throw InputError(Location{source}, "the vocabulary is empty");
  std::string missing;
  for (std::string_view name : {"[CLS]", "[SEP]", "[PAD]", "[UNK]"})
    if (!t.vocab_.contains(name)) missing += (missing.empty() ? "" : ", ") + std::string(name);
  if (!missing.empty())
    throw InputError(Location{source}, fmt::format("the vocabulary has no {} (a BERT vocab.txt lists [PAD], [UNK], "
                                                   "[CLS] and [SEP])",
                                                   missing));
  t.cls_ = t.vocab_.find("[CLS]")->second;
  t.sep_ = t.vocab_.find("[SEP]")->second;
  t.pad_ = t.vocab_.find("[PAD]")->second;
  t.unk_ = t.vocab_.find("[UNK]")->second;
  return t;
}

std::int64_t BertTokenizer::id_of(std::string_view token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? unk_ : it->second;
}

std::vector<std::string> BertTokenizer::basic_tokenize(std::string_view text, const Location& where) const {
  decode(text, where, "the text");  // every problem before any work, and with the byte offset in the whole text
  std::vector<std::string> words;
  for (const Piece& p : split_special(text)) {
    if (p.special)
      words.emplace_back(p.text);
    else
      basic_words(decode(p.text, where, "the text"), lowercase_, words);
  }
  return words;
}

void BertTokenizer::wordpiece(const std::string& word, std::vector<std::string>& out) const {
  std::vector<std::size_t> starts;  // byte offset of each code point, then the end
  for (std::size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) starts.push_back(i);
  const std::size_t n = starts.size();
  starts.push_back(word.size());
  if (n > kMaxCharsPerWord) {
    out.emplace_back("[UNK]");
    return;
  }
  const std::size_t first = out.size();
  std::string candidate;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = n;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word, starts[start], starts[end] - starts[start]);
      if (vocab_.contains(candidate)) break;
    }
    if (end == start) {  // no piece matches here: the whole word is unknown
      out.resize(first);
      out.emplace_back("[UNK]");
      return;
    }
    out.push_back(candidate);
    start = end;
  }
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text, const Location& where) const {
  std::vector<std::string> tokens;
  for (const std::string& word : basic_tokenize(text, where)) {
    if (std::find(kSpecialTokens.begin(), kSpecialTokens.end(), word) != kSpecialTokens.end())
      tokens.push_back(word);
    else
      wordpiece(word, tokens);
  }
  return tokens;
}

std::vector<std::int64_t> BertTokenizer::encode(std::string_view text, const Location& where) const {
  std::vector<std::int64_t> ids{cls_};
  for (const std::string& token : tokenize(text, where)) ids.push_back(id_of(token));
  ids.push_back(sep_);
  return ids;
}

std::string strip_trailing(std::string_view text, std::string_view chars) {
  const std::vector<char32_t> strip = decode(chars, Location{"strip_trailing"}, "the list of characters");
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    utf8proc_int32_t c = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + start),
                                    static_cast<utf8proc_ssize_t>(end - start), &c);
    // An invalid sequence stays, for the tokenizer to report with the prompt's location.
    if (n != static_cast<utf8proc_ssize_t>(end - start)) break;
    if (std::find(strip.begin(), strip.end(), static_cast<char32_t>(c)) == strip.end()) break;
    end = start;
  }
  return std::string(text.substr(0, end));
}

}  // namespace chexgen::text
