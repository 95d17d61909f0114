// Whole-file reads and writes with the project's error rules: a file that cannot be read is an InputError naming it,
// one that cannot be written an OutputError; a written file appears complete or not at all.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace chexgen {

// Reads a whole file; an unreadable or missing file is an InputError naming the path.
std::string read_file_bytes(const std::filesystem::path& path);

// Writes `contents` to `path` through a temporary file beside it (`path` + ".partial") and a rename, so that a
// reader never sees half a file and a failed write leaves any earlier file in place. Failure: OutputError.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace chexgen
