// core/strings.h.
#include "chexgen/core/strings.h"

#include <gtest/gtest.h>

namespace chexgen {
namespace {

TEST(ReplaceAll, EveryOccurrenceLeftToRightWithoutRescanning) {
  std::string s = "&amp;quot; a-\nb &amp;&amp;";
  replace_all(s, "&amp;", "&");
  EXPECT_EQ(s, "&quot; a-\nb &&");  // what was put in is not read again: "&amp;quot;" gives "&quot;", no more
  replace_all(s, "-\n", "");
  EXPECT_EQ(s, "&quot; ab &&");
  std::string t = "{prompt} and {prompt}";
  replace_all(t, "{prompt}", "{prompt}{prompt}");
  EXPECT_EQ(t, "{prompt}{prompt} and {prompt}{prompt}");
  std::string u = "none here";
  replace_all(u, "{prompt}", "x");
  EXPECT_EQ(u, "none here");
}

}  // namespace
}  // namespace chexgen
