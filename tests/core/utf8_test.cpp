#include "chexgen/core/utf8.h"

#include <gtest/gtest.h>

namespace chexgen {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_FALSE(find_invalid_utf8("").has_value());
  EXPECT_FALSE(find_invalid_utf8("plain ascii").has_value());
  EXPECT_FALSE(find_invalid_utf8("\xC3\xA9 \xE2\x80\x94 \xE5\xBF\x83 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF").has_value());
  EXPECT_EQ(count_code_points("\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"), 5u);
}

TEST(Utf8, FindsTheFirstBadByte) {
  EXPECT_EQ(find_invalid_utf8("caf\xE9"), 3u);           // Latin-1 e-acute
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);            // lone continuation byte
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);      // overlong, 3 bytes
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);     // UTF-16 surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("ok\xE2\x80"), 2u);    // truncated at the end
  EXPECT_EQ(find_invalid_utf8("\xE2\x28\xA1"), 0u);  // bad continuation
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
}

}  // namespace
}  // namespace chexgen
