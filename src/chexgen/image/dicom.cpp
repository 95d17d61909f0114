// DICOM decoding with DCMTK: parsing, decompression (JPEG, JPEG-LS, RLE codecs), then our own
// grayscale pipeline, each step as the DICOM standard (PS3.3) defines it:
//   stored value  -> Modality rescale  x = stored * RescaleSlope + RescaleIntercept   (C.11.1)
//   x             -> VOI: VOI LUT Sequence, else Window Center/Width, else min..max of x (C.11.2)
//   VOI output    -> 0..255, inverted for MONOCHROME1                                  (C.7.6.3.1.2)
// The result keeps full float precision; 8-bit callers get it rounded.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode_pvt.h"

namespace chexgen::detail {
namespace {

// DCMTK keeps its codec list and logger configuration in process-wide state. We register the
// decoders once (thread-safe function-local static) and never change them afterwards; DCMTK's
// own log output is switched off because every problem reaches the caller as an InputError.
class DcmtkSetup {
 public:
  DcmtkSetup() {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();      // JPEG baseline, extended (12-bit), lossless
    DJLSDecoderRegistration::registerCodecs();    // JPEG-LS lossless and near-lossless
    DcmRLEDecoderRegistration::registerCodecs();  // RLE lossless
  }
  ~DcmtkSetup() {
    DcmRLEDecoderRegistration::cleanup();
    DJLSDecoderRegistration::cleanup();
    DJDecoderRegistration::cleanup();
  }
  DcmtkSetup(const DcmtkSetup&) = delete;
  DcmtkSetup& operator=(const DcmtkSetup&) = delete;
};

void ensure_dcmtk_ready() { static const DcmtkSetup setup; }

std::string trimmed(const OFString& s) {
  std::string out(s.c_str());
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::string tag_name(const DcmTagKey& key) {
  DcmTag tag(key);
  return fmt::format("({:04x},{:04x}) {}", key.getGroup(), key.getElement(), tag.getTagName());
}

// Reads the small US attributes of the Image Pixel module; a missing required one is corruption.
class PixelAttributes {
 public:
  PixelAttributes(DcmItem& item, std::string_view source) : item_(item), source_(source) {}

  std::uint16_t required(const DcmTagKey& key) const {
    Uint16 v = 0;
    if (item_.findAndGetUint16(key, v).bad()) {
      throw_decode_error(source_, fmt::format("corrupt DICOM: missing or unreadable {}", tag_name(key)));
    }
    return v;
  }
  std::uint16_t optional(const DcmTagKey& key, std::uint16_t fallback) const {
    Uint16 v = 0;
    return item_.findAndGetUint16(key, v).good() ? v : fallback;
  }
  std::optional<double> decimal(const DcmTagKey& key) const {
    Float64 v = 0;
    if (item_.findAndGetFloat64(key, v, 0).good() && std::isfinite(v)) return v;
    return std::nullopt;
  }
  std::string text(const DcmTagKey& key) const {
    OFString v;
    if (item_.findAndGetOFString(key, v).bad()) return {};
    return trimmed(v);
  }

 private:
  DcmItem& item_;
  std::string_view source_;
};

struct StoredLayout {
  int bits_allocated = 0;
  int bits_stored = 0;
  int high_bit = 0;
  bool is_signed = false;
};

// The stored value of one sample: bits [high_bit - bits_stored + 1, high_bit], sign-extended if signed.
std::int32_t stored_value(std::uint32_t raw, const StoredLayout& layout) {
  const int shift = layout.high_bit + 1 - layout.bits_stored;
  const std::uint32_t mask = (layout.bits_stored >= 32) ? 0xFFFFFFFFu : ((1u << layout.bits_stored) - 1u);
  const std::uint32_t v = (raw >> shift) & mask;
  if (layout.is_signed && (v & (1u << (layout.bits_stored - 1))) != 0) {
    return static_cast<std::int32_t>(v) - static_cast<std::int32_t>(1u << layout.bits_stored);
  }
  return static_cast<std::int32_t>(v);
}

// VOI LUT from the first item of the VOI LUT Sequence (PS3.3 C.11.2.1.1).
struct VoiLut {
  std::int32_t first_mapped = 0;  // input value mapped to the first entry
  int bits = 16;                  // bits per entry; output range 0 .. 2^bits - 1
  std::vector<std::uint16_t> entries;
};

std::optional<VoiLut> read_voi_lut(DcmItem& dataset, std::string_view source, bool signed_input) {
  DcmItem* item = nullptr;
  if (dataset.findAndGetSequenceItem(DCM_VOILUTSequence, item, 0).bad() || item == nullptr) return std::nullopt;
  Uint16 descriptor[3] = {0, 0, 0};
  for (unsigned long i = 0; i < 3; ++i) {
    if (item->findAndGetUint16(DCM_LUTDescriptor, descriptor[i], i).bad()) {
      Sint16 s = 0;  // LUT Descriptor may be encoded as SS
      if (item->findAndGetSint16(DCM_LUTDescriptor, s, i).bad()) {
        throw_decode_error(source, "corrupt DICOM: VOI LUT Sequence item without a 3-value LUT Descriptor");
      }
      descriptor[i] = static_cast<Uint16>(s);
    }
  }
  VoiLut lut;
  const std::size_t count = descriptor[0] == 0 ? 65536 : descriptor[0];  // 0 means 2^16 entries
  lut.first_mapped = signed_input ? static_cast<std::int16_t>(descriptor[1]) : descriptor[1];
  lut.bits = descriptor[2];
  if (lut.bits < 1 || lut.bits > 16) {
    throw_decode_error(source, fmt::format("corrupt DICOM: VOI LUT Descriptor gives {} bits per entry", lut.bits));
  }
  const Uint16* data = nullptr;
  unsigned long words = 0;
  if (item->findAndGetUint16Array(DCM_LUTData, data, &words).bad() || data == nullptr) {
    throw_decode_error(source, "corrupt DICOM: VOI LUT Sequence item without LUT Data");
  }
  if (words == count) {
    lut.entries.assign(data, data + count);
  } else if (lut.bits <= 8 && 2 * words >= count && 2 * words <= count + 1) {
    // 8-bit entries packed two per 16-bit word, low byte first.
    lut.entries.resize(count);
    for (std::size_t i = 0; i < count; ++i) lut.entries[i] = (data[i / 2] >> (8 * (i % 2))) & 0xFF;
  } else {
    throw_decode_error(
        source, fmt::format("corrupt DICOM: VOI LUT Data holds {} values, its descriptor says {}", words, count));
  }
  return lut;
}

// The VOI stage: x (a modality value) -> 0..255 before any MONOCHROME1 inversion.
class VoiTransform {
 public:
  enum class Kind { lut, window_linear, window_linear_exact, window_sigmoid, min_max };

  static VoiTransform from_dataset(DcmItem& dataset, const PixelAttributes& attrs, std::string_view source,
                                   bool signed_input, double min_x, double max_x) {
    VoiTransform t;
    // Preference when several are present: the VOI LUT, then the first window (pydicom's default order).
    if (auto lut = read_voi_lut(dataset, source, signed_input)) {
      t.kind_ = Kind::lut;
      t.lut_ = std::move(*lut);
      return t;
    }
    const auto center = attrs.decimal(DCM_WindowCenter);
    const auto width = attrs.decimal(DCM_WindowWidth);
    if (center && width) {
      t.center_ = *center;
      t.width_ = *width;
      const std::string function = attrs.text(DCM_VOILUTFunction);
      if (function.empty() || function == "LINEAR") {
        t.kind_ = Kind::window_linear;
        if (t.width_ < 1) {
          throw_decode_error(source, fmt::format("corrupt DICOM: Window Width {} is below 1 (LINEAR)", t.width_));
        }
      } else if (function == "LINEAR_EXACT" || function == "SIGMOID") {
        t.kind_ = function == "SIGMOID" ? Kind::window_sigmoid : Kind::window_linear_exact;
        if (t.width_ <= 0) {
          throw_decode_error(source,
                             fmt::format("corrupt DICOM: Window Width {} is not positive ({})", t.width_, function));
        }
      } else {
        throw_decode_error(source, fmt::format("unsupported DICOM: VOI LUT Function '{}'", function));
      }
      return t;
    }
    t.kind_ = Kind::min_max;
    t.min_ = min_x;
    t.max_ = max_x;
    return t;
  }

  double apply(double x) const {
    constexpr double y_max = 255.0;
    switch (kind_) {
      case Kind::lut: {
        // Inputs below the first mapped value take the first entry, above the last take the last.
        const double index = std::round(x) - lut_.first_mapped;
        const std::size_t last = lut_.entries.size() - 1;
        const std::size_t i = index <= 0 ? 0 : std::min(static_cast<std::size_t>(index), last);
        return lut_.entries[i] * y_max / ((1u << lut_.bits) - 1u);
      }
      case Kind::window_linear: {  // PS3.3 C.11.2.1.2.1
        const double c = center_ - 0.5;
        const double half = (width_ - 1.0) / 2.0;
        if (x <= c - half) return 0.0;
        if (x > c + half) return y_max;
        return ((x - c) / (width_ - 1.0) + 0.5) * y_max;
      }
      case Kind::window_linear_exact: {  // PS3.3 C.11.2.1.3.2
        if (x <= center_ - width_ / 2.0) return 0.0;
        if (x > center_ + width_ / 2.0) return y_max;
        return ((x - center_) / width_ + 0.5) * y_max;
      }
      case Kind::window_sigmoid:  // PS3.3 C.11.2.1.3.1
        return y_max / (1.0 + std::exp(-4.0 * (x - center_) / width_));
      case Kind::min_max:
        if (max_ <= min_) return 0.0;  // a constant image is black
        return (x - min_) / (max_ - min_) * y_max;
    }
    return 0.0;
  }

 private:
  Kind kind_ = Kind::min_max;
  VoiLut lut_;
  double center_ = 0, width_ = 0, min_ = 0, max_ = 0;
};

// DCMTK 3.6.7 allocates an element's value at its declared length before checking that the stream
// holds that many bytes, so a damaged 12-byte header can make it allocate 4 GB (found by
// fuzz/decode_fuzz.cpp). Before DCMTK sees the bytes we walk the element structure (PS3.5 7.1, 7.5)
// and refuse any declared length larger than what remains of the file. Values that hold elements
// (sequences, items) are walked into; encapsulated pixel fragments are skipped over.
class DeclaredLengthCheck {
 public:
  DeclaredLengthCheck(std::span<const std::uint8_t> bytes, std::string_view source) : b_(bytes), source_(source) {}

  void run() {
    std::size_t pos = 132;  // 128-byte preamble + "DICM"
    // File Meta Information: always explicit VR little endian (PS3.10 7.1).
    // Like DCMTK, read on past a non-0002 tag while inside the length that (0002,0000) declares.
    std::string transfer_syntax;
    std::size_t meta_end = 0;
    while (pos + 8 <= b_.size() && (u16(pos, false) == 0x0002 || pos < meta_end)) {
      const Element e = read_element(pos, /*explicit_vr=*/true, /*big_endian=*/false);
      check_fits(e, pos);
      if (e.group == 0x0002 && e.element == 0x0000 && e.length == 4 && pos + 12 <= b_.size()) {
        meta_end = pos + 12 + u32(pos + 8, false);
      }
      if (e.element == 0x0010 && e.length != kUndefined) {
        transfer_syntax.assign(reinterpret_cast<const char*>(b_.data() + pos + e.header), e.length);
        while (!transfer_syntax.empty() && (transfer_syntax.back() == '\0' || transfer_syntax.back() == ' ')) {
          transfer_syntax.pop_back();
        }
      }
      pos += e.header + (e.length == kUndefined ? 0 : e.length);
    }
    if (transfer_syntax == "1.2.840.10008.1.2.1.99") {
      throw_decode_error(source_, "unsupported DICOM: Deflated Explicit VR Little Endian transfer syntax");
    }
    const bool explicit_vr = transfer_syntax != "1.2.840.10008.1.2";
    const bool big_endian = transfer_syntax == "1.2.840.10008.1.2.2";
    bool in_fragments = false;  // inside encapsulated Pixel Data: items are opaque fragments
    while (pos + 8 <= b_.size()) {
      const std::uint32_t group = u16(pos, big_endian);
      if (group == 0xFFFE) {  // item and delimitation tags: tag + 4-byte length, no VR
        Element e{group, u16(pos + 2, big_endian), 8, u32(pos + 4, big_endian), false};
        if (e.element == 0xE000 && e.length != kUndefined) {
          check_fits(e, pos);
          pos += in_fragments ? e.header + e.length : e.header;  // an item holds elements: walk into it
        } else {
          if (e.element == 0xE0DD) in_fragments = false;
          pos += 8;
        }
        continue;
      }
      const Element e = read_element(pos, explicit_vr, big_endian);
      if (e.header == 12 && pos + 12 > b_.size()) return;  // cut inside a header: DCMTK reports it
      if (e.length == kUndefined) {                        // a sequence, or encapsulated pixel data: its items follow
        if (group == 0x7FE0) in_fragments = true;
        pos += e.header;
        continue;
      }
      check_fits(e, pos);
      const bool holds_items =
          e.is_sequence || (!explicit_vr && e.length >= 8 && u16(pos + e.header, big_endian) == 0xFFFE &&
                            u16(pos + e.header + 2, big_endian) == 0xE000);
      pos += holds_items ? e.header : e.header + e.length;
    }
  }

 private:
  static constexpr std::uint64_t kUndefined = 0xFFFFFFFFu;
  struct Element {
    std::uint32_t group, element;
    std::size_t header;
    std::uint64_t length;
    bool is_sequence;
  };

  std::uint32_t u16(std::size_t at, bool big) const {
    return big ? static_cast<std::uint32_t>((b_[at] << 8) | b_[at + 1])
               : static_cast<std::uint32_t>(b_[at] | (b_[at + 1] << 8));
  }
  std::uint32_t u32(std::size_t at, bool big) const {
    return big ? (u16(at, true) << 16) | u16(at + 2, true) : u16(at, false) | (u16(at + 2, false) << 16);
  }

  Element read_element(std::size_t pos, bool explicit_vr, bool big) const {
    Element e{u16(pos, big), u16(pos + 2, big), 8, 0, false};
    const auto is_letter = [](std::uint8_t c) { return c >= 'A' && c <= 'Z'; };
    if (!explicit_vr || !is_letter(b_[pos + 4]) || !is_letter(b_[pos + 5])) {
      e.length = u32(pos + 4, big);  // implicit VR; DCMTK reads a non-letter "VR" this way too
      return e;
    }
    // PS3.5 7.1.2: these VRs have a 2-byte length; all others, and (as DCMTK assumes) any
    // unknown two-letter VR, have 2 reserved bytes and a 4-byte length.
    static constexpr std::string_view kShortVrs[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO",
                                                     "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
    const std::string_view vr(reinterpret_cast<const char*>(b_.data() + pos + 4), 2);
    e.is_sequence = vr == "SQ";
    if (std::find(std::begin(kShortVrs), std::end(kShortVrs), vr) != std::end(kShortVrs)) {
      e.length = u16(pos + 6, big);
    } else {
      e.header = 12;
      e.length = pos + 12 <= b_.size() ? u32(pos + 8, big) : 0;
    }
    return e;
  }

  void check_fits(const Element& e, std::size_t pos) const {
    if (pos + e.header > b_.size()) return;  // cut inside a header: DCMTK reports it
    const std::size_t remaining = b_.size() - pos - e.header;
    if (e.length > remaining) {
      throw_decode_error(source_, fmt::format("truncated DICOM: element ({:04x},{:04x}) declares {} bytes, {} remain",
                                              e.group, e.element, e.length, remaining));
    }
  }

  std::span<const std::uint8_t> b_;
  std::string_view source_;
};

DcmDataset& parse_dicom(DcmFileFormat& file, std::span<const std::uint8_t> bytes, std::string_view source) {
  DeclaredLengthCheck(bytes, source).run();
  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  file.transferInit();
  const OFCondition status = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file.transferEnd();
  const bool consumed_everything = stream.eos();
  stream.releaseBuffer();
  if (status.bad()) {
    // DCMTK reports running out of bytes inside an element in several ways (EC_StreamNotifyClient,
    // EC_InvalidStream, ...); an error with the whole buffer consumed is a truncated file.
    if (consumed_everything || status == EC_StreamNotifyClient) {
      throw_decode_error(
          source, fmt::format("truncated DICOM: data ends after {} bytes (DCMTK: {})", bytes.size(), status.text()));
    }
    throw_decode_error(source, fmt::format("corrupt DICOM: {}", status.text()));
  }
  DcmDataset* dataset = file.getDataset();
  CHEXGEN_ASSERT(dataset != nullptr, "DcmFileFormat without a dataset");
  return *dataset;
}

// DCMTK 3.6.7's DJCodecDecoder::scanJpegDataForBitDepth never advances past a TEM marker (0xFF01)
// and loops forever (found by fuzz/decode_fuzz.cpp). We walk each fragment with the same rules
// (markers up to the first SOF) and refuse a fragment where that walk would meet a TEM marker.
bool jpeg_scan_would_hang(const Uint8* data, Uint32 length) {
  Uint32 offset = 0;
  while (offset + 4 < length) {
    const unsigned marker = (data[offset] << 8) | data[offset + 1];
    const unsigned segment = (data[offset + 2] << 8) | data[offset + 3];
    if (marker == 0xFF01) return true;
    if (marker >= 0xFFC0 && marker <= 0xFFCF && marker != 0xFFC4 && marker != 0xFFC8 && marker != 0xFFCC) {
      return false;  // SOF: DCMTK stops here
    }
    if (marker == 0xFFFF) {
      offset += 1;
    } else if ((marker >= 0xFFD0 && marker <= 0xFFD9) ||
               (data[offset] == 0xFF && data[offset + 1] > 2 && data[offset + 1] <= 0xBF)) {
      offset += 2;  // RSTn, SOI, EOI, reserved markers
    } else if (marker >= 0xFFC4) {
      offset += segment + 2;  // DHT, DAC, SOS, DQT, DNL, DRI, DHP, EXP, APPn, JPGn, COM
    } else {
      return false;  // DCMTK stops at an invalid marker
    }
  }
  return false;
}

void refuse_fragments_dcmtk_cannot_scan(DcmDataset& dataset, std::string_view source, E_TransferSyntax xfer) {
  const std::string uid = DcmXfer(xfer).getXferID();
  const std::string jpeg_prefix = "1.2.840.10008.1.2.4.";  // .50 to .70: the JPEG processes dcmjpeg decodes
  if (uid.rfind(jpeg_prefix, 0) != 0) return;
  const int process = std::atoi(uid.c_str() + jpeg_prefix.size());
  if (process < 50 || process > 70) return;
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad()) return;
  auto* pixel_data = dynamic_cast<DcmPixelData*>(element);
  DcmPixelSequence* sequence = nullptr;
  if (pixel_data == nullptr || pixel_data->getEncapsulatedRepresentation(xfer, nullptr, sequence).bad() ||
      sequence == nullptr) {
    return;
  }
  for (unsigned long i = 1; i < sequence->card(); ++i) {  // item 0 is the offset table
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (sequence->getItem(item, i).bad() || item == nullptr || item->getUint8Array(data).bad()) continue;
    if (data != nullptr && jpeg_scan_would_hang(data, item->getLength())) {
      throw_decode_error(source, fmt::format("corrupt DICOM: JPEG fragment {} holds a TEM marker (0xFF01) before "
                                             "its frame header",
                                             i));
    }
  }
}

void decompress_pixel_data(DcmDataset& dataset, std::string_view source) {
  const E_TransferSyntax xfer = dataset.getOriginalXfer();
  const DcmXfer info(xfer);
  if (!info.isEncapsulated()) return;
  if (!DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit)) {
    throw_decode_error(source, fmt::format("unsupported DICOM: no decoder for transfer syntax {} ({})",
                                           info.getXferName(), info.getXferID()));
  }
  refuse_fragments_dcmtk_cannot_scan(dataset, source, xfer);
  const OFCondition status = dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (status.bad() || !dataset.canWriteXfer(EXS_LittleEndianExplicit)) {
    throw_decode_error(
        source, fmt::format("corrupt DICOM: cannot decompress {} pixel data: {}", info.getXferName(), status.text()));
  }
}

}  // namespace

DecodedImage decode_dicom(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits) {
  ensure_dcmtk_ready();
  DcmFileFormat file;
  DcmDataset& dataset = parse_dicom(file, bytes, source);
  if (!dataset.tagExistsWithValue(DCM_PixelData)) {
    throw_decode_error(source, "DICOM file has no Pixel Data (7fe0,0010): not an image");
  }
  const PixelAttributes attrs(dataset, source);
  const int rows = attrs.required(DCM_Rows);
  const int columns = attrs.required(DCM_Columns);
  check_image_size(source, "DICOM", columns, rows, limits);
  const int samples = attrs.required(DCM_SamplesPerPixel);
  const std::string photometric = attrs.text(DCM_PhotometricInterpretation);
  StoredLayout layout;
  layout.bits_allocated = attrs.required(DCM_BitsAllocated);
  layout.bits_stored = attrs.optional(DCM_BitsStored, static_cast<std::uint16_t>(layout.bits_allocated));
  layout.high_bit = attrs.optional(DCM_HighBit, static_cast<std::uint16_t>(layout.bits_stored - 1));
  layout.is_signed = attrs.optional(DCM_PixelRepresentation, 0) == 1;
  Sint32 frames = 1;
  if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad()) frames = 1;

