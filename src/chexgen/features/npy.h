// NumPy .npy feature files: 2-D float32 / float64 matrices (n samples x d features).
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html (versions 1.0, 2.0, 3.0).
//
// Reading: C-order files in the machine's byte order are memory-mapped, not copied; Fortran-order and
// byte-swapped files are converted into an owned C-order copy. Anything else (another dtype, 1-D or
// 3-D shapes, a malformed header, too few or too many data bytes) is an InputError naming the file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "chexgen/core/matrix.h"

namespace chexgen::features {

enum class NpyDtype { float32, float64 };

// "float32" / "float64".
const char* to_string(NpyDtype dtype);

// What the header says, after validation.
struct NpyHeader {
  NpyDtype dtype = NpyDtype::float32;
  bool big_endian = false;     // descr '>f4' / '>f8'
  bool fortran_order = false;  // column-major on disk
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t data_offset_bytes = 0;  // where the array data starts in the file
};

// Parses and validates the header of an in-memory .npy image; `file` names it in errors.
NpyHeader parse_npy_header(const unsigned char* bytes, std::size_t size, const std::string& file);

// A 2-D matrix read from a .npy file, always presented in C (row-major) order.
class NpyMatrix {
 public:
  NpyMatrix();
  ~NpyMatrix();
  NpyMatrix(NpyMatrix&&) noexcept;
  NpyMatrix& operator=(NpyMatrix&&) noexcept;
  NpyMatrix(const NpyMatrix&) = delete;
  NpyMatrix& operator=(const NpyMatrix&) = delete;

  NpyDtype dtype() const { return dtype_; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  const std::string& file() const { return file_; }
  // True when the data is the memory-mapped file itself (C order, native byte order).
  bool memory_mapped() const;

  // The data as stored; a dtype mismatch is a bug of the caller (CHEXGEN_ASSERT).
  MatrixViewF view_f32() const;
  MatrixViewD view_f64() const;
  // The data converted (or copied) to the requested precision.
  MatrixF to_f32() const;
  MatrixD to_f64() const;

 private:
  friend NpyMatrix read_npy(const std::filesystem::path& path);
  struct Storage;
  std::unique_ptr<Storage> storage_;
  const void* data_ = nullptr;
  NpyDtype dtype_ = NpyDtype::float32;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::string file_;
};

// Reads a 2-D float32/float64 .npy file (see the file comment for what is accepted).
NpyMatrix read_npy(const std::filesystem::path& path);

// Writes a C-order, little-endian, version 1.0 .npy file ('<f4' / '<f8'); the file is written to a
// temporary name beside `path` and renamed, so a reader never sees half a file. Failure: OutputError.
void write_npy(const std::filesystem::path& path, MatrixViewF matrix);
void write_npy(const std::filesystem::path& path, MatrixViewD matrix);

}  // namespace chexgen::features
