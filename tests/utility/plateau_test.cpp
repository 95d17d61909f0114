// utility::ReduceLrOnPlateau against torch 1.13's ReduceLROnPlateau (tests/fixtures/make_plateau_golden.py).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/utility/plateau.h"

namespace chexgen::utility {
namespace {

TEST(ReduceLrOnPlateau, IsTorchsStepForStep) {
  std::ifstream in(std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/golden/utility/plateau_golden.json");
  const nlohmann::json g = nlohmann::json::parse(in);
  for (const auto& c : g["cases"]) {
    const auto& s = c["settings"];
    ReduceLrOnPlateau p(c["lr"].get<double>(), s["factor"].get<double>(), s["patience"].get<int>(), 1e-4,
                        s.value("cooldown", 0), s.value("min_lr", 0.0));
    const auto losses = c["losses"].get<std::vector<double>>();
    const auto lrs = c["lrs"].get<std::vector<double>>();
    for (std::size_t i = 0; i < losses.size(); ++i) ASSERT_EQ(p.step(losses[i]), lrs[i]) << s.dump() << " step " << i;
  }
}

TEST(ReduceLrOnPlateau, RestoresItsState) {
  ReduceLrOnPlateau a(1e-4), b(1e-4);
  for (double loss : {0.5, 0.4, 0.45}) a.step(loss);
  b.restore(a.state());
  for (double loss : {0.46, 0.47, 0.3}) EXPECT_EQ(a.step(loss), b.step(loss));
  EXPECT_EQ(a.lr(), 1e-5);
}

}  // namespace
}  // namespace chexgen::utility
