#include "chexgen/features/feature_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/json.h"

namespace chexgen::features {
namespace {

constexpr int kFormatVersion = 1;
static_assert(std::endian::native == std::endian::little, "the store format is little-endian");

std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string extractor_key(const std::string& id) {
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(id.data()), id.size())).substr(0, 16);
}

}  // namespace

FeatureStore::FeatureStore(const std::filesystem::path& root, std::string extractor_id,
                           std::vector<std::string> columns)
    : dir_(root / extractor_key(extractor_id)), extractor_id_(std::move(extractor_id)), columns_(std::move(columns)) {
  CHEXGEN_ASSERT(!columns_.empty(), "a feature store needs at least one column");
  record_bytes_ = 32 + 8 * columns_.size() + 8;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw OutputError(fmt::format("{}: cannot create the feature store directory: {}", dir_.string(), ec.message()));
  const std::filesystem::path meta = dir_ / "meta.json";
  if (std::filesystem::exists(meta)) {
    const nlohmann::json j = parse_json(read_file_bytes(meta, ReadAs::own_output), Location{meta.string()});
    if (!j.is_object()) throw InputError(Location{meta.string()}, "not a feature store description (not an object)");
    if (j.value("format_version", 0) != kFormatVersion || j.value("extractor_id", std::string()) != extractor_id_ ||
        j.value("columns", std::vector<std::string>()) != columns_)
      throw InputError(Location{meta.string()},
                       "this store directory belongs to another extractor or format version; use another --store "
                       "or delete the directory");
  } else {
    nlohmann::json j = {{"format_version", kFormatVersion}, {"extractor_id", extractor_id_}, {"columns", columns_}};
    write_file_atomically(meta, j.dump(1) + "\n");
  }
  load();
  load_paths();
}

FeatureStore::~FeatureStore() {
  try {
    flush();
  } catch (...) {  // a destructor must not throw; a failed final flush only loses cached rows
  }
  if (fd_ >= 0) ::close(fd_);
  if (paths_fd_ >= 0) ::close(paths_fd_);
}

// One writer per extractor's rows at a time: an advisory lock on rows.bin, held while the store is open. A second
// process would cut off the first one's record in the middle of its write as a torn tail, losing rows, so it is
// refused with the holder's description (written beside the rows once the lock is ours).
void FeatureStore::lock_for_writing() {
  const std::filesystem::path holder = dir_ / "writer.txt";
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) {
      throw OutputError(fmt::format("{}: cannot lock the feature store: {}", dir_.string(), std::strerror(err)));
    }
    std::string who = "another process";
    try {
      who = printable_text(read_file_bytes(holder, ReadAs::own_output), 500);
      while (!who.empty() && who.back() == '\n') who.pop_back();
    } catch (const InputError&) {
    }
    throw OutputError(fmt::format("{}: the feature store is in use by {}; two writers would lose rows: wait for it to "
                                  "finish, or give this run another --store",
                                  dir_.string(), who));
  }
  std::string command;
  try {
    command = read_file_bytes("/proc/self/cmdline", ReadAs::own_output);
  } catch (const InputError&) {
  }
  std::replace(command.begin(), command.end(), '\0', ' ');
  write_file_atomically(holder, fmt::format("process {} ({})\n", ::getpid(), printable_text(command, 300)));
}

namespace {

// Reads exactly `size` bytes at `offset`; false at the end of the file.
bool read_at(int fd, std::uint8_t* out, std::size_t size, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t r = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// Appends `bytes` to the file open as `fd` and syncs it; `what` names the file in the error.
void append_and_sync(int fd, std::span<const std::uint8_t> bytes, const std::filesystem::path& file,
                     std::string_view what) {
  if (bytes.empty()) return;
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw OutputError(fmt::format("{}: cannot write {}: {}", file.string(), what, std::strerror(errno)));
    }
    written += static_cast<std::size_t>(w);
  }
  ::fdatasync(fd);
}

}  // namespace

