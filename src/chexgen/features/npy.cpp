#include "chexgen/core/files.h"
#include "chexgen/features/npy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen::features {
namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr bool kHostBigEndian = std::endian::native == std::endian::big;

[[noreturn]] void fail(const std::string& file, const std::string& reason) {
  throw InputError(Location{file, std::nullopt, {}}, reason);
}

// ---- The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }

struct HeaderValue {
  enum class Kind { string, boolean, tuple } kind = Kind::string;
  std::string text;
  bool flag = false;
  std::vector<std::size_t> items;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != c) bad(fmt::format("expected '{}'", c));
    ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == s_.size();
  }
  [[noreturn]] void bad(const std::string& what) const {
    fail(file_, fmt::format("malformed .npy header ({} at character {} of \"{}\")", what, pos_ + 1,
                            std::string(s_.substr(0, 200))));
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) bad("expected a quoted string");
    const char quote = s_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') bad("escape sequences are not supported");
      ++pos_;
    }
    if (pos_ >= s_.size()) bad("unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }

  std::size_t parse_size() {
    skip_space();
    const std::size_t start = pos_;
    std::size_t value = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const std::size_t digit = static_cast<std::size_t>(s_[pos_] - '0');
      if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) bad("dimension too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) bad("expected a non-negative integer");
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long literal, written by old numpy
    return value;
  }

  HeaderValue parse_value() {
    skip_space();
    if (pos_ >= s_.size()) bad("unexpected end");
    HeaderValue v;
    const char c = s_[pos_];
    if (c == '\'' || c == '"') {
      v.kind = HeaderValue::Kind::string;
      v.text = parse_string();
    } else if (s_.substr(pos_, 4) == "True") {
      v.kind = HeaderValue::Kind::boolean;
      v.flag = true;
      pos_ += 4;
    } else if (s_.substr(pos_, 5) == "False") {
      v.kind = HeaderValue::Kind::boolean;
      v.flag = false;
      pos_ += 5;
    } else if (c == '(') {
      v.kind = HeaderValue::Kind::tuple;
      ++pos_;
      while (!peek(')')) {
        v.items.push_back(parse_size());
        if (peek(',')) {
          expect(',');
        } else if (!peek(')')) {
          bad("expected ',' or ')' in shape");
        }
      }
      expect(')');
    } else if (c == '[') {
      fail(file_, "structured (record) dtypes are not supported; expected a plain float32 or float64 array");
    } else {
      bad("unexpected value");
    }
    return v;
  }

 private:
  std::string_view s_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::size_t item_size(NpyDtype dtype) { return dtype == NpyDtype::float32 ? 4 : 8; }

// Converts the on-disk data (any order, any byte order) into a C-order array of T.
template <class T>
std::vector<T> convert_to_c_order(const unsigned char* data, const NpyHeader& h) {
  std::vector<T> out(h.rows * h.cols);
  const bool swap = h.big_endian != kHostBigEndian;
  for (std::size_t k = 0; k < out.size(); ++k) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, data + k * sizeof(T), sizeof(T));
    if (swap) std::reverse(bytes, bytes + sizeof(T));
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    // Element k on disk is (i, j) = (k / cols, k % cols) in C order, (k % rows, k / rows) in Fortran order.
    const std::size_t dest = h.fortran_order ? (k % h.rows) * h.cols + k / h.rows : k;
    out[dest] = value;
  }
  return out;
}

std::string errno_text() { return std::system_category().message(errno); }

}  // namespace

const char* to_string(NpyDtype dtype) { return dtype == NpyDtype::float32 ? "float32" : "float64"; }

