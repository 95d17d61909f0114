#include "chexgen/curation/filter.h"

#include <filesystem>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "chexgen/core/base64.h"
#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/image/decode.h"

namespace chexgen {
namespace {

TEST(FilterRequest, MetaPromptIsTheDatasetCardsTextVerbatim) {
  EXPECT_EQ(kSynthChexMetaPrompt,
            "You are an expert radiologist and medical annotator. Your task is to assess the quality of an image "
            "given its description and classify the image as either 'High Quality', 'Medium Quality', or 'Low "
            "Quality'. Keep your responses limited to only these three options. If the image is not relevant to the "
            "description, respond with 'Not Relevant'.");
}

TEST(FilterRequest, QuestionCarriesTheImagesOwnPromptEverywhereTheTemplateAsks) {
  EXPECT_EQ(render_question(kSynthChexQuestionTemplate, "Small left effusion."),
            "Given the prompt Small left effusion., classify the following image as 'High Quality', 'Medium "
            "Quality', or 'Low Quality'");
  EXPECT_EQ(render_question("[{prompt}] then [{prompt}] {promptx} {", "a {prompt} b"),
            "[a {prompt} b] then [a {prompt} b] {promptx} {");
}

TEST(FilterRequest, ChatCompletionsBodyHasSystemTextAndImage) {
  FilterOptions options;
  options.model = "healthgpt";
  options.max_tokens = 7;
  const nlohmann::json body = grading_request(options, "Q?", std::string("\x89PNG\r\n", 6));
  EXPECT_EQ(body["model"], "healthgpt");
  EXPECT_EQ(body["temperature"], 0);
  EXPECT_EQ(body["max_tokens"], 7);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][0]["content"], std::string(kSynthChexMetaPrompt));
  const auto& content = body["messages"][1]["content"];
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(content[0]["type"], "text");
  EXPECT_EQ(content[0]["text"], "Q?");
  EXPECT_EQ(content[1]["type"], "image_url");
  const std::string url = content[1]["image_url"]["url"];
  ASSERT_EQ(url.rfind("data:image/png;base64,", 0), 0u);
  EXPECT_EQ(base64_decode(url.substr(22)), std::string("\x89PNG\r\n", 6));
}

TEST(FilterRequest, ReplyContentNeedsChoicesMessageContent) {
  EXPECT_EQ(reply_content(nlohmann::json::parse(R"({"choices":[{"message":{"content":"Low Quality"}}]})")),
            "Low Quality");
  for (const char* bad : {R"({})", R"({"choices":[]})", R"({"choices":[{"text":"x"}]})",
                          R"({"choices":[{"message":{"content":null}}]})", R"([1])"}) {
    EXPECT_THROW(reply_content(nlohmann::json::parse(bad)), MalformedReply) << bad;
  }
}

TEST(FilterImage, PngIsSentAsItIsOtherFormatsAreEncodedAndCorruptFilesAreErrors) {
  const auto dir = std::filesystem::temp_directory_path() / ("chexgen_filter_image_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Image8 image;
  image.width = 3;
  image.height = 2;
  image.channels = 1;
  image.data = {0, 50, 100, 150, 200, 250};
  write_png(dir / "a.png", image);
  EXPECT_EQ(image_as_png(read_file_bytes(dir / "a.png"), "a.png"), read_file_bytes(dir / "a.png"));

  const std::string jpeg =
      read_file_bytes(std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/data/images/jpeg/ycbcr444.jpg");
  write_file_atomically(dir / "b.jpg", jpeg);
  const std::string png = image_as_png(read_file_bytes(dir / "b.jpg"), "b.jpg");
  const auto as_span = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(sniff_image_format(as_span(png)), ImageFormat::png);
  const Image8 from_png = decode_image_u8(as_span(png), "png", ColorMode::rgb);
  const Image8 from_jpeg = decode_image_u8(as_span(jpeg), "jpeg", ColorMode::rgb);
  EXPECT_EQ(from_png.data, from_jpeg.data);

  write_file_atomically(dir / "c.png", read_file_bytes(dir / "a.png").substr(0, 30));
  EXPECT_THROW(image_as_png(read_file_bytes(dir / "c.png"), "c.png"), InputError);
  EXPECT_THROW(image_as_png(read_file_bytes(dir / "missing.png"), "missing.png"), InputError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chexgen
