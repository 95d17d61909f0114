// Damaged, unsupported and missing inputs: each is an InputError whose location is the file path and
// whose message says what is wrong. Fixtures from tests/fixtures/make_image_fixtures.py (PNG, JPEG)
// and make_dicom_fixtures.cpp (DICOM).
#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/image/decode.h"
#include "image_io_test_support.h"

namespace chexgen {
namespace {

using test::image_fixture;

struct DamagedCase {
  std::string fixture;
  std::vector<std::string> message_parts;  // each must appear in the error message
};

void PrintTo(const DamagedCase& c, std::ostream* os) { *os << c.fixture; }

class DamagedFileTest : public ::testing::TestWithParam<DamagedCase> {};

void expect_input_error(const std::filesystem::path& path, const std::vector<std::string>& parts, bool as_float) {
  try {
    if (as_float) {
      (void)read_image_float(path, ColorMode::gray);
    } else {
      (void)read_image_u8(path, ColorMode::rgb);
    }
    ADD_FAILURE() << path << ": expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.where().file, path.string());
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;  // starts with the path
    for (const auto& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

TEST_P(DamagedFileTest, IsInputErrorNamingFileAndProblem) {
  expect_input_error(image_fixture(GetParam().fixture), GetParam().message_parts, false);
  expect_input_error(image_fixture(GetParam().fixture), GetParam().message_parts, true);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, DamagedFileTest,
    ::testing::Values(
        DamagedCase{"damaged/empty.png", {"empty file"}},
        DamagedCase{"damaged/truncated_header.png", {"truncated PNG"}},
        DamagedCase{"damaged/truncated_idat.png", {"truncated PNG"}},
        DamagedCase{"damaged/truncated_no_iend.png", {"truncated PNG"}},
        DamagedCase{"damaged/bad_crc.png", {"corrupt PNG", "IDAT: CRC error"}},
        DamagedCase{"damaged/bad_crc_ancillary.png", {"corrupt PNG", "tEXt: CRC error"}},
        DamagedCase{"damaged/corrupt_idat.png", {"corrupt PNG", "IDAT"}},
        DamagedCase{"damaged/text.png", {"unknown image format"}},
        DamagedCase{"damaged/garbage.bin", {"unknown image format"}},
        DamagedCase{"damaged/truncated.jpg", {"truncated JPEG"}},
        DamagedCase{"damaged/soi_only.jpg", {"truncated JPEG"}},
        DamagedCase{"damaged/corrupt_data.jpg", {"corrupt JPEG"}},
        DamagedCase{"jpeg/cmyk.jpg", {"unsupported JPEG", "CMYK"}},
        DamagedCase{"jpeg/precision12.jpg", {"unsupported JPEG", "12-bit"}},
        DamagedCase{"dicom/truncated.dcm", {"truncated DICOM"}},
        // Found by fuzz/decode_fuzz.cpp: declared lengths of ~4 GB that DCMTK would allocate before reading.
        DamagedCase{"damaged/dicom_meta_huge_length.dcm", {"truncated DICOM", "(0002,0001) declares"}},
        DamagedCase{"damaged/dicom_element_huge_length.dcm", {"truncated DICOM", "declares"}},
        DamagedCase{"damaged/dicom_meta_group_length.dcm", {"truncated DICOM", "declares"}},
        DamagedCase{"damaged/dicom_unknown_vr_length.dcm", {"truncated DICOM", "declares"}},
        // Found by the fuzzer: DCMTK 3.6.7 loops forever scanning this JPEG fragment.
        DamagedCase{"damaged/dicom_jpeg_tem_marker.dcm", {"corrupt DICOM", "TEM marker"}},
        DamagedCase{"dicom/no_pixel_data.dcm", {"no Pixel Data"}},
        DamagedCase{"dicom/multiframe.dcm", {"unsupported DICOM", "2 frames"}},
        DamagedCase{"dicom/jpeg2000.dcm", {"unsupported DICOM", "JPEG 2000"}},
        DamagedCase{"no_such_file.png", {"cannot open file"}}),
    [](const ::testing::TestParamInfo<DamagedCase>& info) {
      std::string name = info.param.fixture;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(DamagedFile, DirectoryIsInputError) {
  expect_input_error(image_fixture("damaged"), {"not a regular file"}, false);
}

TEST(DecodeLimits, TooManyPixelsIsRefusedBeforeDecoding) {
  const std::string bytes = read_file_bytes(image_fixture("png/rgb8.png"));  // 7 x 5 = 35 pixels
  const std::span<const std::uint8_t> span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  try {
    (void)decode_image_u8(span, "big.png", ColorMode::rgb, DecodeLimits{.max_pixels = 34});
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("big.png: unsupported PNG: image of 7 x 5 pixels exceeds the limit of 34"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(decode_image_u8(span, "ok.png", ColorMode::rgb, DecodeLimits{.max_pixels = 35}).width, 7);
}

TEST(DecodeFromMemory, ErrorNamesTheSourceName) {
  const std::uint8_t bytes[] = {0x89, 'P', 'N', 'G'};
  try {
    (void)decode_image_float(bytes, "upload #3", ColorMode::gray);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("upload #3: truncated PNG", 0), 0u) << e.what();
  }
}

// Every strict prefix of a valid file is a damaged file: it must be refused with an InputError
// (never decoded into a partly grey image, never a crash; the test runs under AddressSanitizer).
class EveryPrefixTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPrefixTest, IsInputError) {
  const std::string whole = read_file_bytes(image_fixture(GetParam()));
  const auto* data = reinterpret_cast<const std::uint8_t*>(whole.data());
  ASSERT_NO_THROW((void)decode_image_u8({data, whole.size()}, GetParam(), ColorMode::gray));
  int accepted = 0;
  for (std::size_t n = 0; n < whole.size(); ++n) {
    try {
      (void)decode_image_u8({data, n}, GetParam(), ColorMode::gray);
      if (++accepted <= 3)
        ADD_FAILURE() << GetParam() << ": prefix of " << n << " of " << whole.size() << " bytes decoded";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, GetParam());
    }
  }
  EXPECT_EQ(accepted, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryPrefixTest,
                         ::testing::Values("png/rgb8.png", "png/gray16.png", "png/palette4_trns.png",
                                           "png/rgb8_interlaced.png", "jpeg/ycbcr420.jpg",
                                           "jpeg/ycbcr422_progressive.jpg", "dicom/mono2_u12.dcm",
                                           "dicom/mono2_u12_jpeg_lossless.dcm", "dicom/mono2_u12_jpegls.dcm",
                                           "dicom/mono2_u12_rle.dcm", "dicom/mono2_u12_voilut.dcm"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace chexgen