void FeatureStore::load() {
  const std::filesystem::path rows = dir_ / "rows.bin";
  fd_ = ::open(rows.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw OutputError(fmt::format("{}: cannot open: {}", rows.string(), std::strerror(errno)));
  lock_for_writing();
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    throw OutputError(fmt::format("{}: cannot stat: {}", rows.string(), std::strerror(errno)));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // The records are checked in chunks of about 4 MiB; only their keys and positions are kept.
  const std::size_t per_chunk = std::max<std::size_t>(1, (std::size_t{4} << 20) / record_bytes_);
  std::vector<std::uint8_t> chunk(per_chunk * record_bytes_);
  std::uint64_t good = 0;
  bool torn = false;
  while (!torn && good + record_bytes_ <= size) {
    const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(per_chunk, (size - good) / record_bytes_));
    if (!read_at(fd_, chunk.data(), count * record_bytes_, good))
      throw InputError(Location{rows.string()}, "cannot read the feature store");
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint8_t* rec = chunk.data() + k * record_bytes_;
      std::uint64_t stored = 0;
      std::memcpy(&stored, rec + record_bytes_ - 8, 8);
      if (fnv1a64(rec, record_bytes_ - 8) != stored) {  // torn or damaged: everything from here is dropped
        torn = true;
        break;
      }
      ContentHash key;
      std::memcpy(key.data(), rec, key.size());
      positions_.emplace(key, good);
      good += record_bytes_;
    }
  }
  if (good < size) {
    dropped_tail_bytes_ = static_cast<std::size_t>(size - good);
    if (::ftruncate(fd_, static_cast<off_t>(good)) != 0)
      throw OutputError(
          fmt::format("{}: cannot cut off an interrupted write: {}", rows.string(), std::strerror(errno)));
  }
  file_bytes_ = good;
  if (::lseek(fd_, 0, SEEK_END) < 0) throw OutputError(fmt::format("{}: cannot seek", rows.string()));
}

std::size_t FeatureStore::KeyHash::operator()(const ContentHash& key) const {
  std::size_t h = 0;
  std::memcpy(&h, key.data(), sizeof h);
  return h;
}

std::size_t FeatureStore::size() const {
  std::lock_guard lock(mutex_);
  return positions_.size();
}

std::optional<std::vector<double>> FeatureStore::find(const ContentHash& key) const {
  std::lock_guard lock(mutex_);
  const auto it = positions_.find(key);
  if (it == positions_.end()) return std::nullopt;
  std::vector<std::uint8_t> record(record_bytes_ - 8);
  if (it->second >= file_bytes_) {
    std::memcpy(record.data(), pending_.data() + (it->second - file_bytes_), record.size());
  } else if (!read_at(fd_, record.data(), record.size(), it->second)) {
    throw InputError(Location{(dir_ / "rows.bin").string()}, "cannot read a row of the feature store");
  }
  // The record was checked when the store was opened and no other writer can change it since (the lock): the
  // key is compared again only to catch a mistake in the positions.
  CHEXGEN_ASSERT(std::memcmp(record.data(), key.data(), 32) == 0, "feature store: a row's position is wrong");
  std::vector<double> values(columns_.size());
  std::memcpy(values.data(), record.data() + 32, 8 * values.size());
  return values;
}

void FeatureStore::put(const ContentHash& key, std::span<const double> values) {
  CHEXGEN_ASSERT(values.size() == columns_.size(), "feature row of the wrong length");
  std::lock_guard lock(mutex_);
  const std::size_t start = pending_.size();
  const auto [it, inserted] = positions_.emplace(key, file_bytes_ + start);
  if (!inserted) return;
  pending_.resize(start + record_bytes_);
  std::uint8_t* rec = pending_.data() + start;
  std::memcpy(rec, key.data(), 32);
  std::memcpy(rec + 32, values.data(), 8 * values.size());
  const std::uint64_t sum = fnv1a64(rec, record_bytes_ - 8);
  std::memcpy(rec + record_bytes_ - 8, &sum, 8);
  if (pending_.size() >= flush_every * record_bytes_) write_pending_locked();
}

namespace {

constexpr std::size_t kFileStateBytes = 8 * 5 + 32;  // after the path: device, inode, size, mtime, ctime, hash
constexpr std::int64_t kSettleNs = 2'000'000'000;     // files changed this recently are not remembered

std::int64_t nanoseconds(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(t.tv_nsec);
}

std::string absolute_path(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path a = std::filesystem::absolute(path, ec);
  return (ec ? path : a).lexically_normal().string();
}

}  // namespace

