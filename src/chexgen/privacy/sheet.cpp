// The contact sheet of the flagged pairs: each generation beside the training image it was flagged with, for a
// person to look at.
#include <algorithm>

#include "chexgen/privacy/privacy_pvt.h"

namespace chexgen::privacy {

Image8 contact_sheet(const PrivacyRun& run, const Dataset& train, const Dataset& generations,
                     const ContactSheetLayout& layout, const Log& log) {
  const std::size_t pairs = std::min(run.flagged.size(), layout.pairs);
  if (pairs == 0) return {};
  const int tile = layout.tile, inner = 4, outer = 24;
  const int columns = static_cast<int>(std::min<std::size_t>(pairs, static_cast<std::size_t>(layout.columns)));
  const int rows = static_cast<int>((pairs + static_cast<std::size_t>(columns) - 1) / static_cast<std::size_t>(columns));
  const int pair_width = 2 * tile + inner;
  Image8 sheet(outer + columns * (pair_width + outer), outer + rows * (tile + outer), 1);
  std::fill(sheet.data.begin(), sheet.data.end(), std::uint8_t{255});
  for_each_image_task(pairs, layout.threads, "privacy: contact sheet of the flagged pairs", log, [&](std::size_t i) {
    const FlaggedPair& f = run.flagged[i];
    const int x0 = outer + static_cast<int>(i % static_cast<std::size_t>(columns)) * (pair_width + outer);
    const int y0 = outer + static_cast<int>(i / static_cast<std::size_t>(columns)) * (tile + outer);
    const Image8 images[2] = {pixel_image(generations, generations.samples[f.generation], tile, ColorMode::gray),
                              pixel_image(train, train.samples[f.train], tile, ColorMode::gray)};
    for (int k = 0; k < 2; ++k)
      for (int y = 0; y < tile; ++y)
        std::copy_n(&images[k].at(0, y), tile, &sheet.at(x0 + k * (tile + inner), y0 + y));
  });
  return sheet;
}

}  // namespace chexgen::privacy
