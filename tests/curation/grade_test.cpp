// The grade names and the reply parser: exact answers, the noisy shapes vision-language models really produce,
// restated options, negations, and replies that must stay unparsed (nullopt) because guessing would corrupt the
// dataset.
#include "chexgen/curation/grade.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace chexgen {
namespace {

constexpr auto H = Grade::high_quality;
constexpr auto M = Grade::medium_quality;
constexpr auto L = Grade::low_quality;
constexpr auto N = Grade::not_relevant;

std::string show(std::optional<Grade> g) { return g ? std::string(grade_name(*g)) : std::string("nullopt"); }

struct Case {
  std::string reply;
  std::optional<Grade> expected;
};

void expect_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(show(parse_grade_reply(c.reply)), show(c.expected)) << "reply: [" << c.reply << "]";
  }
}

TEST(GradeNames, RoundTripAndSpelling) {
  EXPECT_EQ(grade_name(H), "High Quality");
  EXPECT_EQ(grade_name(M), "Medium Quality");
  EXPECT_EQ(grade_name(L), "Low Quality");
  EXPECT_EQ(grade_name(N), "Not Relevant");
  for (Grade g : {H, M, L, N}) EXPECT_EQ(grade_from_name(grade_name(g)), g);
}

TEST(GradeNames, FromNameIsExactButCaseInsensitive) {
  EXPECT_EQ(grade_from_name("high quality"), H);
  EXPECT_EQ(grade_from_name("MEDIUM QUALITY"), M);
  EXPECT_EQ(grade_from_name("lOW qUALITY"), L);
  EXPECT_EQ(grade_from_name("not relevant"), N);
  EXPECT_EQ(grade_from_name("High  Quality"), std::nullopt);
  EXPECT_EQ(grade_from_name("High-Quality"), std::nullopt);
  EXPECT_EQ(grade_from_name(" High Quality"), std::nullopt);
  EXPECT_EQ(grade_from_name("High"), std::nullopt);
  EXPECT_EQ(grade_from_name("unparsed"), std::nullopt);
  EXPECT_EQ(grade_from_name(""), std::nullopt);
}

TEST(ParseGradeReply, ExactNames) {
  expect_all({{"High Quality", H},
              {"Medium Quality", M},
              {"Low Quality", L},
              {"Not Relevant", N},
              {"high quality", H},
              {"NOT RELEVANT", N},
              {"Low Quality\n", L},
              {"  Medium Quality  ", M}});
}

TEST(ParseGradeReply, PunctuationQuotesAndMarkdown) {
  expect_all({{"High Quality.", H},
              {"HIGH QUALITY!!", H},
              {"'Medium Quality'", M},
              {"\"Low Quality\"", L},
              {"**High Quality**", H},
              {"__Medium Quality__", M},
              {"`Low Quality`", L},
              {"*'Not Relevant'*", N},
              {"[High Quality]", H},
              {"(Medium Quality)", M},
              {"- Low Quality", L},
              {"### Classification\n**Medium Quality**", M},
              {"\xe2\x80\x9cHigh Quality\xe2\x80\x9d", H},  // curly double quotes
              {"\xe2\x80\x98Low Quality\xe2\x80\x99.", L},  // curly single quotes
              {"High\xc2\xa0Quality", H}});                 // no-break space
}

TEST(ParseGradeReply, HyphenationAndSpacingVariants) {
  expect_all({{"high-quality", H},
              {"Medium-Quality", M},
              {"low_quality", L},
              {"HighQuality", H},
              {"lowquality", L},
              {"High   Quality", H},
              {"High\nQuality", H},
              {"High\tQuality", H},
              {"not-relevant", N},
              {"Non-relevant", N},
              {"Irrelevant", N},
              {"NotRelevant", N}});
}

TEST(ParseGradeReply, SurroundingWords) {
  expect_all({{"The image is of high quality.", H},
              {"I would classify this image as 'Medium Quality'.", M},
              {"This chest X-ray is a low quality image because the lungs are cut off.", L},
              {"Based on the description, the image appears to be of medium quality, with some blurring.", M},
              {"The image is not relevant to the description.", N},
              {"The image isn't relevant to the prompt.", N},
              {"This image is irrelevant to the given description.", N},
              {"It is not at all relevant.", N},
              {"Sure! High Quality", H},
              {"The image is relevant to the description and of high quality.", H},
              {"Overall, I'd say the image is Low Quality.", L}});
}

