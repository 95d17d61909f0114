// What the fuzz targets that go through files share: a folder of this process, and writing the input into it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace chexgen::fuzz {

// <tmp>/chexgen-<target>-<pid>, made on first use.
inline const std::filesystem::path& scratch_dir(const char* target) {
  static const std::filesystem::path dir = [target] {
    const std::filesystem::path d =
        std::filesystem::temp_directory_path() / ("chexgen-" + std::string(target) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace chexgen::fuzz
