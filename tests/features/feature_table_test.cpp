// Feature tables in their one layout: the CSV written reads back the same (NaN included), the .npy form has its two
// name lists, and a pandas-style table with a text column keeps the numeric columns and says which it left out.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/features/feature_table.h"
#include "chexgen/features/npy.h"

namespace chexgen::features {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("chexgen-feature-table-" + std::to_string(getpid()) + "-" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

FeatureTable sample() {
  FeatureTable t;
  t.images = {"a/x.png", "b,y.png"};
  t.columns = {"f1", "original_firstorder_Mean"};
  t.values = MatrixD(2, 2, {0.1, -2.5, std::nan(""), 1e-300});
  return t;
}

TEST(FeatureTable, CsvRoundTripsEveryValue) {
  const fs::path d = temp_dir();
  write_feature_table(d / "t.csv", sample());
  EXPECT_EQ(text_of(d / "t.csv"), "image,f1,original_firstorder_Mean\na/x.png,0.1,-2.5\n\"b,y.png\",nan,1e-300\n");
  ErrorReport errors;
  const ReadFeatureTable back = read_feature_table_csv(d / "t.csv", errors);
  EXPECT_THAT(back.table.images, ElementsAre("a/x.png", "b,y.png"));
  EXPECT_THAT(back.table.columns, ElementsAre("f1", "original_firstorder_Mean"));
  EXPECT_EQ(back.table.values(0, 0), 0.1);
  EXPECT_TRUE(std::isnan(back.table.values(1, 0)));
  EXPECT_EQ(back.table.values(1, 1), 1e-300);
  EXPECT_TRUE(back.warnings.empty());
  fs::remove_all(d);
}

TEST(FeatureTable, NpyWithItsNameLists) {
  const fs::path d = temp_dir();
  write_feature_table(d / "t.npy", sample());
  EXPECT_EQ(read_npy(d / "t.npy").to_f64().values()[1], -2.5);
  EXPECT_EQ(text_of(d / "t.npy.columns.txt"), "f1\noriginal_firstorder_Mean\n");
  EXPECT_EQ(text_of(d / "t.npy.images.txt"), "a/x.png\nb,y.png\n");
  EXPECT_THROW(write_feature_table(d / "t.txt", sample()), UsageError);
  fs::remove_all(d);
}

TEST(FeatureTable, TextColumnsAreLeftOutAndNamedBadTablesAreErrors) {
  const fs::path d = temp_dir();
  { std::ofstream(d / "pandas.csv") << "image,diagnostics_Versions,f1,f2\nx.png,v3.1.0,1,\ny.png,v3.1.0,2,3\n"; }
  ErrorReport errors;
  const ReadFeatureTable t = read_feature_table_csv(d / "pandas.csv", errors);
  EXPECT_THAT(t.table.columns, ElementsAre("f1", "f2"));
  EXPECT_THAT(t.dropped_columns, ElementsAre("diagnostics_Versions"));
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_THAT(t.warnings[0], HasSubstr("pandas.csv:2: column 'diagnostics_Versions' holds text ('v3.1.0')"));
  EXPECT_TRUE(std::isnan(t.table.values(0, 1)));

  { std::ofstream(d / "empty.csv") << "image,f1\n"; }
  EXPECT_THROW(read_feature_table_csv(d / "empty.csv", errors), InputError);
  { std::ofstream(d / "ragged.csv") << "image,f1\nx.png,1\ny.png,2,3\n"; }
  ErrorReport rows;
  EXPECT_THROW(read_feature_table_csv(d / "ragged.csv", rows), InputError);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows.errors()[0].what(), HasSubstr("ragged.csv:3: record has 3 fields, the header has 2"));
  fs::remove_all(d);
}

}  // namespace
}  // namespace chexgen::features
