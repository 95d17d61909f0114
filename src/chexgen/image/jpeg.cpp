// JPEG decoding with libjpeg-turbo (the same library and default settings Pillow uses: islow IDCT,
// fancy upsampling), so decoded pixels equal Pillow's.
//
// libjpeg reports fatal errors through error_exit, which must not return: we longjmp back to a setjmp
// in a small function holding no C++ objects with destructors, then throw from ordinary code.
// Warnings about corrupt or missing data (emit_message with level -1) are made fatal the same way:
// libjpeg would otherwise fill the rest of the image with grey and carry on.
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first

#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode_pvt.h"

namespace chexgen::detail {
namespace {

// Trivially destructible on purpose (see the file comment). `manager` must stay the first member:
// libjpeg hands the callbacks a pointer to it, and we get back to the whole state from there.
struct JpegErrorState {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  int message_code = 0;
  char message[JMSG_LENGTH_MAX] = {};
};

JpegErrorState& state_of(j_common_ptr cinfo) { return *reinterpret_cast<JpegErrorState*>(cinfo->err); }

void record_and_jump(j_common_ptr cinfo) {
  JpegErrorState& state = state_of(cinfo);
  state.message_code = cinfo->err->msg_code;
  (*cinfo->err->format_message)(cinfo, state.message);
  std::longjmp(state.jump, 1);
}

extern "C" void jpeg_on_error_exit(j_common_ptr cinfo) { record_and_jump(cinfo); }

// Warnings that say nothing about the pixels (unknown JFIF revision, odd Adobe transform code that
// libjpeg resolves, a malformed ICC marker we do not use) are ignored; every other warning is a
// "Corrupt JPEG data" or "Premature end of JPEG file" condition and becomes an error.
extern "C" void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level != -1) return;  // trace messages
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) return;
  record_and_jump(cinfo);
}

struct JpegHeader {
  J_COLOR_SPACE color_space = JCS_UNKNOWN;
  int components = 0;
  JDIMENSION width = 0;
  JDIMENSION height = 0;
};

// jpeg_create_decompress can fail (out of memory) through error_exit too.
bool create_jpeg_decompress(jpeg_decompress_struct& cinfo, JpegErrorState& errors) {
  if (setjmp(errors.jump)) return false;
  jpeg_create_decompress(&cinfo);
  return true;
}

bool read_jpeg_header(jpeg_decompress_struct& cinfo, JpegErrorState& errors, std::span<const std::uint8_t> bytes,
                      JpegHeader& header) {
  if (setjmp(errors.jump)) return false;
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);  // require_image: a tables-only stream is an error (JERR_NO_IMAGE)
  header.color_space = cinfo.jpeg_color_space;
  header.components = cinfo.num_components;
  header.width = cinfo.image_width;
  header.height = cinfo.image_height;
  return true;
}

// Decodes all scanlines into `pixels` (width * height * output components bytes) and reads up to EOI.
bool read_jpeg_pixels(jpeg_decompress_struct& cinfo, JpegErrorState& errors, J_COLOR_SPACE out_color_space,
                      std::uint8_t* pixels, std::size_t expected_row_bytes, bool& size_matches) {
  if (setjmp(errors.jump)) return false;
  cinfo.out_color_space = out_color_space;
  jpeg_start_decompress(&cinfo);
  size_matches = static_cast<std::size_t>(cinfo.output_width) * cinfo.output_components == expected_row_bytes;
  if (!size_matches) return true;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels + static_cast<std::size_t>(cinfo.output_scanline) * expected_row_bytes;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

struct JpegGuard {
  jpeg_decompress_struct* cinfo;
  ~JpegGuard() { jpeg_destroy_decompress(cinfo); }
};

[[noreturn]] void throw_jpeg_error(std::string_view source, const JpegErrorState& errors, std::size_t size) {
  switch (errors.message_code) {
    case JWRN_JPEG_EOF:
      throw_decode_error(source, fmt::format("truncated JPEG: data ends after {} bytes ({})", size, errors.message));
    case JERR_BAD_PRECISION:
      throw_decode_error(source, fmt::format("unsupported JPEG: {} ({}-bit samples; this libjpeg-turbo build "
                                             "decodes 8-bit JPEG files only)",
                                             errors.message, errors.manager.msg_parm.i[0]));
    case JERR_SOF_UNSUPPORTED:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
    case JERR_EMPTY_IMAGE: throw_decode_error(source, fmt::format("unsupported JPEG: {}", errors.message));
    default: throw_decode_error(source, fmt::format("corrupt JPEG: {}", errors.message));
  }
}

}  // namespace

DecodedImage decode_jpeg(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits) {
  JpegErrorState errors;
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_on_error_exit;
  errors.manager.emit_message = jpeg_on_message;
  if (!create_jpeg_decompress(cinfo, errors)) {
    throw_decode_error(source, fmt::format("cannot start the JPEG decoder: {}", errors.message));
  }
  JpegGuard guard{&cinfo};

  JpegHeader header;
  if (!read_jpeg_header(cinfo, errors, bytes, header)) throw_jpeg_error(source, errors, bytes.size());
  J_COLOR_SPACE out_color_space = JCS_UNKNOWN;
  int channels = 0;
  switch (header.color_space) {
    case JCS_GRAYSCALE:
      out_color_space = JCS_GRAYSCALE;
      channels = 1;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      out_color_space = JCS_RGB;
      channels = 3;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      throw_decode_error(source, fmt::format("unsupported JPEG: {} colour space (print-oriented JPEG); "
                                             "only gray, RGB and YCbCr JPEG files are supported",
                                             header.color_space == JCS_CMYK ? "CMYK" : "YCCK"));
    default:
      throw_decode_error(source,
                         fmt::format("unsupported JPEG: unknown colour space with {} components", header.components));
  }
  check_image_size(source, "JPEG", header.width, header.height, limits);

  DecodedImage out;
  out.width = static_cast<int>(header.width);
  out.height = static_cast<int>(header.height);
  out.channels = channels;
  out.depth = DecodedImage::Depth::u8;
  const std::size_t row_bytes = static_cast<std::size_t>(header.width) * channels;
  out.samples_u8.resize(row_bytes * header.height);
  bool size_matches = true;
  if (!read_jpeg_pixels(cinfo, errors, out_color_space, out.samples_u8.data(), row_bytes, size_matches)) {
    throw_jpeg_error(source, errors, bytes.size());
  }
  CHEXGEN_ASSERT(size_matches, "libjpeg output size differs from the header's");
  return out;
}

}  // namespace chexgen::detail
