// The .npy reader and writer: round trips, and malformed files built byte by byte.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/features/npy.h"
#include "support/scratch_dir.h"
#include "test_data.h"

namespace chexgen::features {
namespace {

using ::testing::HasSubstr;

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
dir_ = chexgen::testing::make_scratch_dir("npy"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A version 1.0 file with this header text (padded with '\n') and payload.
  std::string write_raw(const std::string& name, const std::string& header, const std::string& payload,
                        int major = 1) const {
    std::string bytes("\x93NUMPY", 6);
    bytes.push_back(static_cast<char>(major));
    bytes.push_back('\0');
    const std::string h = header + "\n";
    bytes.push_back(static_cast<char>(h.size() & 0xFF));
    bytes.push_back(static_cast<char>(h.size() >> 8));
    if (major >= 2) bytes.append(2, '\0');
    bytes += h;
    bytes += payload;
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  void expect_error(const std::string& file, const std::string& message) const {
    try {
      (void)read_npy(file);
      FAIL() << "accepted: " << message;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, file);
      EXPECT_THAT(e.what(), HasSubstr(message));
    }
  }

  std::filesystem::path dir_;
};

std::string doubles(std::size_t n) { return std::string(n * 8, '\0'); }

TEST_F(NpyTest, RoundTripFloatAndDoubleWithAwkwardShapes) {
  for (const auto& [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 1}, {7, 13}, {129, 3}, {0, 5}, {4, 0}}) {
    const auto d = chexgen::testing::random_matrix<double>(rows, cols, 7);
    write_npy(path("d.npy"), d.view());
    const NpyMatrix rd = read_npy(path("d.npy"));
    ASSERT_EQ(rd.dtype(), NpyDtype::float64);
    ASSERT_EQ(rd.rows(), rows);
    ASSERT_EQ(rd.cols(), cols);
    EXPECT_EQ(rd.to_f64().values(), d.values());
    EXPECT_EQ(rd.memory_mapped(), rows * cols > 0);

    const auto f = chexgen::testing::random_matrix<float>(rows, cols, 8);
    write_npy(path("f.npy"), f.view());
    const NpyMatrix rf = read_npy(path("f.npy"));
    ASSERT_EQ(rf.dtype(), NpyDtype::float32);
    EXPECT_EQ(rf.to_f32().values(), f.values());
    if (rows * cols > 0) {
      EXPECT_EQ(rf.view_f32().row(rows - 1)[cols - 1], f(rows - 1, cols - 1));
    }
  }
}

TEST_F(NpyTest, WriterLeavesNoPartialFileAndKeepsSpecialValues) {
  MatrixF m(2, 2);
  m(0, 0) = std::numeric_limits<float>::infinity();
  m(1, 1) = -0.0f;
  write_npy(path("x.npy"), m.view());
  EXPECT_FALSE(std::filesystem::exists(path("x.npy.partial")));
  const auto back = read_npy(path("x.npy")).to_f32();
  EXPECT_TRUE(std::isinf(back(0, 0)));
  EXPECT_TRUE(std::signbit(back(1, 1)));
}

TEST_F(NpyTest, WriteIntoAMissingFolderIsAnOutputError) {
  const MatrixF m(1, 1);
  EXPECT_THROW(write_npy(dir_ / "no" / "such" / "x.npy", m.view()), OutputError);
}

TEST_F(NpyTest, FortranOrderIsTransposedIntoCOrder) {
  // Column-major 2 x 3: columns (1, 2), (3, 4), (5, 6) -> rows (1, 3, 5), (2, 4, 6).
  std::string payload;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}) payload.append(reinterpret_cast<const char*>(&v), 8);
  const auto file = write_raw("f.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", payload);
  const NpyMatrix m = read_npy(file);
  EXPECT_FALSE(m.memory_mapped());
  const auto v = m.to_f64();
  EXPECT_EQ(v.values(), (std::vector<double>{1, 3, 5, 2, 4, 6}));
}