TEST(ParseGradeReply, LeadingLabel) {
  expect_all({{"Answer: Low Quality", L},
              {"Classification - Not Relevant", N},
              {"Grade: Medium Quality", M},
              {"Final answer: **High Quality**", H},
              {"Quality assessment: Low Quality", L},
              {"Response: 'Medium Quality'", M},
              {"Classification:\nHigh Quality", H},
              {"Rating = High Quality", H}});
}

TEST(ParseGradeReply, BareLevelWordOnlyAsTheWholeReply) {
  expect_all({{"High", H},
              {"medium.", M},
              {"**Low**", L},
              {"'High'", H},
              {"The contrast is high.", std::nullopt},
              {"Low contrast, high noise", std::nullopt},
              {"High Medium", std::nullopt}});
}

TEST(ParseGradeReply, RestatedOptionsBeforeTheAnswer) {
  expect_all({{"The options are 'High Quality', 'Medium Quality', or 'Low Quality'. My answer: Low Quality", L},
              {"The options are 'High Quality', 'Medium Quality', or 'Low Quality'. Low Quality", L},
              {"Options: High Quality, Medium Quality, Low Quality, Not Relevant.\nAnswer: Not Relevant", N},
              {"Options:\n1. High Quality\n2. Medium Quality\n3. Low Quality\n\nAnswer: Medium Quality", M},
              {"Options:\n- High Quality\n- Medium Quality\n- Low Quality\nThe image is Medium Quality.", M},
              {"Given the prompt 'small left pleural effusion', classify the following image as 'High Quality', "
               "'Medium Quality', or 'Low Quality'.\nThe image is High Quality.",
               H},
              {"I need to classify the image as either High Quality, Medium Quality or Low Quality. I classify it as "
               "Low Quality.",
               L},
              {"Choosing between High Quality / Medium Quality / Low Quality: Medium Quality", M}});
}

TEST(ParseGradeReply, RestatedOptionsAfterTheAnswer) {
  expect_all({{"Low Quality (the options were High Quality, Medium Quality and Low Quality)", L},
              {"High Quality. The other options were 'Medium Quality' or 'Low Quality'.", H},
              {"Medium Quality\n\nThe possible answers are: High Quality, Medium Quality, Low Quality.", M},
              {"Answer: Low Quality. Options: (a) High Quality (b) Medium Quality (c) Low Quality", L}});
}

TEST(ParseGradeReply, OnlyTheOptionsIsAmbiguous) {
  expect_all({{"High Quality, Medium Quality, or Low Quality", std::nullopt},
              {"'High Quality', 'Medium Quality', 'Low Quality', 'Not Relevant'", std::nullopt},
              {"Classify the image as either 'High Quality', 'Medium Quality', or 'Low Quality'.", std::nullopt},
              {"High Quality or Medium Quality", std::nullopt},
              {"Answer: High Quality or Medium Quality", std::nullopt},
              {"Somewhere between Medium Quality and Low Quality.", std::nullopt}});
}

TEST(ParseGradeReply, HedgesAreAmbiguous) {
  expect_all({{"medium-high quality", std::nullopt},
              {"Medium to high quality", std::nullopt},
              {"low/medium quality", std::nullopt},
              {"The image is of high or medium quality.", std::nullopt},
              {"Answer: medium-to-high quality", std::nullopt}});
}

TEST(ParseGradeReply, SeveralGradesWithoutAnAnswerMarkerAreAmbiguous) {
  expect_all({{"High Quality. Low Quality.", std::nullopt},
              {"It could be high quality, but it might be low quality.", std::nullopt},
              {"The lungs are high quality; the heart is low quality.", std::nullopt},
              {"Not Relevant. Medium Quality.", std::nullopt},
              {"Answer: High Quality. Answer: Low Quality.", std::nullopt},
              {"Grade: Medium Quality\nClassification: High Quality", std::nullopt}});
}

TEST(ParseGradeReply, AnAnswerMarkerSinglesOneOut) {
  expect_all({{"Some would call it high quality. My final answer: Medium Quality.", M},
              {"Answer: Medium Quality. Some might argue for High Quality.", M},
              {"Low Quality images show artefacts. This one I classify as High Quality.", H},
              {"I classified it as Low Quality; a radiologist might say Medium Quality.", L}});
}

