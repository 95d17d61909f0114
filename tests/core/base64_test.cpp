#include "chexgen/core/base64.h"

#include <string>

#include <gtest/gtest.h>

namespace chexgen {
namespace {

// RFC 4648, section 10.
TEST(Base64, Rfc4648TestVectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64, BinaryRoundTripAndLineBreaks) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  const std::string encoded = base64_encode(bytes);
  EXPECT_EQ(base64_decode(encoded), bytes);
  std::string wrapped;
  for (std::size_t i = 0; i < encoded.size(); i += 76) wrapped += encoded.substr(i, 76) + "\r\n";
  EXPECT_EQ(base64_decode(wrapped), bytes);
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("Zg="));       // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Z*=="));      // outside the alphabet
  EXPECT_FALSE(base64_decode("Zg==Zm8="));  // padding in the middle
  EXPECT_FALSE(base64_decode("Z=g="));      // data after padding
  EXPECT_FALSE(base64_decode("{\"error\": 1}"));
}

}  // namespace
}  // namespace chexgen
