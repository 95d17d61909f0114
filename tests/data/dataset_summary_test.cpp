#include "chexgen/data/dataset_summary.h"

#include <gtest/gtest.h>

#include "test_paths.h"

namespace chexgen {
namespace {

using test::manifest_fixture;

Dataset images_dataset() {
  ManifestOptions o;
  o.label_names = {"Effusion"};
  ErrorReport errors;
  return read_manifest(manifest_fixture("images.csv"), o, errors);
}

// Stands in for the image decoders: accepts anything that starts with the PNG signature and is
// longer than a PNG header.
void fake_decode(std::span<const std::uint8_t> bytes, const std::string& name) {
  static constexpr std::uint8_t kSig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 33 || !std::equal(std::begin(kSig), std::end(kSig), bytes.begin())) {
    throw InputError({name}, "truncated PNG");
  }
}

TEST(LabelPrevalence, CountsEveryState) {
  const Dataset d = images_dataset();
  const auto p = label_prevalence(d);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].positive, 2u);
  EXPECT_EQ(p[0].negative, 3u);
  EXPECT_EQ(p[0].uncertain, 0u);
  EXPECT_EQ(p[0].missing, 0u);
  EXPECT_DOUBLE_EQ(p[0].positive_fraction(), 0.4);
  EXPECT_DOUBLE_EQ(LabelCounts{}.positive_fraction(), 0.0);
}

TEST(PromptStats, WordsAndCodePoints) {
  EXPECT_EQ(count_words(""), 0u);
  EXPECT_EQ(count_words("  a\tb\n\nc  "), 3u);
  EXPECT_EQ(count_words("\xC3\xA9t\xC3\xA9 chaud"), 2u);
  const PromptStats s = prompt_stats(images_dataset());
  // Prompts: "same prompt" x2, "another prompt", "another"; one row has none.
  EXPECT_EQ(s.n_with_prompt, 4u);
  EXPECT_EQ(s.words.min, 1u);
  EXPECT_EQ(s.words.max, 2u);
  EXPECT_DOUBLE_EQ(s.words.mean, 7.0 / 4.0);
  EXPECT_EQ(s.characters.min, 7u);
  EXPECT_EQ(s.characters.max, 14u);
  EXPECT_DOUBLE_EQ(s.characters.mean, 43.0 / 4.0);
  EXPECT_EQ(prompt_stats(Dataset{}).n_with_prompt, 0u);
}

TEST(Duplicates, GroupsInFirstSeenOrder) {
  const Duplicates d = find_duplicates({"b", std::nullopt, "a", "b", "c", "a", "b", std::nullopt});
  EXPECT_EQ(d.n_groups, 2u);
  EXPECT_EQ(d.n_samples, 5u);
  ASSERT_EQ(d.groups.size(), 2u);
  EXPECT_EQ(d.groups[0].key, "b");
  EXPECT_EQ(d.groups[0].samples, (std::vector<std::size_t>{0, 3, 6}));
  EXPECT_EQ(d.groups[1].key, "a");
  EXPECT_EQ(d.groups[1].samples, (std::vector<std::size_t>{2, 5}));
  const Duplicates p = find_duplicate_prompts(images_dataset());
  ASSERT_EQ(p.n_groups, 1u);
  EXPECT_EQ(p.groups[0].key, "same prompt");
}

TEST(CheckImages, FoundMissingUnreadableAndHashes) {
  const Dataset d = images_dataset();
  for (const int threads : {1, 4}) {
    ErrorReport errors;
    const auto checks = check_images(d, {threads, true}, fake_decode, errors);
    ASSERT_EQ(checks.size(), 5u);
    EXPECT_EQ(checks[0].status, ImageStatus::ok);
    EXPECT_EQ(checks[1].status, ImageStatus::ok);
    EXPECT_EQ(checks[2].status, ImageStatus::ok);
    EXPECT_EQ(checks[3].status, ImageStatus::unreadable);
    EXPECT_EQ(checks[4].status, ImageStatus::missing);
    EXPECT_EQ(checks[0].sha256.size(), 64u);
    EXPECT_EQ(checks[0].sha256, checks[1].sha256);  // ok2.png is a copy of ok1.png
    EXPECT_NE(checks[0].sha256, checks[2].sha256);
    EXPECT_TRUE(checks[3].sha256.empty());
    ASSERT_EQ(errors.size(), 2u);
    const std::string f = manifest_fixture("images.csv").string();
    EXPECT_EQ(std::string(errors.errors()[0].what()), f + ":5: column 'file_name': image '" +
                                                          manifest_fixture("images/broken.png").string() +
                                                          "' cannot be read: truncated PNG");
    EXPECT_EQ(std::string(errors.errors()[1].what()),
              f + ":6: column 'file_name': image '" + manifest_fixture("images/missing.png").string() + "' not found");
  }
}

TEST(CheckImages, WithoutDecodingOnlyMissingFilesFail) {
  const Dataset d = images_dataset();
  ErrorReport errors;
  bool called = false;
  const auto checks = check_images(
      d, {2, false}, [&](auto, const auto&) { called = true; }, errors);
  EXPECT_FALSE(called);
  EXPECT_EQ(checks[3].status, ImageStatus::ok);
  EXPECT_EQ(checks[4].status, ImageStatus::missing);
  EXPECT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace chexgen
