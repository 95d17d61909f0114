#include "chexgen/radiomics/texture_plane.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>

namespace chexgen::radiomics {

TexturePlane texture_plane(const Discretized& d, LevelCoding coding, std::string_view who) {
  if (d.width < 1 || d.height < 1 ||
      d.levels.size() != static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height)) {
    throw std::invalid_argument(fmt::format("{}: the discretised plane's size does not match its levels", who));
  }
  if (d.present.empty() || d.present.front() < 1 || d.present.back() != d.ng ||
      std::adjacent_find(d.present.begin(), d.present.end(), std::greater_equal<>()) != d.present.end()) {
    throw std::invalid_argument(fmt::format("{}: empty region of interest or inconsistent gray level list", who));
  }
  // code[level]: for a listed level, 1 + its rank (LevelCoding::rank) or the level itself; 0 for level 0; -1
  // otherwise (every level above ng reads the last one).
  std::vector<std::int32_t> code(static_cast<std::size_t>(d.ng) + 2, -1);
  code[0] = 0;
  for (std::size_t r = 0; r < d.present.size(); ++r)
    code[d.present[r]] = coding == LevelCoding::rank ? static_cast<std::int32_t>(r) + 1 : d.present[r];
  TexturePlane p;
  p.width = d.width;
  p.height = d.height;
  p.stride = d.width + 2;
  p.cells.assign(static_cast<std::size_t>(d.height + 2) * p.stride, 0);
  const auto limit = static_cast<std::uint32_t>(d.ng) + 1;
  std::int32_t lowest = 0;
  int x0 = d.width, x1 = -1, y0 = -1, y1 = -1;
  for (int y = 0; y < d.height; ++y) {
    const std::int32_t* src = d.levels.data() + static_cast<std::size_t>(y) * d.width;
    std::int32_t* dst = p.cells.data() + p.at(0, y);
    std::int32_t any = 0;
    for (int x = 0; x < d.width; ++x) {
      const std::int32_t c = code[std::min(static_cast<std::uint32_t>(src[x]), limit)];
      dst[x] = c;
      lowest = std::min(lowest, c);
      any |= c;
    }
    if (any == 0) continue;
    if (y0 < 0) y0 = y;
    y1 = y;
    int a = 0, b = d.width - 1;
    while (dst[a] == 0) ++a;
    while (dst[b] == 0) --b;
    x0 = std::min(x0, a), x1 = std::max(x1, b);
  }
  if (lowest < 0)
    throw std::invalid_argument(fmt::format("{}: a gray level inside the ROI is missing from the level list", who));
  if (y0 < 0) throw std::invalid_argument(fmt::format("{}: empty region of interest", who));
  p.box_width = x1 - x0 + 1;
  p.box_height = y1 - y0 + 1;
  p.gray.assign(d.present.begin(), d.present.end());
  p.coding = coding;
  return p;
}

void require_rank_coding(const TexturePlane& p, std::string_view who) {
  if (p.coding != LevelCoding::rank) throw std::logic_error(fmt::format("{}: needs a plane coded by rank", who));
}

TexturePlane level_coded(const TexturePlane& ranks) {
  require_rank_coding(ranks, "level_coded");
  TexturePlane p = ranks;
  p.coding = LevelCoding::level;
  for (std::int32_t& c : p.cells)
    if (c > 0) c = static_cast<std::int32_t>(ranks.gray[static_cast<std::size_t>(c - 1)]);
  return p;
}

}  // namespace chexgen::radiomics