  if (frames != 1) {
    throw_decode_error(source, fmt::format("unsupported DICOM: {} frames; only single-frame images are read", frames));
  }
  if (layout.bits_allocated != 8 && layout.bits_allocated != 16) {
    throw_decode_error(
        source, fmt::format("unsupported DICOM: Bits Allocated {} (8 or 16 are supported)", layout.bits_allocated));
  }
  if (layout.bits_stored < 1 || layout.bits_stored > layout.bits_allocated ||
      layout.high_bit < layout.bits_stored - 1 || layout.high_bit >= layout.bits_allocated) {
    throw_decode_error(source, fmt::format("corrupt DICOM: inconsistent Bits Allocated {}, Bits Stored {}, "
                                           "High Bit {}",
                                           layout.bits_allocated, layout.bits_stored, layout.high_bit));
  }
  const bool monochrome = photometric == "MONOCHROME1" || photometric == "MONOCHROME2";
  if (monochrome && samples != 1) {
    throw_decode_error(source, fmt::format("corrupt DICOM: {} with Samples per Pixel {}", photometric, samples));
  }
  decompress_pixel_data(dataset, source);
  // Decompression may have changed the photometric interpretation (DCMTK turns JPEG YBR into RGB).
  const std::string decoded_photometric = attrs.text(DCM_PhotometricInterpretation);
  const bool rgb = decoded_photometric == "RGB" && samples == 3;
  if (!monochrome && !rgb) {
    throw_decode_error(source, fmt::format("unsupported DICOM: Photometric Interpretation '{}' with {} samples "
                                           "per pixel (MONOCHROME1, MONOCHROME2 and RGB are supported)",
                                           decoded_photometric, samples));
  }
  if (rgb && (layout.bits_allocated != 8 || layout.bits_stored != 8)) {
    throw_decode_error(source,
                       fmt::format("unsupported DICOM: RGB with {} bits stored (8 is supported)", layout.bits_stored));
  }
  if (dataset.tagExists(DCM_ModalityLUTSequence)) {
    throw_decode_error(source, "unsupported DICOM: Modality LUT Sequence (only Rescale Slope/Intercept)");
  }

