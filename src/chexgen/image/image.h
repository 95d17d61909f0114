// In-memory images: row-major, interleaved channels, no padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chexgen {

// Colour layout of a decoded image as the caller asks for it.
enum class ColorMode {
  gray,  // 1 channel (Pillow 'L' / 'F')
  rgb,   // 3 channels (Pillow 'RGB')
};

template <class T>
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<T> data;  // size width * height * channels; pixel (x, y) channel c at (y * width + x) * channels + c

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), data(static_cast<std::size_t>(w) * h * c) {}

  std::size_t index(int x, int y, int c = 0) const { return (static_cast<std::size_t>(y) * width + x) * channels + c; }
  T& at(int x, int y, int c = 0) { return data[index(x, y, c)]; }
  const T& at(int x, int y, int c = 0) const { return data[index(x, y, c)]; }
  bool empty() const { return data.empty(); }
};

using Image8 = Image<std::uint8_t>;  // 0..255
using ImageF = Image<float>;         // same 0..255 scale as Image8 (like Pillow's 'F' from 'L'), finer steps allowed

// A planar (channel-major) float image, the layout networks take: value (c, y, x) at (c * height + y) * width + x.
struct PlanarImageF {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> values;
};

}  // namespace chexgen
