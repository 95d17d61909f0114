// The file rules of core/files.h: what a read accepts, that no output replaces an input, that an output folder is
// new, empty or chexgen's own, and that a name from data stays in its folder.
#include "chexgen/core/files.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "support/scratch_dir.h"

namespace chexgen {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

void put(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string read_error(const fs::path& p) {
  try {
    (void)read_file_bytes(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReadFileBytes, RefusesFoldersFifosAndDevicesByName) {
  const ScratchDir dir("files-read");
  EXPECT_NE(read_error(dir.path()).find("not a regular file (a folder)"), std::string::npos) << read_error(dir.path());
  const fs::path fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening a FIFO without a writer would block for ever; it is refused at once.
  EXPECT_NE(read_error(fifo).find(fifo.string() + ": not a regular file (a FIFO"), std::string::npos)
      << read_error(fifo);
  EXPECT_NE(read_error("/dev/zero").find("a character device"), std::string::npos) << read_error("/dev/zero");
  EXPECT_NE(read_error(dir / "missing").find("cannot open file: No such file"), std::string::npos);
  put(dir / "a.txt", std::string(100000, 'x'));
  EXPECT_EQ(read_file_bytes(dir / "a.txt"), std::string(100000, 'x'));
}

TEST(WriteFileAtomically, RefusesToReplaceAnInputThroughAnyName) {
  const ScratchDir dir("files-input");
  const InputFiles command;  // as the CLI holds for a whole command
  put(dir / "manifest.csv", "path\na.png\n");
  fs::create_symlink(dir / "manifest.csv", dir / "link.csv");
  (void)read_file_bytes(dir / "link.csv");  // read through the link
  try {
    write_file_atomically(dir / "manifest.csv", "replaced");
    ADD_FAILURE() << "expected an OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("also an input"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file_bytes(dir / "manifest.csv"), "path\na.png\n");
  EXPECT_FALSE(fs::exists(dir / "manifest.csv.partial"));
  // A file of chexgen's own read back (a journal) may be rewritten.
  put(dir / "state.json", "{}");
  (void)read_file_bytes(dir / "state.json", ReadAs::own_output);
  write_file_atomically(dir / "state.json", "{\"n\": 1}");
  EXPECT_EQ(read_file_bytes(dir / "state.json", ReadAs::own_output), "{\"n\": 1}");
}

TEST(WriteFileAtomically, WithoutARunningCommandInputsMayBeRewritten) {
  const ScratchDir dir("files-library");
  put(dir / "a.txt", "one");
  (void)read_file_bytes(dir / "a.txt");
  write_file_atomically(dir / "a.txt", "two");  // a library user rewriting its own file on purpose
  EXPECT_EQ(read_file_bytes(dir / "a.txt"), "two");
}

TEST(WriteFileAtomically, FailureGivesTheSystemsReason) {
  try {
    write_file_atomically("/proc/chexgen-no-such-dir/x", "y");
    ADD_FAILURE() << "expected an OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open for writing: No such file or directory"), std::string::npos)
        << e.what();
  }
}

TEST(ClaimOutputFolder, NewEmptyOrOwnOnly) {
  const ScratchDir dir("files-claim");
  claim_output_folder(dir / "new" / "deeper", "chexgen test");
  EXPECT_TRUE(fs::is_regular_file(dir / "new" / "deeper" / std::string(kOutputMarker)));
  claim_output_folder(dir / "new" / "deeper", "chexgen test");  // ours: claimed again

  fs::create_directory(dir / "empty");
  claim_output_folder(dir / "empty", "chexgen test");
  EXPECT_TRUE(fs::is_regular_file(dir / "empty" / std::string(kOutputMarker)));

  fs::create_directory(dir / "users");
  put(dir / "users" / "README.md", "mine");
  try {
    claim_output_folder(dir / "users", "chexgen test");
    ADD_FAILURE() << "expected an OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("not empty and was not made by chexgen"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "users" / std::string(kOutputMarker)));
  EXPECT_EQ(read_file_bytes(dir / "users" / "README.md"), "mine");

  put(dir / "file", "x");
  EXPECT_THROW(claim_output_folder(dir / "file", "chexgen test"), OutputError);
}

TEST(FileInFolder, NamesFromDataStayInTheFolder) {
  EXPECT_EQ(file_in_folder("out", "pool.npy", "m.json"), fs::path("out") / "pool.npy");
  for (const std::string& bad : std::vector<std::string>{"../../x.npy", "/etc/passwd", "", ".", "..", "a/b.npy",
                                                         std::string("a\0b", 3)}) {
    try {
      (void)file_in_folder("out", bad, "m.json");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, "m.json");
    }
  }
}

TEST(PathIsWithin, ResolvesDotsAndLinks) {
  const ScratchDir dir("files-within");
  fs::create_directories(dir / "data" / "reference");
  fs::create_symlink(dir / "data", dir / "alias");
  EXPECT_TRUE(path_is_within(dir / "data" / "reference" / "a.png", dir / "data"));
  EXPECT_TRUE(path_is_within(dir / "alias" / "reference" / "a.png", dir / "data" / "reference"));
  EXPECT_TRUE(path_is_within(dir / "data" / "x" / ".." / "reference", dir / "data" / "reference"));
  EXPECT_TRUE(path_is_within(dir / "data", dir / "data"));
  EXPECT_FALSE(path_is_within(dir / "data2" / "a.png", dir / "data"));
  EXPECT_FALSE(path_is_within(dir / "data", dir / "data" / "reference"));
}

}  // namespace
}  // namespace chexgen
