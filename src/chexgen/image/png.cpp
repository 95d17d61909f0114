// PNG decoding and encoding with libpng.
//
// libpng reports errors by calling an error callback that must not return; we longjmp back to a
// setjmp in a small function that holds no C++ objects with destructors (so no destructor is ever
// skipped), record the message in a caller-owned state, and throw from ordinary C++ code afterwards.
#include <png.h>

#include <bit>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/image/decode_pvt.h"

namespace chexgen {
namespace detail {
namespace {

// Everything the libpng callbacks touch. Trivially destructible on purpose (see the file comment).
struct PngReadState {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t offset = 0;
  bool ran_out = false;  // the read callback was asked for bytes past the end of the buffer
  char message[256] = {};
};

extern "C" void png_on_read_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngReadState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

// libpng warnings concern recoverable oddities in ancillary chunks (e.g. an iCCP profile libpng
// dislikes); they do not change the pixels, so they are not reported. CRC errors are made fatal below.
extern "C" void png_on_warning(png_structp, png_const_charp) {}

extern "C" void png_read_from_buffer(png_structp png, png_bytep out, std::size_t count) {
  auto* state = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (count > state->size - state->offset) {
    state->ran_out = true;
    png_error(png, "unexpected end of data");
  }
  std::memcpy(out, state->data + state->offset, count);
  state->offset += count;
}

struct PngHeader {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;   // after transforms: 8 or 16
  int color_type = 0;  // after transforms
  int channels = 0;    // after transforms, alpha included
  std::size_t row_bytes = 0;
};

// Phase 1a: signature and chunks up to the first IDAT. libpng reserves nothing in proportion to the image yet, so
// the declared size can be checked against our DecodeLimits before phase 1b, which allocates row buffers.
// Returns false if libpng raised an error (the message is in the state).
bool read_png_info(png_structp png, png_infop info, png_uint_32& width, png_uint_32& height) {
  if (setjmp(png_jmpbuf(png))) return false;
  // A CRC error in any chunk, critical or ancillary, means the file is damaged: stop.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  // Our own DecodeLimits replace libpng's default 1,000,000-pixel side limit.
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(png, info);
  width = png_get_image_width(png, info);
  height = png_get_image_height(png, info);
  return true;
}

// Phase 1b: the transforms we ask for (libpng allocates its row buffers here).
bool read_png_header(png_structp png, png_infop info, PngHeader& header) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int file_color_type = png_get_color_type(png, info);
  const int file_bit_depth = png_get_bit_depth(png, info);
  // Pillow's unpackers scale 1/2/4-bit gray by 255/85/17, as libpng's expansion does.
  if (file_color_type == PNG_COLOR_TYPE_GRAY && file_bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // Palette to RGB; this also turns tRNS into an alpha channel, which we then drop like Pillow's convert.
  if (file_color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (file_bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header.width = png_get_image_width(png, info);
  header.height = png_get_image_height(png, info);
  header.bit_depth = png_get_bit_depth(png, info);
  header.color_type = png_get_color_type(png, info);
  header.channels = png_get_channels(png, info);
  header.row_bytes = png_get_rowbytes(png, info);
  return true;
}

// Phase 2: all pixel rows (every interlace pass), then the chunks up to IEND, checking their CRCs.
bool read_png_pixels(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

struct PngReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadGuard() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

[[noreturn]] void throw_png_error(std::string_view source, const PngReadState& state) {
  if (state.ran_out) {
    throw_decode_error(source, fmt::format("truncated PNG: data ends after {} bytes ({})", state.size, state.message));
  }
  throw_decode_error(source, fmt::format("corrupt PNG: {}", state.message));
}

}  // namespace

DecodedImage decode_png(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits) {
  PngReadState state;
  state.data = bytes.data();
  state.size = bytes.size();
  PngReadGuard guard;
  guard.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_on_read_error, png_on_warning);
  CHEXGEN_ASSERT(guard.png != nullptr, "png_create_read_struct failed");
  guard.info = png_create_info_struct(guard.png);
  CHEXGEN_ASSERT(guard.info != nullptr, "png_create_info_struct failed");
  png_set_read_fn(guard.png, &state, png_read_from_buffer);

  png_uint_32 declared_width = 0;
  png_uint_32 declared_height = 0;
  if (!read_png_info(guard.png, guard.info, declared_width, declared_height)) throw_png_error(source, state);
  check_image_size(source, "PNG", declared_width, declared_height, limits);
  PngHeader header;
  if (!read_png_header(guard.png, guard.info, header)) throw_png_error(source, state);
  CHEXGEN_ASSERT(header.bit_depth == 8 || header.bit_depth == 16, "libpng transforms left an odd bit depth");
  const int bytes_per_sample = header.bit_depth / 8;
  CHEXGEN_ASSERT(header.row_bytes == std::size_t{header.width} * header.channels * bytes_per_sample,
                 "unexpected PNG row size");

  std::vector<std::uint8_t> buffer(header.row_bytes * header.height);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y) rows[y] = buffer.data() + y * header.row_bytes;
  if (!read_png_pixels(guard.png, guard.info, rows.data())) throw_png_error(source, state);

  DecodedImage out;
  out.width = static_cast<int>(header.width);
  out.height = static_cast<int>(header.height);
  out.channels = (header.color_type & PNG_COLOR_MASK_COLOR) != 0 ? 3 : 1;  // alpha, if any, is dropped
  const std::size_t pixels = std::size_t{header.width} * header.height;
  const int in_channels = header.channels;
  const int out_channels = out.channels;
  if (header.bit_depth == 8) {
    out.depth = DecodedImage::Depth::u8;
    out.samples_u8.resize(pixels * out_channels);
    for (std::size_t i = 0; i < pixels; ++i) {
      for (int c = 0; c < out_channels; ++c) out.samples_u8[i * out_channels + c] = buffer[i * in_channels + c];
    }
  } else {
    out.depth = DecodedImage::Depth::u16;
    out.samples_u16.resize(pixels * out_channels);
    for (std::size_t i = 0; i < pixels; ++i) {
      for (int c = 0; c < out_channels; ++c) {
        std::uint16_t v;  // native order after png_set_swap
        std::memcpy(&v, buffer.data() + 2 * (i * in_channels + c), 2);
        out.samples_u16[i * out_channels + c] = v;
      }
    }
  }
  return out;
}

namespace {

struct PngWriteState {
  char message[256] = {};
};

extern "C" void png_on_write_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngWriteState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

struct PngBuffer {
  std::string bytes;
};

extern "C" void png_on_write_data(png_structp png, png_bytep data, png_size_t length) {
  auto* buffer = static_cast<PngBuffer*>(png_get_io_ptr(png));
  buffer->bytes.append(reinterpret_cast<const char*>(data), length);
}

extern "C" void png_on_flush(png_structp) {}

bool write_png_rows(png_structp png, png_infop info, PngBuffer* buffer, const Image8& image, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, buffer, png_on_write_data, png_on_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteGuard() { png_destroy_write_struct(&png, info != nullptr ? &info : nullptr); }
};

}  // namespace
}  // namespace detail

std::string encode_png(const Image8& image) {
  using namespace detail;
  CHEXGEN_ASSERT(image.width > 0 && image.height > 0, "encode_png takes a non-empty image");
  CHEXGEN_ASSERT(image.channels == 1 || image.channels == 3, "encode_png takes gray or RGB images");
  CHEXGEN_ASSERT(image.data.size() == static_cast<std::size_t>(image.width) * image.height * image.channels,
                 "image data size does not match its dimensions");
  PngWriteState state;
  PngWriteGuard guard;
  guard.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, png_on_write_error, png_on_warning);
  CHEXGEN_ASSERT(guard.png != nullptr, "png_create_write_struct failed");
  guard.info = png_create_info_struct(guard.png);
  CHEXGEN_ASSERT(guard.info != nullptr, "png_create_info_struct failed");

  const std::size_t row_bytes = static_cast<std::size_t>(image.width) * image.channels;
  std::vector<png_bytep> rows(image.height);
  // libpng takes non-const row pointers but only reads from them when writing.
  auto* base = const_cast<std::uint8_t*>(image.data.data());
  for (int y = 0; y < image.height; ++y) rows[y] = base + y * row_bytes;

  PngBuffer buffer;
  // Writing to memory fails only if libpng itself does (out of memory): not a user error.
  const bool ok = write_png_rows(guard.png, guard.info, &buffer, image, rows.data());
  CHEXGEN_ASSERT(ok, std::string("libpng could not encode the image: ") + state.message);
  return std::move(buffer.bytes);
}

void write_png(const std::filesystem::path& path, const Image8& image) {
  if (image.width <= 0 || image.height <= 0) {
    throw OutputError(
        fmt::format("{}: cannot write an empty ({} x {}) image as PNG", path.string(), image.width, image.height));
  }
  write_file_atomically(path, encode_png(image));
}

}  // namespace chexgen