NpyHeader parse_npy_header(const unsigned char* bytes, std::size_t size, const std::string& file) {
  if (size < 10 || std::memcmp(bytes, kMagic, sizeof kMagic) != 0) {
    fail(file, "not a .npy file (missing the \\x93NUMPY magic string)");
  }
  const int major = bytes[6];
  const int minor = bytes[7];
  std::size_t prefix = 0;
  std::size_t header_len = 0;
  if (major == 1 && minor == 0) {
    prefix = 10;
    header_len = read_le(bytes + 8, 2);
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) fail(file, "truncated .npy header");
    prefix = 12;
    header_len = read_le(bytes + 8, 4);
  } else {
    fail(file, fmt::format("unsupported .npy format version {}.{} (expected 1.0, 2.0 or 3.0)", major, minor));
  }
  if (header_len > size - prefix) {
    fail(file, fmt::format("truncated .npy header: it declares {} bytes, the file has {} after the prefix", header_len,
                           size - prefix));
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes + prefix), header_len);

  HeaderParser p(text, file);
  std::optional<HeaderValue> descr, fortran, shape;
  p.expect('{');
  while (!p.peek('}')) {
    const std::string key = p.parse_string();
    std::optional<HeaderValue>* slot = key == "descr"           ? &descr
                                       : key == "fortran_order" ? &fortran
                                       : key == "shape"         ? &shape
                                                                : nullptr;
    if (slot == nullptr) fail(file, fmt::format("malformed .npy header: unexpected key '{}'", key));
    if (slot->has_value()) fail(file, fmt::format("malformed .npy header: key '{}' appears twice", key));
    p.expect(':');
    *slot = p.parse_value();
    if (p.peek(',')) {
      p.expect(',');
    } else if (!p.peek('}')) {
      p.bad("expected ',' or '}'");
    }
  }
  p.expect('}');
  if (!p.at_end()) p.bad("text after the closing '}'");
  if (!descr || !fortran || !shape) {
    fail(file, "malformed .npy header: it must have the keys 'descr', 'fortran_order' and 'shape'");
  }
  if (descr->kind != HeaderValue::Kind::string) fail(file, "malformed .npy header: 'descr' is not a string");
  if (fortran->kind != HeaderValue::Kind::boolean) {
    fail(file, "malformed .npy header: 'fortran_order' is not True or False");
  }
  if (shape->kind != HeaderValue::Kind::tuple) fail(file, "malformed .npy header: 'shape' is not a tuple");

  NpyHeader h;
  const std::string& d = descr->text;
  if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=') && d[1] == 'f' && (d[2] == '4' || d[2] == '8')) {
    h.dtype = d[2] == '4' ? NpyDtype::float32 : NpyDtype::float64;
    h.big_endian = d[0] == '>' || (d[0] == '=' && kHostBigEndian);
  } else {
    fail(file, fmt::format("unsupported dtype '{}': expected float32 ('<f4') or float64 ('<f8')", d));
  }
  h.fortran_order = fortran->flag;
  if (shape->items.size() != 2) {
    std::string dims;
    for (std::size_t i = 0; i < shape->items.size(); ++i) dims += fmt::format("{}{}", i ? ", " : "", shape->items[i]);
    fail(file,
         fmt::format("expected a 2-D array (samples x features), got {}-D shape ({})", shape->items.size(), dims));
  }
  h.rows = shape->items[0];
  h.cols = shape->items[1];
  h.data_offset_bytes = prefix + header_len;
  return h;
}

// ---- NpyMatrix

struct NpyMatrix::Storage {
  void* map = nullptr;
  std::size_t map_size = 0;
  std::vector<float> f32;
  std::vector<double> f64;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() { unmap(); }
  void unmap() {
    if (map != nullptr) munmap(map, map_size);
    map = nullptr;
    map_size = 0;
  }
};

NpyMatrix::NpyMatrix() = default;
NpyMatrix::~NpyMatrix() = default;
NpyMatrix::NpyMatrix(NpyMatrix&&) noexcept = default;
NpyMatrix& NpyMatrix::operator=(NpyMatrix&&) noexcept = default;

bool NpyMatrix::memory_mapped() const { return storage_ && storage_->map != nullptr; }

MatrixViewF NpyMatrix::view_f32() const {
  CHEXGEN_ASSERT(dtype_ == NpyDtype::float32, "view_f32 on a float64 .npy matrix");
  return {static_cast<const float*>(data_), rows_, cols_};
}

MatrixViewD NpyMatrix::view_f64() const {
  CHEXGEN_ASSERT(dtype_ == NpyDtype::float64, "view_f64 on a float32 .npy matrix");
  return {static_cast<const double*>(data_), rows_, cols_};
}

MatrixF NpyMatrix::to_f32() const {
  if (dtype_ == NpyDtype::float32) {
    const auto* p = static_cast<const float*>(data_);
    return MatrixF(rows_, cols_, std::vector<float>(p, p + rows_ * cols_));
  }
  const auto* p = static_cast<const double*>(data_);
  std::vector<float> out(rows_ * cols_);
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<float>(p[k]);
  return MatrixF(rows_, cols_, std::move(out));
}

MatrixD NpyMatrix::to_f64() const {
  if (dtype_ == NpyDtype::float64) {
    const auto* p = static_cast<const double*>(data_);
    return MatrixD(rows_, cols_, std::vector<double>(p, p + rows_ * cols_));
  }
  const auto* p = static_cast<const float*>(data_);
  std::vector<double> out(p, p + rows_ * cols_);
  return MatrixD(rows_, cols_, std::move(out));
}