TEST(ParseGradeReply, NegationsDoNotCountAsThatGrade) {
  expect_all({{"not high quality", std::nullopt},
              {"The image is not of high quality.", std::nullopt},
              {"This isn't a high quality image.", std::nullopt},
              {"It is not considered to be high quality.", std::nullopt},
              {"Never Low Quality", std::nullopt},
              {"Not high quality, but medium quality.", M},
              {"This is not a low quality image; it is high quality.", H},
              {"The image is high quality, not low quality.", H},
              {"Neither High Quality nor Low Quality; Medium Quality.", M},
              {"It is better than low quality, so Medium Quality.", M},
              {"Medium Quality rather than High Quality", M},
              {"Medium Quality instead of High Quality", M},
              {"I cannot classify this image as High Quality; it is Low Quality.", L},
              {"The image doesn't look like high quality.", std::nullopt},
              {"Answer: not High Quality.", std::nullopt},
              {"The image is relevant, not irrelevant: High Quality.", H},
              {"This is not irrelevant.", std::nullopt},
              {"It isn't Not Relevant, it's Low Quality", L}});
}

TEST(ParseGradeReply, ConditionalsQuestionsAndEchoedInstructions) {
  expect_all({{"If it were sharper it would be High Quality, but as it is: Medium Quality.", M},
              {"If I had to choose, Low Quality.", L},
              {"Whether it is high quality is hard to say.", std::nullopt},
              {"High Quality?", std::nullopt},
              {"Is it high quality? Hard to tell.", std::nullopt},
              {"Is it high quality? No, it is Low Quality.", L},
              // The model echoing the meta-prompt says nothing about the image.
              {"You are an expert radiologist and medical annotator. Your task is to assess the quality of an image "
               "given its description and classify the image as either 'High Quality', 'Medium Quality', or 'Low "
               "Quality'. Keep your responses limited to only these three options. If the image is not relevant to "
               "the description, respond with 'Not Relevant'.",
               std::nullopt},
              {"If the image is not relevant to the description, respond with 'Not Relevant'. The image is High "
               "Quality.",
               H},
              {"I would respond with 'Low Quality'.", L}});
}

TEST(ParseGradeReply, NothingNamedIsAmbiguous) {
  expect_all({{"", std::nullopt},
              {"   \n\t  ", std::nullopt},
              {"...", std::nullopt},
              {"I cannot assess medical images.", std::nullopt},
              {"The image shows a chest X-ray with a small pleural effusion.", std::nullopt},
              {"Good quality", std::nullopt},
              {"Poor quality.", std::nullopt},
              {"quality", std::nullopt},
              {"The image is relevant.", std::nullopt},
              {"Highest quality", std::nullopt},
              {"Medium", M},  // the bare level word as the whole reply (see BareLevelWordOnlyAsTheWholeReply)
              {"Quality: high", std::nullopt}});
}

TEST(ParseGradeReply, NonAsciiReplies) {
  expect_all({{"Qualit\xc3\xa9 \xc3\xa9lev\xc3\xa9"
               "e",
               std::nullopt},                                            // French, no grade named
              {"\xe9\xab\x98\xe8\xb4\xa8\xe9\x87\x8f", std::nullopt},    // Chinese "high quality"
              {"\xe7\xad\x94\xe6\xa1\x88\xef\xbc\x9a High Quality", H},  // "答案：" then the grade
              {"Low Quality \xf0\x9f\x99\x82", L},                       // an emoji after it
              {"Medium\xe2\x80\x94Quality", M},                          // em dash between the words
              {"\xff\xfe High Quality \x80", H},                         // invalid UTF-8 around it
              {std::string("High Quality\0", 13), H}});                  // an embedded NUL
}

TEST(ParseGradeReply, VeryLongReplies) {
  std::string filler;
  for (int i = 0; i < 5000; ++i) filler += "The cardiac silhouette and the lung fields are visible. ";
  EXPECT_EQ(show(parse_grade_reply(filler + "Answer: Medium Quality")), "Medium Quality");
  EXPECT_EQ(show(parse_grade_reply("Low Quality. " + filler)), "Low Quality");
  EXPECT_EQ(show(parse_grade_reply(filler)), "nullopt");
  EXPECT_EQ(show(parse_grade_reply("High Quality. " + filler + "Low Quality.")), "nullopt");

  std::string many;
  for (int i = 0; i < 20000; ++i) many += "High Quality, ";
  EXPECT_EQ(show(parse_grade_reply(many)), "High Quality");  // one grade, repeated
  EXPECT_EQ(show(parse_grade_reply(many + "Low Quality")), "nullopt");
}

}  // namespace
}  // namespace chexgen
