// The discretised plane as the texture classes (GLRLM, GLSZM, GLDM, NGTDM) walk it: padded by one pixel of 0 on every
// side so that neighbour reads need no bounds checks, each ROI pixel coded by its gray level or by the level's rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

enum class LevelCoding {
  rank,   // 1 + the rank of the pixel's level in d.present (dense codes for matrix rows)
  level,  // the level itself
};

// d's plane padded by one pixel of 0 on every side, each ROI pixel coded as `coding` says, and the size of the
// ROI's bounding box (PyRadiomics crops to it; pixels outside the ROI hold 0 and never take part, so only the
// box's size matters).
struct TexturePlane {
  int width = 0, height = 0, stride = 0;  // of d; stride = width + 2
  int box_width = 0, box_height = 0;
  std::vector<std::int32_t> cells;
  std::vector<double> gray;  // gray level value of each rank (= d.present)
  LevelCoding coding = LevelCoding::rank;

  // Whether rank and level coincide (rank coding, and every level 1..ng occurs).
  bool ranks_are_levels() const {
    return coding == LevelCoding::level || gray.empty() || gray.back() == static_cast<double>(gray.size());
  }

  std::size_t at(int x, int y) const { return static_cast<std::size_t>(y + 1) * stride + x + 1; }
};

// Builds it; `who` names the feature class in errors. Throws std::invalid_argument for a plane whose size does not
// match its levels, an empty ROI, or a level list that does not hold every level of the ROI.
TexturePlane texture_plane(const Discretized& d, LevelCoding coding, std::string_view who);

// Throws std::logic_error (a programming error) unless `p` is coded by rank.
void require_rank_coding(const TexturePlane& p, std::string_view who);

// A rank-coded plane recoded by level.
TexturePlane level_coded(const TexturePlane& ranks);

}  // namespace chexgen::radiomics
