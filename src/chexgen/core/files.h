// Whole-file reads and writes with the project's error rules: a file that cannot be read is an InputError naming it,
// one that cannot be written an OutputError with the system's reason; a written file appears complete or not at all.
//
// The rules that keep chexgen from destroying what it does not own (docs/errors.md, "Outputs"), in one place:
//  - while a command runs (an InputFiles object lives), every file read as an input is remembered (by device and
//    inode), and writing over it is an OutputError;
//  - an output folder is new, empty, or carries chexgen's marker file before anything in it is removed or replaced
//    (claim_output_folder);
//  - a file named from data (a model's output name, a generated image's name) stays inside its folder
//    (file_in_folder).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace chexgen {

// While an object of this class lives, the files read as inputs are remembered and write_file_atomically (and the
// other writers that call check_not_an_input) refuse to replace them. The CLI holds one for the whole command; a
// program that uses the library and rewrites its own inputs on purpose (a test) simply holds none. One at a time.
class InputFiles {
 public:
  InputFiles();
  ~InputFiles();
  InputFiles(const InputFiles&) = delete;
  InputFiles& operator=(const InputFiles&) = delete;
};

// What a read is for: an input of the command (remembered, so that no output replaces it), or a file of chexgen's own
// making that it reads back to resume or to compare (a journal, a metadata file it will rewrite).
enum class ReadAs { input, own_output };

// Reads a whole regular file. A missing or unreadable path, a folder, a FIFO or a device is an InputError naming the
// path and saying what it is.
std::string read_file_bytes(const std::filesystem::path& path, ReadAs role = ReadAs::input);

// Remembers `path` as an input of the running command (for readers that do not use read_file_bytes: memory maps,
// LibTorch); nothing without an InputFiles.
void note_input_file(const std::filesystem::path& path);

// OutputError if `path` is a file the running command has read as an input (through any name: links are followed).
void check_not_an_input(const std::filesystem::path& path);

// Writes `contents` to `path` through a temporary file beside it (`path` + ".partial") and a rename, so that a
// reader never sees half a file and a failed write leaves any earlier file in place. Failure (the system's reason
// included), or `path` being one of this process's inputs: OutputError.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// The marker file that makes a folder chexgen's own.
inline constexpr std::string_view kOutputMarker = ".chexgen-output";

// Makes `folder` an output folder of `command` (e.g. "chexgen export"): creates it (and its parents) when missing;
// an existing folder must be empty or already carry the marker, otherwise OutputError naming it and saying to choose
// a new or empty folder; the marker is written into it. Everything chexgen later removes or replaces is inside such a
// folder.
void claim_output_folder(const std::filesystem::path& folder, std::string_view command);

// True if `path` is `folder` or lies inside it, after resolving both (links, "..", relative paths); neither needs to
// exist.
bool path_is_within(const std::filesystem::path& path, const std::filesystem::path& folder);

// `folder / name` for a file name taken from data, which must be one plain path component: not empty, not "." or
// "..", no '/' or NUL. Otherwise InputError naming `source` (where the name came from) and the name.
std::filesystem::path file_in_folder(const std::filesystem::path& folder, std::string_view name,
                                     std::string_view source);

}  // namespace chexgen
