// Row-major feature matrices: n samples (rows) x d features (columns). Features are stored and exported as them,
// and metrics are pure functions over MatrixView; nothing here owns files or threads.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "chexgen/core/error.h"

namespace chexgen {

// A non-owning, read-only view of a row-major rows x cols matrix; element (i, j) is
// data[i * cols + j]. The memory must outlive the view.
template <class T>
struct MatrixView {
  const T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  const T* row(std::size_t i) const { return data + i * cols; }
  const T& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  std::size_t size() const { return rows * cols; }
  bool empty() const { return rows == 0 || cols == 0; }
};

using MatrixViewF = MatrixView<float>;
using MatrixViewD = MatrixView<double>;

// A small owning row-major matrix (results, resampled copies, test data).
template <class T>
class Matrix {
 public:
  Matrix() = default;
  Matrix(std::size_t rows, std::size_t cols, T value = T{}) : rows_(rows), cols_(cols), data_(rows * cols, value) {}
  Matrix(std::size_t rows, std::size_t cols, std::vector<T> data) : rows_(rows), cols_(cols), data_(std::move(data)) {
    CHEXGEN_ASSERT(data_.size() == rows_ * cols_, "Matrix: data size does not match rows * cols");
  }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  T* row(std::size_t i) { return data_.data() + i * cols_; }
  const T* row(std::size_t i) const { return data_.data() + i * cols_; }
  T& operator()(std::size_t i, std::size_t j) { return data_[i * cols_ + j]; }
  const T& operator()(std::size_t i, std::size_t j) const { return data_[i * cols_ + j]; }
  const std::vector<T>& values() const { return data_; }

  MatrixView<T> view() const { return {data_.data(), rows_, cols_}; }
  operator MatrixView<T>() const { return view(); }  // NOLINT: a view is a cheap, safe conversion

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<T> data_;
};

using MatrixF = Matrix<float>;
using MatrixD = Matrix<double>;

}  // namespace chexgen
