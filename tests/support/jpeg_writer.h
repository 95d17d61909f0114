// A gray JPEG written with libjpeg at a given quality: planted copies that went through lossy compression.
#pragma once

#include <filesystem>

#include "chexgen/image/image.h"

namespace chexgen::testing {

// `image` must have one channel. Throws std::runtime_error when the file cannot be written.
void write_gray_jpeg(const std::filesystem::path& path, const Image8& image, int quality);

}  // namespace chexgen::testing
