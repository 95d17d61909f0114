// The feature store: feature rows computed once per (image content, extractor) and reused by every later run.
//
// Layout: <store>/<extractor key>/meta.json (the extractor's full id, its column names, the format version) and
// rows.bin, an append-only list of records
//     [32-byte SHA-256 of the image file][dim little-endian float64 values][8-byte FNV-1a-64 of the bytes before it]
// A record is visible only when it is complete and its checksum matches, so a process killed in the middle of a
// write leaves a tail that the next open cuts off; nothing else is ever rewritten. The extractor key is the first
// 16 hex digits of the SHA-256 of the extractor id, so two configurations never share rows (docs/feature-store.md).
//
// Beside the rows, paths.bin remembers which content hash a file had: records
//     [u32 path length][path][u64 device][u64 inode][u64 size][i64 mtime ns][i64 ctime ns][32-byte SHA-256][FNV-1a-64]
// so that a later run finds an unchanged file's row without reading and hashing the file again (a benchmark of many
// generators against one reference reads the reference once). A file counts as unchanged only when all five of its
// stat values are the same; its ctime changes with every write and cannot be set back by hand, and files changed
// in the last 2 seconds are not remembered (a write within one timestamp tick would go unseen).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

#include "chexgen/core/hash.h"

namespace chexgen::features {

using ContentHash = Sha256;  // of the image file's bytes

class FeatureStore {
 public:
  // Opens (creating if needed) the rows of `extractor_id` under `root`. An existing store whose columns differ
  // from `columns` is an InputError naming meta.json (a changed extractor must change its id).
  FeatureStore(const std::filesystem::path& root, std::string extractor_id, std::vector<std::string> columns);
  ~FeatureStore();
  FeatureStore(const FeatureStore&) = delete;
  FeatureStore& operator=(const FeatureStore&) = delete;

  const std::filesystem::path& directory() const { return dir_; }
  std::size_t dim() const { return columns_.size(); }
  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t size() const;                                               // rows stored
  std::size_t dropped_tail_bytes() const { return dropped_tail_bytes_; }  // cut off at open (an interrupted write)

  // The stored row of an image, or nothing (read from rows.bin, its key checked again). Thread-safe.
  std::optional<std::vector<double>> find(const ContentHash& key) const;

  // Adds a row (values.size() == dim(); a key already present is ignored). Rows are buffered and written by
  // flush(), which also runs every `flush_every` rows and in the destructor. Thread-safe.
  void put(const ContentHash& key, std::span<const double> values);
  void flush();

  // The content hash `path` had when it was remembered, if its stat values (`st`, of the file now) are the same.
  // Thread-safe.
  std::optional<ContentHash> known_hash(const std::filesystem::path& path, const struct stat& st) const;
  // Remembers that `path`, as `st` describes it (stat taken before reading), has content hash `key`; written with
  // the rows. Files changed less than 2 seconds before `st` was taken are not remembered. Thread-safe.
  void remember_hash(const std::filesystem::path& path, const struct stat& st, const ContentHash& key);

  static constexpr std::size_t flush_every = 64;

 private:
  void load();
  void lock_for_writing();
  void write_pending_locked();

  std::filesystem::path dir_;
  std::string extractor_id_;
  std::vector<std::string> columns_;
  std::size_t record_bytes_ = 0;
  mutable std::mutex mutex_;
  // Where each row's record starts: in rows.bin below file_bytes_, else in pending_ at (position - file_bytes_),
  // which is where write_pending_locked() puts it in the file. Only the index is in memory (40-odd bytes a row, not
  // the rows: 75,000 Inception rows are 1.2 GB); find() reads a row from the file.
  struct KeyHash {  // a SHA-256 is uniformly distributed: its first 8 bytes are a hash already
    std::size_t operator()(const ContentHash& key) const;
  };
  std::unordered_map<ContentHash, std::uint64_t, KeyHash> positions_;
  std::uint64_t file_bytes_ = 0;                              // complete records in rows.bin
  std::vector<std::uint8_t> pending_;                         // encoded records not yet written
  std::size_t dropped_tail_bytes_ = 0;
  int fd_ = -1;

  struct FileState {  // what stat says of a file, and its content hash then
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    ContentHash hash{};
  };
  void load_paths();
  std::unordered_map<std::string, FileState> paths_;  // key: the absolute path
  std::vector<std::uint8_t> pending_paths_;            // encoded records not yet written to paths.bin
  int paths_fd_ = -1;
};

}  // namespace chexgen::features
