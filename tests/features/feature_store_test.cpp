// The feature store: rows survive a reopen, an interrupted write is cut off, a changed extractor is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "chexgen/core/error.h"
#include "chexgen/features/feature_store.h"

namespace chexgen::features {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("chexgen-store-test-" + name + "-" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  return dir;
}

ContentHash key(int i) {
  const std::string text = "image " + std::to_string(i);
  return sha256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

const std::vector<std::string> kColumns = {"a", "b", "c"};

TEST(FeatureStore, RowsSurviveReopen) {
  const auto root = fresh_dir("reopen");
  {
    FeatureStore store(root, "test-extractor v1", kColumns);
    EXPECT_EQ(store.size(), 0u);
    store.put(key(1), std::vector<double>{1, 2, 3});
    store.put(key(2), std::vector<double>{-0.5, 1e300, std::nan("")});
    store.put(key(1), std::vector<double>{9, 9, 9});  // already present: ignored
    EXPECT_EQ(store.find(key(1)), (std::vector<double>{1, 2, 3}));
  }
  FeatureStore store(root, "test-extractor v1", kColumns);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find(key(1)), (std::vector<double>{1, 2, 3}));
  const auto two = store.find(key(2));
  ASSERT_TRUE(two);
  EXPECT_EQ((*two)[1], 1e300);
  EXPECT_TRUE(std::isnan((*two)[2]));
  EXPECT_FALSE(store.find(key(3)));
  EXPECT_EQ(store.dropped_tail_bytes(), 0u);
  std::filesystem::remove_all(root);
}

// Only positions are kept in memory: rows are read back from rows.bin or, before they are written, from the pending
// records, across the automatic flush every 64 rows, and a reopen reads a file larger than one 4 MiB chunk.
TEST(FeatureStore, RowsAreReadFromTheFileAndFromPendingRecords) {
  const auto root = fresh_dir("positions");
  std::vector<std::string> wide;
  for (int c = 0; c < 20000; ++c) wide.push_back("f" + std::to_string(c));  // 160 kB rows: 26 to a chunk
  const auto row = [](int i) {
    std::vector<double> v(20000);
    for (std::size_t c = 0; c < v.size(); ++c) v[c] = i * 1e5 + static_cast<double>(c);
    return v;
  };
  {
    FeatureStore store(root, "wide", wide);
    for (int i = 0; i < 150; ++i) {
      store.put(key(i), row(i));
      ASSERT_EQ(store.find(key(i)), row(i)) << i;                     // pending (or just flushed at 64, 128)
      if (i >= 10) ASSERT_EQ(store.find(key(i - 10)), row(i - 10)) << i;  // both sides of each flush
    }
    EXPECT_EQ(store.find(key(3)), row(3));
    EXPECT_EQ(store.find(key(149)), row(149));
  }
  FeatureStore store(root, "wide", wide);
  EXPECT_EQ(store.size(), 150u);
  for (int i : {0, 25, 26, 63, 64, 127, 128, 149}) EXPECT_EQ(store.find(key(i)), row(i)) << i;
  EXPECT_FALSE(store.find(key(150)));
  std::filesystem::remove_all(root);
}

// The path index: a file's hash is known again only while all five stat values are the same; files changed in the
// last 2 seconds are not remembered; the index survives a reopen and a torn tail is cut off.
TEST(FeatureStore, KnowsTheHashOfAnUnchangedFileOnly) {
  const auto root = fresh_dir("paths");
  struct stat settled {};
  settled.st_dev = 7;
  settled.st_ino = 1234;
  settled.st_size = 5000;
  settled.st_mtim.tv_sec = 1'700'000'000;
  settled.st_ctim.tv_sec = 1'700'000'100;
  const std::filesystem::path a = "/data/a.png", b = "/data/b.png", fresh = "/data/fresh.png";
  {
    FeatureStore store(root, "x", kColumns);
    store.remember_hash(a, settled, key(1));
    struct stat other = settled;
    other.st_ino = 99;
    store.remember_hash(b, other, key(2));
    struct stat now = settled;
    now.st_ctim.tv_sec = time(nullptr);  // changed just now: a write in the same tick could go unseen
    store.remember_hash(fresh, now, key(3));
    EXPECT_FALSE(store.known_hash(fresh, now));
    EXPECT_EQ(store.known_hash(a, settled), key(1));
    EXPECT_EQ(store.known_hash("/data/x/../a.png", settled), key(1));  // the same path, spelled otherwise
    EXPECT_FALSE(store.known_hash("/data/c.png", settled));
    for (int field = 0; field < 5; ++field) {
      struct stat changed = settled;
      if (field == 0) changed.st_dev += 1;
      if (field == 1) changed.st_ino += 1;
      if (field == 2) changed.st_size += 1;
      if (field == 3) changed.st_mtim.tv_nsec += 1;
      if (field == 4) changed.st_ctim.tv_nsec += 1;
      EXPECT_FALSE(store.known_hash(a, changed)) << field;
    }
    // A file that changed is remembered anew; the later record wins.
    struct stat rewritten = settled;
    rewritten.st_ctim.tv_sec += 60;
    store.remember_hash(a, rewritten, key(4));
    EXPECT_EQ(store.known_hash(a, rewritten), key(4));
    EXPECT_FALSE(store.known_hash(a, settled));
  }
  std::filesystem::path index;
  struct stat rewritten = settled;
  rewritten.st_ctim.tv_sec += 60;
  {
    FeatureStore store(root, "x", kColumns);
    index = store.directory() / "paths.bin";
    EXPECT_EQ(store.known_hash(a, rewritten), key(4));
    struct stat other = settled;
    other.st_ino = 99;
    EXPECT_EQ(store.known_hash(b, other), key(2));
    EXPECT_FALSE(store.known_hash(fresh, settled));
  }
  // A kill in the middle of the last record's write: it goes, the others stay.
  std::filesystem::resize_file(index, std::filesystem::file_size(index) - 5);
  FeatureStore store(root, "x", kColumns);
  EXPECT_EQ(store.known_hash(a, settled), key(1));
  EXPECT_FALSE(store.known_hash(a, rewritten));
  std::filesystem::remove_all(root);
}

TEST(FeatureStore, InterruptedWriteIsCutOff) {
  const auto root = fresh_dir("torn");
  std::filesystem::path rows;
  {
    FeatureStore store(root, "x", kColumns);
    for (int i = 0; i < 5; ++i) store.put(key(i), std::vector<double>{double(i), 0, 0});
    rows = store.directory() / "rows.bin";
  }
  const auto full = std::filesystem::file_size(rows);
  const std::size_t record = 32 + 3 * 8 + 8;
  ASSERT_EQ(full, 5 * record);
  // A kill in the middle of the fifth record's write, then a damaged fourth record: both go, three stay.
  std::filesystem::resize_file(rows, full - 10);
  {
    FeatureStore store(root, "x", kColumns);
    EXPECT_EQ(store.size(), 4u);
    EXPECT_EQ(store.dropped_tail_bytes(), record - 10);
  }
  {
    std::fstream f(rows, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(3 * record + 40));
    f.put('\x7f');
  }
  FeatureStore store(root, "x", kColumns);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_TRUE(store.find(key(2)));
  EXPECT_FALSE(store.find(key(3)));
  // New rows go after the good ones.
  store.put(key(7), std::vector<double>{7, 7, 7});
  store.flush();
  EXPECT_EQ(std::filesystem::file_size(rows), 4 * record);
  std::filesystem::remove_all(root);
}

TEST(FeatureStore, ExtractorsDoNotShareRows) {
  const auto root = fresh_dir("ids");
  {
    FeatureStore a(root, "extractor A", kColumns);
    a.put(key(1), std::vector<double>{1, 1, 1});
  }
  FeatureStore b(root, "extractor B", kColumns);
  EXPECT_FALSE(b.find(key(1)));
  EXPECT_NE(b.directory(), FeatureStore(root, "extractor A", kColumns).directory());
  std::filesystem::remove_all(root);
}

TEST(FeatureStore, ChangedColumnsAreRefused) {
  const auto root = fresh_dir("columns");
  { FeatureStore a(root, "same id", kColumns); }
  EXPECT_THROW(FeatureStore(root, "same id", std::vector<std::string>{"a", "b"}), InputError);
  std::filesystem::remove_all(root);
}

// Issue 18: a second writer of the same rows would cut off the first one's half-written record as a torn tail. It is
// refused, naming the holder (here this very process, through a second open of the same rows); once the first store
// is closed the rows open again.
TEST(FeatureStore, ASecondWriterIsRefusedNamingTheHolder) {
  const auto root = fresh_dir("lock");
  {
    FeatureStore first(root, "locked extractor", kColumns);
    first.put(key(1), std::vector<double>{1, 2, 3});
    try {
      FeatureStore second(root, "locked extractor", kColumns);
      ADD_FAILURE() << "a second writer was let in";
    } catch (const OutputError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("the feature store is in use by process " + std::to_string(::getpid())),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("give this run another --store"), std::string::npos) << message;
    }
  }
  FeatureStore again(root, "locked extractor", kColumns);
  EXPECT_EQ(again.find(key(1)), (std::vector<double>{1, 2, 3}));
  std::filesystem::remove_all(root);
}

TEST(FeatureStore, ConcurrentPuts) {
  const auto root = fresh_dir("threads");
  {
    FeatureStore store(root, "x", kColumns);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&store, t] {
        for (int i = 0; i < 100; ++i) store.put(key(t * 1000 + i), std::vector<double>{double(t), double(i), 0});
      });
    for (auto& th : threads) th.join();
  }
  FeatureStore store(root, "x", kColumns);
  EXPECT_EQ(store.size(), 400u);
  EXPECT_EQ(store.find(key(3042)), (std::vector<double>{3, 42, 0}));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace chexgen::features
