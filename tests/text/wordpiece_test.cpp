// The BERT tokenizer against the Python restatement in tests/fixtures/make_text_golden.py (written with Python's
// unicodedata, not utf8proc), and cases checked by hand against tests/fixtures/text/vocab.txt (id = line - 1).
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/text/wordpiece.h"

namespace chexgen::text {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Ids = std::vector<std::int64_t>;
using Tokens = std::vector<std::string>;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kVocab = kRoot / "tests/fixtures/text/vocab.txt";

const BertTokenizer& lower() {
  static const BertTokenizer t = BertTokenizer::from_file(kVocab, true);
  return t;
}

template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(BertTokenizer, MatchesThePythonReference) {
  const BertTokenizer cased = BertTokenizer::from_file(kVocab, false);
  const auto cases = nlohmann::json::parse(read_file_bytes(kRoot / "tests/golden/text/tokenizer_cases.json"));
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const BertTokenizer& t = c["lowercase"].get<bool>() ? lower() : cased;
    SCOPED_TRACE(testing::Message() << "text: " << nlohmann::json(text).dump() << " lowercase: " << c["lowercase"]);
    EXPECT_EQ(t.basic_tokenize(text), c["words"].get<Tokens>());
    EXPECT_EQ(t.tokenize(text), c["tokens"].get<Tokens>());
    EXPECT_EQ(t.encode(text), c["ids"].get<Ids>());
  }
}

TEST(BertTokenizer, MatchesThePythonReferenceOnRandomTexts) {
  const BertTokenizer cased = BertTokenizer::from_file(kVocab, false);
  const auto cases = nlohmann::json::parse(read_file_bytes(kRoot / "tests/golden/text/tokenizer_random.json"));
  ASSERT_EQ(cases.size(), 400u);
  int differences = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const Tokens ours = (c["lowercase"].get<bool>() ? lower() : cased).tokenize(text);
    if (ours != c["tokens"].get<Tokens>() && ++differences <= 5)
      ADD_FAILURE() << "text " << nlohmann::json(text).dump() << " lowercase " << c["lowercase"] << ": ours "
                    << nlohmann::json(ours).dump() << ", reference " << c["tokens"].dump();
  }
  EXPECT_EQ(differences, 0);
}

TEST(BertTokenizer, HandCheckedCases) {
  const BertTokenizer& t = lower();
  EXPECT_EQ(t.cls_id(), 2);
  EXPECT_EQ(t.sep_id(), 3);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 1);
  EXPECT_EQ(t.vocab_lines(), 127u);
  // Accents go with lowercasing; uppercase is lowercased: pleural = line 66, effusion = line 67.
  EXPECT_EQ(t.encode("Pleural effusión"), (Ids{2, 65, 66, 3}));
  EXPECT_EQ(t.encode("PLEURAL EFFUSION"), (Ids{2, 65, 66, 3}));
  // Punctuation splits words, ASCII symbols included; "5cm" continues with "##cm".
  EXPECT_THAT(t.tokenize("3.5cm"), ElementsAre("3", ".", "5", "##cm"));
  EXPECT_EQ(t.encode("3.5cm"), (Ids{2, 28, 5, 30, 45, 3}));
  EXPECT_THAT(t.tokenize("a+b=c"), ElementsAre("a", "+", "b", "[UNK]", "c"));  // "=" is not in the vocabulary
  // Longest match first: "cardiopulmonary" whole, "cardiomegaly" in two pieces.
  EXPECT_THAT(t.tokenize("cardiopulmonary cardiomegaly"), ElementsAre("cardiopulmonary", "cardio", "##megaly"));
  // A word whose rest matches nothing is one [UNK], not its matched pieces.
  EXPECT_THAT(t.tokenize("effusionq effusionx"), ElementsAre("[UNK]", "effusion", "##x"));
  // 100 code points are looked up; 101 are [UNK] at once.
  EXPECT_EQ(t.tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_THAT(t.tokenize(std::string(101, 'a')), ElementsAre("[UNK]"));
  // CJK ideographs are words of their own; Hangul is decomposed by NFD.
  EXPECT_THAT(t.tokenize("肺炎中国"), ElementsAre("肺", "炎", "中", "[UNK]"));
  EXPECT_THAT(t.tokenize("한"), ElementsAre("ᄒ", "##ᅡ", "##ᆫ"));
  // Controls and format characters vanish; tab, newline and no-break space separate.
  EXPECT_THAT(t.tokenize("pleu\x07ral\xE2\x80\x8B\tleft\nright\xC2\xA0lungs"),
              ElementsAre("pleural", "left", "right", "lungs"));
  // U+0000 is dropped too, so this is one word with no pieces for "##ffusion".
  EXPECT_THAT(t.tokenize(std::string("pleural\0effusion", 16)), ElementsAre("[UNK]"));
  // Only punctuation, and nothing at all.
  EXPECT_THAT(t.tokenize("?!("), ElementsAre("?", "!", "("));
  EXPECT_EQ(t.encode(""), (Ids{2, 3}));
  EXPECT_EQ(t.encode(" \t\r\n "), (Ids{2, 3}));
  // Literal special tokens are kept whole (case-sensitive), as transformers does.
  EXPECT_EQ(t.encode("[MASK][mask]"), (Ids{2, 4, 21, 1, 22, 3}));
  // Greek capital sigma lowercases to sigma, not to final sigma (one character at a time).
  EXPECT_THAT(t.tokenize("ΣΑΣ"), ElementsAre("σ", "##α", "##σ"));
}

