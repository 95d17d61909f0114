// The .npy reader and writer against files written by numpy 1.24 (tests/fixtures/make_metrics_golden.py).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/features/npy.h"
#include "support/scratch_dir.h"
#include "test_data.h"

namespace chexgen::features {
namespace {

using chexgen::testing::golden;
using chexgen::testing::golden_path;
using ::testing::HasSubstr;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Layout {
  const char* file;
  NpyDtype dtype;
  bool memory_mapped;
};

class NpyLayoutTest : public ::testing::TestWithParam<Layout> {};

TEST_P(NpyLayoutTest, ReadsTheNumpyMatrixInCOrder) {
  const Layout layout = GetParam();
  const NpyMatrix m = read_npy(golden_path(layout.file));
  EXPECT_EQ(m.dtype(), layout.dtype);
  EXPECT_EQ(m.memory_mapped(), layout.memory_mapped);
  ASSERT_EQ(m.rows(), 3u);
  ASSERT_EQ(m.cols(), 4u);
  const auto& expected = golden()["npy_matrix"];
  const MatrixD values = m.to_f64();
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      // The values are multiples of 0.25: exact in float32 and float64.
      EXPECT_EQ(values(i, j), expected[i][j].get<double>()) << layout.file << " (" << i << ", " << j << ")";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, NpyLayoutTest,
                         ::testing::Values(Layout{"npy_c_f8.npy", NpyDtype::float64, true},
                                           Layout{"npy_c_f4.npy", NpyDtype::float32, true},
                                           Layout{"npy_fortran_f8.npy", NpyDtype::float64, false},
                                           Layout{"npy_fortran_f4.npy", NpyDtype::float32, false},
                                           Layout{"npy_big_endian_f8.npy", NpyDtype::float64, false},
                                           Layout{"npy_big_endian_fortran_f4.npy", NpyDtype::float32, false},
                                           Layout{"npy_version2_f8.npy", NpyDtype::float64, true}));

TEST(NpyReference, EmptyRowsAreAValidMatrix) {
  const NpyMatrix m = read_npy(golden_path("npy_empty_rows_f4.npy"));
  EXPECT_EQ(m.rows(), 0u);
  EXPECT_EQ(m.cols(), 7u);
  EXPECT_EQ(m.dtype(), NpyDtype::float32);
}

TEST(NpyReference, WriterMatchesNumpyByteForByte) {
  const chexgen::testing::ScratchDir dir("npy-reference");
  const MatrixD m = read_npy(golden_path("npy_c_f8.npy")).to_f64();
  write_npy(dir / "f8.npy", m.view());
  EXPECT_EQ(file_bytes((dir / "f8.npy").string()), file_bytes(golden_path("npy_c_f8.npy")));
  const MatrixF f = read_npy(golden_path("npy_c_f4.npy")).to_f32();
  write_npy(dir / "f4.npy", f.view());
  EXPECT_EQ(file_bytes((dir / "f4.npy").string()), file_bytes(golden_path("npy_c_f4.npy")));
}

struct BadFile {
  const char* file;
  const char* message;
};

class NpyBadFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(NpyBadFileTest, IsAnInputErrorNamingTheFile) {
  const BadFile bad = GetParam();
  const std::string path = golden_path(bad.file);
  try {
    (void)read_npy(path);
    FAIL() << bad.file << " was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, path);
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr(bad.message));
  }
}

INSTANTIATE_TEST_SUITE_P(NumpyWritten, NpyBadFileTest,
                         ::testing::Values(BadFile{"bad_1d.npy", "expected a 2-D array (samples x features), got 1-D"},
                                           BadFile{"bad_3d.npy", "got 3-D shape (2, 3, 4)"},
                                           BadFile{"bad_int32.npy", "unsupported dtype '<i4'"},
                                           BadFile{"bad_float16.npy", "unsupported dtype '<f2'"}));

}  // namespace
}  // namespace chexgen::features