TEST_F(NpyTest, HeaderVariantsThatNumpyAccepts) {
  // Double quotes, key order, no trailing comma, Python 2 long suffixes, version 2.0 and 3.0.
  const auto a = write_raw("a.npy", "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f8\"}", doubles(2));
  EXPECT_EQ(read_npy(a).rows(), 2u);
  const auto b = write_raw("b.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", doubles(2), 2);
  EXPECT_EQ(read_npy(b).cols(), 2u);
  const auto c = write_raw("c.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", doubles(2), 3);
  EXPECT_EQ(read_npy(c).cols(), 2u);
}

TEST_F(NpyTest, TruncatedDataNamesTheFirstMissingRow) {
  const auto file = write_raw("t.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }", doubles(5));
  expect_error(file, "truncated data: shape (4, 2) float64 needs 64 bytes, the file has 40 (rows 3 onwards missing)");
}

TEST_F(NpyTest, TrailingBytesAreAnError) {
  const auto file = write_raw("t.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", doubles(3));
  expect_error(file, "8 unexpected bytes after the data");
}

TEST_F(NpyTest, MalformedHeaders) {
  const std::string ok_payload = doubles(2);
  struct Case {
    std::string header;
    std::string message;
  };
  const Case cases[] = {
      {"{'descr': '<f8', 'fortran_order': False}", "must have the keys 'descr', 'fortran_order' and 'shape'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'extra': 1}", "unexpected key 'extra'"},
      {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}", "key 'descr' appears twice"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)", "expected ',' or '}'"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1, 2)}", "unexpected value"},
      {"{'descr': '<f8', 'fortran_order': 'no', 'shape': (1, 2)}", "'fortran_order' is not True or False"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [1, 2]}", "structured"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, -2)}", "expected a non-negative integer"},
      {"{'descr': 8, 'fortran_order': False, 'shape': (1, 2)}", "unexpected value"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)} x", "text after the closing '}'"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (1, 2)}", "unsupported dtype '<c16'"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2)}", "unsupported dtype '|u1'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ()}", "got 0-D shape ()"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 2)}", "dimension too large"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", "is too large"},
      {"'descr': '<f8'", "expected '{'"},
  };
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    expect_error(write_raw("h" + std::to_string(i++) + ".npy", c.header, ok_payload), c.message);
  }
}

TEST_F(NpyTest, NotNpyFiles) {
  std::ofstream(path("empty.npy")) << "";
  expect_error(path("empty.npy"), "not a .npy file (only 0 bytes)");
  std::ofstream(path("text.npy")) << "hello, this is not numpy";
  expect_error(path("text.npy"), "missing the \\x93NUMPY magic string");
  const auto v4 = write_raw("v4.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", doubles(2), 4);
  expect_error(v4, "unsupported .npy format version 4.0");
  // The header length points past the end of the file.
  std::string bytes("\x93NUMPY\x01\x00\xff\x00{'descr'", 18);
  std::ofstream(path("short.npy"), std::ios::binary) << bytes;
  expect_error(path("short.npy"), "truncated .npy header");
  expect_error(path("missing.npy"), "cannot open");
  expect_error(dir_.string(), "not a regular file");
}

TEST(NpyHeader, ParsesWithoutAFile) {
  const std::string h = "{'descr': '>f4', 'fortran_order': True, 'shape': (5, 6), }\n";
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(h.size()));
  bytes.push_back('\0');
  bytes += h;
  const NpyHeader parsed =
      parse_npy_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "mem.npy");
  EXPECT_EQ(parsed.dtype, NpyDtype::float32);
  EXPECT_TRUE(parsed.big_endian);
  EXPECT_TRUE(parsed.fortran_order);
  EXPECT_EQ(parsed.rows, 5u);
  EXPECT_EQ(parsed.cols, 6u);
  EXPECT_EQ(parsed.data_offset_bytes, bytes.size());
}

}  // namespace
}  // namespace chexgen::features
