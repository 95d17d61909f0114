#include "chexgen/core/hash.h"
#include "chexgen/core/files.h"

#include <string>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"

namespace chexgen {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Test vectors from FIPS 180-2, appendix B.1, and the SHA-256 of the empty message.
TEST(Sha256, StandardVectors) {
  EXPECT_EQ(sha256_hex(bytes_of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(bytes_of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ReadFileBytes, MissingFileNamesThePath) {
  try {
    read_file_bytes("/nonexistent/dir/scan.png");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/scan.png"), std::string::npos) << e.what();
  }
}

TEST(ReadFileBytes, ReadsSampleManifest) {
  const std::string text = read_file_bytes(std::string(CHEXGEN_SOURCE_DIR) + "/data/sample/labels.csv");
  EXPECT_EQ(text.rfind("file_name,patient_id,", 0), 0u);
}

}  // namespace
}  // namespace chexgen