TEST(BertTokenizer, WithoutLowercasingAccentsAndCaseStay) {
  const BertTokenizer t = BertTokenizer::from_file(kVocab, false);
  EXPECT_FALSE(t.lowercase());
  EXPECT_THAT(t.tokenize("Pleural effusión effusion"), ElementsAre("[UNK]", "[UNK]", "effusion"));
}

TEST(BertTokenizer, InvalidUtf8InAPromptNamesIt) {
  const BertTokenizer& t = lower();
  const Location where{"prompts.csv", 7, "prompt"};
  EXPECT_THAT(input_error([&] { t.encode("effusion \xFF", where); }),
              HasSubstr("prompts.csv:7: column 'prompt': the text is not valid UTF-8 (byte 9)"));
  EXPECT_THAT(input_error([&] { t.encode("\xED\xA0\x80", where); }), HasSubstr("(byte 0)"));       // a surrogate
  EXPECT_THAT(input_error([&] { t.encode("ab\xC0\xAF", where); }), HasSubstr("(byte 2)"));         // overlong '/'
  EXPECT_THAT(input_error([&] { t.encode("[CLS]\xC3", where); }), HasSubstr("(byte 5)"));          // truncated
  EXPECT_THAT(input_error([&] { t.encode("x\xF4\x90\x80\x80", where); }), HasSubstr("(byte 1)"));  // > U+10FFFF
  EXPECT_THAT(input_error([&] { t.encode("\xFF"); }), HasSubstr("prompt: the text is not valid UTF-8"));
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("chexgen-text-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(BertTokenizer, VocabularyProblemsNameTheFile) {
  const fs::path d = temp_dir("vocab");
  const auto with = [&](const std::string& contents) {
    std::ofstream(d / "vocab.txt", std::ios::binary) << contents;
    return input_error([&] { BertTokenizer::from_file(d / "vocab.txt"); });
  };
  EXPECT_THAT(input_error([&] { BertTokenizer::from_file(d / "missing.txt"); }), HasSubstr("missing.txt"));
  EXPECT_THAT(with(""), HasSubstr("vocab.txt: the vocabulary is empty"));
  EXPECT_THAT(with("[PAD]\n[UNK]\nno\n"), HasSubstr("vocab.txt: the vocabulary has no [CLS], [SEP]"));
  EXPECT_THAT(with("[PAD]\n[UNK]\n[CLS]\n[SEP]\nbad\xFF\n"), HasSubstr("vocab.txt:5: the line is not valid UTF-8"));
  EXPECT_EQ(with("[PAD]\n[UNK]\n[CLS]\n[SEP]\n"), "no error");
  fs::remove_all(d);
}

TEST(BertTokenizer, VocabularyLinesAsPythonReadsThem) {
  // CRLF and CR end lines too (universal newlines); a repeated token keeps its last id; no final newline needed.
  const BertTokenizer t = BertTokenizer::from_vocab_text("[UNK]\r\n[CLS]\r[SEP]\n[PAD]\nno\nno\n\nyes", "inline vocab");
  EXPECT_EQ(t.vocab_lines(), 8u);
  EXPECT_EQ(t.cls_id(), 1);
  EXPECT_EQ(t.sep_id(), 2);
  EXPECT_EQ(t.pad_id(), 3);
  EXPECT_EQ(t.id_of("no"), 5);
  EXPECT_EQ(t.id_of(""), 6);
  EXPECT_EQ(t.id_of("yes"), 7);
  EXPECT_EQ(t.encode("No yes maybe"), (Ids{1, 5, 7, 0, 2}));
  EXPECT_NE(t.vocab_sha256(), lower().vocab_sha256());
  EXPECT_EQ(t.vocab_sha256().size(), 64u);
}

TEST(StripTrailing, LikePythonRstrip) {
  EXPECT_EQ(strip_trailing("Small effusion!?.", "!?."), "Small effusion");
  EXPECT_EQ(strip_trailing("Small effusion. ", "!?."), "Small effusion. ");
  EXPECT_EQ(strip_trailing("...", "!?."), "");
  EXPECT_EQ(strip_trailing("", "!?."), "");
  EXPECT_EQ(strip_trailing("?No. effusion", "!?."), "?No. effusion");
  EXPECT_EQ(strip_trailing("effusión¿¡", "¡¿"), "effusión");
  EXPECT_EQ(strip_trailing("effusion.", ""), "effusion.");
  EXPECT_EQ(strip_trailing("bad\xFF.", "!?."), "bad\xFF");  // stops at the invalid byte; the tokenizer reports it
}

}  // namespace
}  // namespace chexgen::text
