// The BERT tokenizer of Hugging Face transformers (BertTokenizer: BasicTokenizer, then WordPiece) over a
// vocab.txt, as hi-ml's text encoders use it (docs/models.md, "Text models"). Unicode data comes from utf8proc.
//
// encode(text):
//  1. Literal special tokens ([PAD] [UNK] [CLS] [SEP] [MASK], case-sensitive) are cut out of the text first and
//     kept whole, as transformers does for a tokenizer's special tokens.
//  2. Clean: U+0000, U+FFFD and every code point of a C* category except tab, LF and CR are dropped; tab, LF,
//     CR, space and Zs characters become a space.
//  3. A space on each side of every CJK ideograph (the ranges of BERT's _is_chinese_char).
//  4. With lowercase: each code point lowercased on its own (simple case mapping; the Greek final-sigma rule
//     does not apply, as in transformers, which lowercases one character at a time), then NFD and every
//     Mn mark dropped.
//  5. Words: split at spaces (and U+2028/U+2029, where Python's str.split splits too); within a word, every
//     punctuation character (ASCII 33-47, 58-64, 91-96, 123-126, and every Unicode P* category) is a word
//     of its own.
//  6. WordPiece per word: a word of more than 100 code points is [UNK]; otherwise greedy longest match from
//     the left, pieces after the first looked up as "##piece"; a word with an unmatched rest is one [UNK].
//  7. [CLS] + ids + [SEP].
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chexgen/core/error.h"

namespace chexgen::text {

class BertTokenizer {
 public:
  // Reads vocab.txt: one token per line (the line's "\n" removed, nothing else), id = 0-based line index; a
  // token listed twice keeps its last id, as transformers' load_vocab does. A missing or empty file, invalid
  // UTF-8, or a vocabulary without [CLS], [SEP], [PAD] or [UNK] is an InputError naming the file.
  static BertTokenizer from_file(const std::filesystem::path& vocab, bool lowercase = true);
  // The same from the file's contents; `source` names it in errors.
  static BertTokenizer from_vocab_text(std::string_view contents, const std::string& source, bool lowercase = true);

  // Steps 1-5: the words WordPiece receives (special tokens included as they are).
  std::vector<std::string> basic_tokenize(std::string_view text, const Location& where = Location{"prompt"}) const;
  // Steps 1-6: the vocabulary tokens, without [CLS]/[SEP].
  std::vector<std::string> tokenize(std::string_view text, const Location& where = Location{"prompt"}) const;
  // Steps 1-7: the ids. Invalid UTF-8 in `text` is an InputError at `where`, giving the byte offset.
  std::vector<std::int64_t> encode(std::string_view text, const Location& where = Location{"prompt"}) const;

  // The id of a vocabulary token, or unk_id().
  std::int64_t id_of(std::string_view token) const;
  std::int64_t cls_id() const { return cls_; }
  std::int64_t sep_id() const { return sep_; }
  std::int64_t pad_id() const { return pad_; }
  std::int64_t unk_id() const { return unk_; }
  std::size_t vocab_lines() const { return lines_; }
  bool lowercase() const { return lowercase_; }
  // SHA-256 (hex) of the vocabulary file's bytes.
  const std::string& vocab_sha256() const { return vocab_sha256_; }

  static constexpr std::size_t kMaxCharsPerWord = 100;

 private:
  BertTokenizer() = default;
  void wordpiece(const std::string& word, std::vector<std::string>& out) const;

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> vocab_;
  std::size_t lines_ = 0;
  bool lowercase_ = true;
  std::int64_t cls_ = 0, sep_ = 0, pad_ = 0, unk_ = 0;
  std::string vocab_sha256_;
};

// `text` without the trailing code points that occur in `chars` (Python's text.rstrip(chars)); hi-ml strips
// "!?." from each prompt before tokenizing. `chars` must be valid UTF-8; the stripping stops at an invalid
// sequence in `text`.
std::string strip_trailing(std::string_view text, std::string_view chars);

}  // namespace chexgen::text
