#include "chexgen/core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen {
namespace fs = std::filesystem;

namespace {

// The inputs read so far by the running command, by (device, inode): the identity of a file whatever name or link
// reached it. Active only while an InputFiles lives.
class InputRegistry {
 public:
  void start() {
    const std::lock_guard lock(mutex_);
    CHEXGEN_ASSERT(!active_, "two InputFiles at once");
    active_ = true;
  }
  void stop() {
    const std::lock_guard lock(mutex_);
    active_ = false;
    files_.clear();
  }
  void add(dev_t dev, ino_t ino) {
    const std::lock_guard lock(mutex_);
    if (active_) files_.emplace(dev, ino);
  }
  bool contains(dev_t dev, ino_t ino) const {
    const std::lock_guard lock(mutex_);
    return files_.count({dev, ino}) != 0;
  }

 private:
  mutable std::mutex mutex_;
  bool active_ = false;
  std::set<std::pair<dev_t, ino_t>> files_;
};

InputRegistry& inputs() {
  static InputRegistry registry;
  return registry;
}

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

InputFiles::InputFiles() { inputs().start(); }
InputFiles::~InputFiles() { inputs().stop(); }

std::string read_file_bytes(const fs::path& path, ReadAs role) {
  // O_NONBLOCK: opening a FIFO with no writer must not hang before we can see what it is.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) throw InputError({path.string()}, fmt::format("cannot open file: {}", std::strerror(errno)));
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) throw InputError({path.string()}, fmt::format("cannot stat: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) {
    throw InputError({path.string()}, fmt::format("not a regular file ({}): give the path of a file", file_kind(st.st_mode)));
  }
  if (role == ReadAs::input) inputs().add(st.st_dev, st.st_ino);
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(bytes.size() + 65536);  // the file grew since fstat, or reads on
    const ssize_t n = ::read(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError({path.string()}, fmt::format("read error: {}", std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

void note_input_file(const fs::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) inputs().add(st.st_dev, st.st_ino);
}

void check_not_an_input(const fs::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && inputs().contains(st.st_dev, st.st_ino)) {
    throw OutputError(fmt::format("{}: this output file is also an input of the command; writing it would destroy "
                                  "the input: choose another output path",
                                  path.string()));
  }
}

void write_file_atomically(const fs::path& path, std::string_view contents) {
  check_not_an_input(path);
  const fs::path temp = path.string() + ".partial";
  Fd f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0) throw OutputError(fmt::format("{}: cannot open for writing: {}", temp.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(f.fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::unlink(temp.c_str());
      throw OutputError(fmt::format("{}: write failed: {}", temp.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) {  // NFS and quota errors may surface only here
    const int err = errno;
    ::unlink(temp.c_str());
    throw OutputError(fmt::format("{}: write failed: {}", temp.string(), std::strerror(err)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw OutputError(fmt::format("{}: cannot move the finished file into place: {}", path.string(), std::strerror(err)));
  }
}

void claim_output_folder(const fs::path& folder, std::string_view command) {
  std::error_code ec;
  const fs::path marker = folder / kOutputMarker;
  if (fs::exists(folder, ec)) {
    if (!fs::is_directory(folder, ec)) {
      throw OutputError(fmt::format("{}: exists and is not a folder: choose a new or empty folder for the output",
                                    folder.string()));
    }
    if (fs::exists(fs::symlink_status(marker, ec))) return;  // ours already
    if (!fs::is_empty(folder, ec) || ec) {
      throw OutputError(fmt::format(
          "{}: the folder is not empty and was not made by chexgen (it has no {} file); chexgen replaces and removes "
          "files in its output folders, so it only uses one that is new, empty or its own: choose another folder",
          folder.string(), kOutputMarker));
    }
  } else {
    fs::create_directories(folder, ec);
    if (ec) throw OutputError(fmt::format("{}: cannot create the folder: {}", folder.string(), ec.message()));
  }
  write_file_atomically(marker, fmt::format("This folder was made by {}; chexgen may replace or remove files in it.\n",
                                            command));
}

bool path_is_within(const fs::path& path, const fs::path& folder) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  const fs::path f = fs::weakly_canonical(fs::absolute(folder, ec), ec);
  const fs::path rel = p.lexically_relative(f);
  return !rel.empty() && *rel.begin() != "..";
}

fs::path file_in_folder(const fs::path& folder, std::string_view name, std::string_view source) {
  const bool plain = !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
                     name.find('\0') == std::string_view::npos;
  if (!plain) {
    throw InputError({std::string(source)},
                     fmt::format("the file name '{}' is not a plain name (it must not be empty, '.', '..' or contain "
                                 "'/'): chexgen writes only inside its output folder",
                                 name));
  }
  return folder / std::string(name);
}

}  // namespace chexgen