NpyMatrix read_npy(const std::filesystem::path& path) {
  const std::string file = path.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(file, fmt::format("cannot open: {}", errno_text()));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(file, fmt::format("cannot stat: {}", errno_text()));
  if (!S_ISREG(st.st_mode)) fail(file, "not a regular file");
  note_input_file(path);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < 10) fail(file, fmt::format("not a .npy file (only {} bytes)", size));

  auto storage = std::make_unique<NpyMatrix::Storage>();
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) fail(file, fmt::format("cannot memory-map: {}", errno_text()));
  storage->map = map;
  storage->map_size = size;
  const auto* bytes = static_cast<const unsigned char*>(map);

  const NpyHeader h = parse_npy_header(bytes, size, file);
  const std::size_t isize = item_size(h.dtype);
  if (h.cols != 0 && h.rows > std::numeric_limits<std::size_t>::max() / h.cols / isize) {
    fail(file, fmt::format("shape ({}, {}) is too large", h.rows, h.cols));
  }
  const std::size_t data_bytes = h.rows * h.cols * isize;
  const std::size_t available = size - h.data_offset_bytes;
  if (available < data_bytes) {
    const std::size_t full_rows = h.fortran_order || h.cols == 0 ? 0 : available / (h.cols * isize);
    fail(file, fmt::format("truncated data: shape ({}, {}) {} needs {} bytes, the file has {}{}", h.rows, h.cols,
                           to_string(h.dtype), data_bytes, available,
                           h.fortran_order ? std::string() : fmt::format(" (rows {} onwards missing)", full_rows + 1)));
  }
  if (available > data_bytes) {
    fail(file, fmt::format("{} unexpected bytes after the data of shape ({}, {}) {}", available - data_bytes, h.rows,
                           h.cols, to_string(h.dtype)));
  }

  NpyMatrix m;
  m.dtype_ = h.dtype;
  m.rows_ = h.rows;
  m.cols_ = h.cols;
  m.file_ = file;
  const unsigned char* data = bytes + h.data_offset_bytes;
  const bool one_dim = h.rows <= 1 || h.cols <= 1;  // C and Fortran order coincide
  const bool c_order = !h.fortran_order || one_dim;
  const bool aligned = reinterpret_cast<std::uintptr_t>(data) % isize == 0;
  if (c_order && h.big_endian == kHostBigEndian && aligned && data_bytes > 0) {
    ::madvise(map, size, MADV_WILLNEED);
    m.data_ = data;
  } else {
    if (h.dtype == NpyDtype::float32) {
      storage->f32 = convert_to_c_order<float>(data, h);
      m.data_ = storage->f32.data();
    } else {
      storage->f64 = convert_to_c_order<double>(data, h);
      m.data_ = storage->f64.data();
    }
    storage->unmap();
  }
  m.storage_ = std::move(storage);
  return m;
}

// ---- Writing

namespace {

template <class T>
void write_npy_impl(const std::filesystem::path& path, MatrixView<T> matrix) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  const char* descr = std::is_same_v<T, float> ? (kHostBigEndian ? ">f4" : "<f4") : (kHostBigEndian ? ">f8" : "<f8");
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}", descr, matrix.rows, matrix.cols);
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64 (numpy's ARRAY_ALIGN
  // convention), which keeps the data aligned for memory mapping.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 0xFFFF) throw OutputError(fmt::format("{}: .npy header too long", path.string()));

  std::string prefix(reinterpret_cast<const char*>(kMagic), sizeof kMagic);
  prefix.push_back('\x01');
  prefix.push_back('\x00');
  prefix.push_back(static_cast<char>(header.size() & 0xFF));
  prefix.push_back(static_cast<char>(header.size() >> 8));

  check_not_an_input(path);
  const std::string final_name = path.string();
  const std::string temp_name = final_name + ".partial";
  std::FILE* f = std::fopen(temp_name.c_str(), "wb");
  if (f == nullptr) throw OutputError(fmt::format("{}: cannot create: {}", temp_name, errno_text()));
  const std::size_t count = matrix.rows * matrix.cols;
  bool ok = std::fwrite(prefix.data(), 1, prefix.size(), f) == prefix.size() &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            (count == 0 || std::fwrite(matrix.data, sizeof(T), count, f) == count);
  const std::string write_error = ok ? std::string() : errno_text();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(temp_name.c_str());
    throw OutputError(
        fmt::format("{}: write failed: {}", final_name, write_error.empty() ? errno_text() : write_error));
  }
  if (std::rename(temp_name.c_str(), final_name.c_str()) != 0) {
    const std::string why = errno_text();
    std::remove(temp_name.c_str());
    throw OutputError(fmt::format("{}: cannot rename the finished file into place: {}", final_name, why));
  }
}

}  // namespace

void write_npy(const std::filesystem::path& path, MatrixViewF matrix) { write_npy_impl(path, matrix); }
void write_npy(const std::filesystem::path& path, MatrixViewD matrix) { write_npy_impl(path, matrix); }

}  // namespace chexgen::features