  const std::size_t pixels = static_cast<std::size_t>(rows) * columns;
  const std::size_t values = pixels * samples;
  std::vector<std::uint32_t> raw(values);
  if (layout.bits_allocated == 8) {
    const Uint8* data = nullptr;
    unsigned long count = 0;
    if (dataset.findAndGetUint8Array(DCM_PixelData, data, &count).bad() || data == nullptr) {
      throw_decode_error(source, "corrupt DICOM: unreadable Pixel Data");
    }
    if (count < values) {
      throw_decode_error(source, fmt::format("truncated DICOM: Pixel Data holds {} bytes, {} x {} x {} needs {}", count,
                                             columns, rows, samples, values));
    }
    std::copy(data, data + values, raw.begin());
  } else {
    const Uint16* data = nullptr;
    unsigned long count = 0;
    if (dataset.findAndGetUint16Array(DCM_PixelData, data, &count).bad() || data == nullptr) {
      throw_decode_error(source, "corrupt DICOM: unreadable Pixel Data");
    }
    if (count < values) {
      throw_decode_error(source, fmt::format("truncated DICOM: Pixel Data holds {} 16-bit values, {} x {} needs {}",
                                             count, columns, rows, values));
    }
    std::copy(data, data + values, raw.begin());
  }

  DecodedImage out;
  out.width = columns;
  out.height = rows;
  if (rgb) {
    const int planar = attrs.optional(DCM_PlanarConfiguration, 0);
    out.channels = 3;
    out.depth = DecodedImage::Depth::u8;
    out.samples_u8.resize(values);
    for (std::size_t i = 0; i < pixels; ++i) {
      for (std::size_t c = 0; c < 3; ++c) {
        const std::uint32_t v = planar == 1 ? raw[c * pixels + i] : raw[3 * i + c];
        out.samples_u8[3 * i + c] = static_cast<std::uint8_t>(stored_value(v, layout));
      }
    }
    return out;
  }

