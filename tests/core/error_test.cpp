#include "chexgen/core/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chexgen {
namespace {

TEST(InputError, MessageNamesFileRowAndColumn) {
  const InputError e({"manifest.csv", 17, "path"}, "file 'p10/s5.jpg' not found");
  EXPECT_STREQ(e.what(), "manifest.csv:17: column 'path': file 'p10/s5.jpg' not found");
  EXPECT_EQ(e.reason(), "file 'p10/s5.jpg' not found");
  EXPECT_EQ(e.where().row, 17u);
}

TEST(InputError, FileOnly) {
  const InputError e({"scan.png"}, "truncated PNG");
  EXPECT_STREQ(e.what(), "scan.png: truncated PNG");
}

TEST(ErrorReport, CollectsAndSerialises) {
  ErrorReport report;
  EXPECT_TRUE(report.empty());
  report.add(InputError({"a.csv", 3, "chexpert_labels"}, "cannot parse"));
  report.add(InputError({"b.png"}, "empty file"));
  ASSERT_EQ(report.size(), 2u);
  const auto j = report.to_json();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["file"], "a.csv");
  EXPECT_EQ(j[0]["row"], 3);
  EXPECT_EQ(j[0]["column"], "chexpert_labels");
  EXPECT_EQ(j[0]["reason"], "cannot parse");
  EXPECT_TRUE(j[1]["row"].is_null());
  EXPECT_TRUE(j[1]["column"].is_null());
  EXPECT_EQ(j[1]["message"], "b.png: empty file");
}

TEST(Assert, AbortsWithLocation) {
  EXPECT_DEATH(CHEXGEN_ASSERT(1 + 1 == 3, "arithmetic"), "assertion '1 \\+ 1 == 3' failed: arithmetic");
}

}  // namespace
}  // namespace chexgen