// paths.bin: read every complete record with a good checksum (later records of a path replace earlier ones); a torn
// or damaged tail is cut off, as in rows.bin. Small (~130 bytes a file), so it is read whole.
void FeatureStore::load_paths() {
  const std::filesystem::path file = dir_ / "paths.bin";
  paths_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (paths_fd_ < 0) throw OutputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(paths_fd_, &st) != 0)
    throw OutputError(fmt::format("{}: cannot stat: {}", file.string(), std::strerror(errno)));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  if (!read_at(paths_fd_, bytes.data(), bytes.size(), 0))
    throw InputError(Location{file.string()}, "cannot read the feature store's path index");
  std::size_t good = 0;
  while (good + 4 <= bytes.size()) {
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + good, 4);
    const std::size_t record = 4 + std::size_t{length} + kFileStateBytes + 8;
    if (length == 0 || record > bytes.size() - good) break;
    const std::uint8_t* rec = bytes.data() + good;
    std::uint64_t stored = 0;
    std::memcpy(&stored, rec + record - 8, 8);
    if (fnv1a64(rec, record - 8) != stored) break;
    FileState s;
    const std::uint8_t* p = rec + 4 + length;
    std::memcpy(&s.device, p, 8);
    std::memcpy(&s.inode, p + 8, 8);
    std::memcpy(&s.size, p + 16, 8);
    std::memcpy(&s.mtime_ns, p + 24, 8);
    std::memcpy(&s.ctime_ns, p + 32, 8);
    std::memcpy(s.hash.data(), p + 40, 32);
    paths_[std::string(reinterpret_cast<const char*>(rec + 4), length)] = s;
    good += record;
  }
  if (good < bytes.size() && ::ftruncate(paths_fd_, static_cast<off_t>(good)) != 0)
    throw OutputError(fmt::format("{}: cannot cut off an interrupted write: {}", file.string(), std::strerror(errno)));
  if (::lseek(paths_fd_, 0, SEEK_END) < 0) throw OutputError(fmt::format("{}: cannot seek", file.string()));
}

std::optional<ContentHash> FeatureStore::known_hash(const std::filesystem::path& path, const struct stat& st) const {
  std::lock_guard lock(mutex_);
  const auto it = paths_.find(absolute_path(path));
  if (it == paths_.end()) return std::nullopt;
  const FileState& s = it->second;
  if (s.device != static_cast<std::uint64_t>(st.st_dev) || s.inode != static_cast<std::uint64_t>(st.st_ino) ||
      s.size != static_cast<std::uint64_t>(st.st_size) || s.mtime_ns != nanoseconds(st.st_mtim) ||
      s.ctime_ns != nanoseconds(st.st_ctim))
    return std::nullopt;
  return s.hash;
}

void FeatureStore::remember_hash(const std::filesystem::path& path, const struct stat& st, const ContentHash& key) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t settled = nanoseconds(now) - kSettleNs;
  if (nanoseconds(st.st_mtim) > settled || nanoseconds(st.st_ctim) > settled) return;
  FileState s{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
              static_cast<std::uint64_t>(st.st_size), nanoseconds(st.st_mtim), nanoseconds(st.st_ctim), key};
  const std::string name = absolute_path(path);
  if (name.empty() || name.size() > 0xffffffffu) return;
  std::lock_guard lock(mutex_);
  const auto it = paths_.find(name);
  if (it != paths_.end() && it->second.device == s.device && it->second.inode == s.inode &&
      it->second.size == s.size && it->second.mtime_ns == s.mtime_ns && it->second.ctime_ns == s.ctime_ns &&
      it->second.hash == s.hash)
    return;  // known as it is
  paths_[name] = s;
  const std::size_t start = pending_paths_.size();
  const std::size_t record = 4 + name.size() + kFileStateBytes + 8;
  pending_paths_.resize(start + record);
  std::uint8_t* rec = pending_paths_.data() + start;
  const auto length = static_cast<std::uint32_t>(name.size());
  std::memcpy(rec, &length, 4);
  std::memcpy(rec + 4, name.data(), name.size());
  std::uint8_t* p = rec + 4 + name.size();
  std::memcpy(p, &s.device, 8);
  std::memcpy(p + 8, &s.inode, 8);
  std::memcpy(p + 16, &s.size, 8);
  std::memcpy(p + 24, &s.mtime_ns, 8);
  std::memcpy(p + 32, &s.ctime_ns, 8);
  std::memcpy(p + 40, s.hash.data(), 32);
  const std::uint64_t sum = fnv1a64(rec, record - 8);
  std::memcpy(rec + record - 8, &sum, 8);
  if (pending_paths_.size() >= (std::size_t{64} << 10)) write_pending_locked();
}

void FeatureStore::flush() {
  std::lock_guard lock(mutex_);
  write_pending_locked();
}

void FeatureStore::write_pending_locked() {
  // The path index first: a hash it names whose row is not written yet only makes the next run compute that row.
  append_and_sync(paths_fd_, pending_paths_, dir_ / "paths.bin", "the feature store's path index");
  pending_paths_.clear();
  if (pending_.empty()) return;
  append_and_sync(fd_, pending_, dir_ / "rows.bin", "the feature store");
  file_bytes_ += pending_.size();  // the pending records now lie where their positions say
  pending_.clear();
}

}  // namespace chexgen::features