  // Modality rescale (C.11.1.1.2): x = stored * slope + intercept.
  const double slope = attrs.decimal(DCM_RescaleSlope).value_or(1.0);
  const double intercept = attrs.decimal(DCM_RescaleIntercept).value_or(0.0);
  const auto modality = [&](std::size_t i) { return stored_value(raw[i], layout) * slope + intercept; };
  double min_x = std::numeric_limits<double>::infinity();
  double max_x = -min_x;
  for (std::size_t i = 0; i < pixels; ++i) {
    const double x = modality(i);
    min_x = std::min(min_x, x);
    max_x = std::max(max_x, x);
  }
  const VoiTransform voi = VoiTransform::from_dataset(dataset, attrs, source, layout.is_signed, min_x, max_x);
  const bool invert = photometric == "MONOCHROME1";  // minimum value is white (C.7.6.3.1.2)
  out.channels = 1;
  out.depth = DecodedImage::Depth::f32;
  out.samples_f32.resize(pixels);
  for (std::size_t i = 0; i < pixels; ++i) {
    const double y = std::clamp(voi.apply(modality(i)), 0.0, 255.0);
    out.samples_f32[i] = static_cast<float>(invert ? 255.0 - y : y);
  }
  return out;
}

}  // namespace chexgen::detail
