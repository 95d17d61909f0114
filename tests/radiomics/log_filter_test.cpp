// The 2-D Laplacian of Gaussian against scipy.ndimage.gaussian_laplace (mode 'reflect', truncate 4.0) and the
// image-type names against Python's str(float): tests/golden/radiomics/filters/log.json, made by
// tests/fixtures/make_radiomics_filter_golden.py.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "chexgen/radiomics/log_filter.h"
#include "chexgen/radiomics/preprocess.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

TEST(LaplacianOfGaussian, MatchesScipyGaussianLaplace) {
  const nlohmann::json g = testing::read_filter_golden("log.json");
  ASSERT_GE(g["cases"].size(), 4u);
  for (const auto& c : g["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const ImageD image = testing::nih_crop(c["image"], c["crop"]);
    const ImageD out = laplacian_of_gaussian(image, c["sigma_mm"], c["spacing"]);
    ASSERT_EQ(out.width, image.width);
    ASSERT_EQ(out.height, image.height);
    const auto expected = c["image_out"].get<std::vector<double>>();
    ASSERT_EQ(out.data.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_TRUE(close(out.data[i], expected[i], 1e-10, 1e-10))
          << "pixel " << i << ": " << out.data[i] << " vs " << expected[i];
    }
  }
}

TEST(LaplacianOfGaussian, SigmaIsInMillimetres) {
  const ImageD image = testing::nih_crop("00000061_012.png", nlohmann::json{100, 100, 12, 9});
  const ImageD a = laplacian_of_gaussian(image, 1.5, 0.5);
  const ImageD b = laplacian_of_gaussian(image, 3.0, 1.0);
  EXPECT_EQ(a.data, b.data);
}

TEST(LaplacianOfGaussian, NamesFollowPythonFloatRepr) {
  EXPECT_EQ(log_image_type_name(2.0), "log-sigma-2-0-mm-2D");
  const nlohmann::json g = testing::read_filter_golden("log.json");
  for (const auto& pair : g["names"]) {
    EXPECT_EQ(log_image_type_name(pair[0].get<double>()), pair[1].get<std::string>());
  }
}

TEST(LaplacianOfGaussian, RefusesBadInput) {
  const ImageD image(5, 5, 1);
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(laplacian_of_gaussian(image, bad), std::invalid_argument) << bad;
    EXPECT_THROW(laplacian_of_gaussian(image, 1.0, bad), std::invalid_argument) << bad;
    EXPECT_THROW(log_image_type_name(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(laplacian_of_gaussian(image, 1e300), std::invalid_argument);  // kernel too long
  EXPECT_THROW(laplacian_of_gaussian(ImageD(), 1.0), std::invalid_argument);
  EXPECT_THROW(laplacian_of_gaussian(ImageD(3, 3, 3), 1.0), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
