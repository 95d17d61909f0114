// libFuzzer target for the image decoders (PNG, JPEG, DICOM): arbitrary bytes must either decode or
// raise chexgen::InputError; anything else (a crash, a sanitizer report, another exception, an abort
// from CHEXGEN_ASSERT) is a bug. Seed corpus: tests/data/images/ (all subfolders).
//   fuzz_decode -max_len=65536 -rss_limit_mb=2048 tests/data/images/png tests/data/images/jpeg ...
#include <cstddef>
#include <cstdint>
#include <span>

#include "chexgen/core/error.h"
#include "chexgen/image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  // A small pixel limit keeps each run fast: a 60-byte PNG header may claim 16384 x 16384 pixels.
  const chexgen::DecodeLimits limits{.max_pixels = std::int64_t{1} << 22};
  try {
    (void)chexgen::decode_image_u8(bytes, "fuzz-input", chexgen::ColorMode::gray, limits);
  } catch (const chexgen::InputError&) {
  }
  try {
    (void)chexgen::decode_image_float(bytes, "fuzz-input", chexgen::ColorMode::rgb, limits);
  } catch (const chexgen::InputError&) {
  }
  return 0;
}
