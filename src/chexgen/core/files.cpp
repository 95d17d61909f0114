#include "chexgen/core/files.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path.string()}, fmt::format("cannot open file: {}", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError({path.string()}, "read error");
  return bytes;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path temp = path.string() + ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw OutputError(fmt::format("{}: cannot open for writing: {}", temp.string(), std::strerror(errno)));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw OutputError(fmt::format("{}: write failed", temp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw OutputError(fmt::format("{}: cannot move the finished file into place", path.string()));
  }
}

}  // namespace chexgen
