#include "chexgen/curation/journal.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"

namespace chexgen {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("chexgen_journal_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Journal, RecordsSurviveReopening) {
  const auto path = fresh_dir("reopen") / "journal.jsonl";
  {
    Journal j(path);
    EXPECT_TRUE(j.records().empty());
    j.append({{"id", "a"}, {"grade", "High Quality"}});
    j.append({{"id", "b\nwith a newline"}, {"grade", nullptr}});
  }
  Journal j(path);
  ASSERT_EQ(j.records().size(), 2u);
  EXPECT_EQ(j.records()[0]["id"], "a");
  EXPECT_EQ(j.records()[1]["id"], "b\nwith a newline");
  EXPECT_EQ(j.torn_tail_bytes(), 0u);
}

TEST(Journal, TornLastLineIsCutOffAndAppendsContinueCleanly) {
  const auto path = fresh_dir("torn") / "journal.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"id\":\"a\"}\n{\"id\":\"b\",\"gra";
  }
  {
    Journal j(path);
    ASSERT_EQ(j.records().size(), 1u);
    EXPECT_EQ(j.torn_tail_bytes(), std::string("{\"id\":\"b\",\"gra").size());
    j.append({{"id", "c"}});
  }
  EXPECT_EQ(read_file_bytes(path), "{\"id\":\"a\"}\n{\"id\":\"c\"}\n");
}

TEST(Journal, DamagedLineInTheMiddleNamesFileAndLine) {
  const auto path = fresh_dir("damaged") / "journal.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"id\":\"a\"}\n[1,2]\n{\"id\":\"c\"}\n";
  }
  try {
    Journal j(path);
    FAIL() << "a damaged journal was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 2u);
    EXPECT_NE(std::string(e.what()).find("journal.jsonl:2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace chexgen
