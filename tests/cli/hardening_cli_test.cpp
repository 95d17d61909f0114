// Hostile and careless input across commands (issue 18): outputs that would destroy what chexgen does not own, sizes
// taken from untrusted data, unbounded structure, and paths that are not files. Each case failed before its fix.
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/matrix.h"
#include "chexgen/features/npy.h"
#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kImages = kRoot / "tests" / "fixtures" / "manifests" / "images";

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.
std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t c = 0xffffffffu;
  for (const char ch : bytes) {
    c ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const std::uint32_t crc = crc32_of(body);
  return be32(static_cast<std::uint32_t>(data.size())) + body + be32(crc);
}

// A 65-byte PNG whose IHDR declares 2^31-1 x 2^31-1 RGBA 16-bit pixels (libpng would reserve a 16 GB row buffer).
std::string forged_png() {
  const std::string ihdr = be32(0x7fffffff) + be32(0x7fffffff) + std::string{16, 6, 0, 0, 1};
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", std::string("x\x9c\x03\0\0\0\0\x01", 8)) +
         png_chunk("IEND", "");
}

// The largest resident size of the children this test process has waited for, in MB.
long children_peak_mb() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_maxrss / 1024;
}

TEST(HardeningCli, AForgedImageSizeIsRefusedBeforeMemoryIsReserved) {
  const fs::path dir = make_temp_dir();
  write_text(dir / "images" / "bomb.png", forged_png());
  ASSERT_EQ(fs::file_size(dir / "images" / "bomb.png"), 65u);
  const auto r = run_chexgen({"-q", "inspect", (dir / "images").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bomb.png' cannot be read: unsupported PNG: image of 2147483647 x "
                               "2147483647 pixels exceeds the limit of 67108864 pixels (raise it with "
                               "--max-image-pixels"));
  // The limit is the user's to change; a lower one refuses the fixture images too.
  const auto low = run_chexgen({"-q", "--max-image-pixels", "10", "inspect", kImages.string()});
  EXPECT_EQ(low.exit_code, 3);
  EXPECT_THAT(low.err, HasSubstr("exceeds the limit of 10 pixels"));
  EXPECT_LT(children_peak_mb(), 1024) << "a run held more than 1 GB";
}

TEST(HardeningCli, AnOutputThatIsAnInputIsRefusedAndTheInputKept) {
  const fs::path dir = make_temp_dir();
  const std::string manifest = "file_name,prompt,Effusion\n" + std::string("images/ok1.png,p,1\n");
  write_text(dir / "m.csv", manifest);
  fs::copy(kImages, dir / "images");
  const auto r = run_chexgen({"-q", "inspect", "m.csv", "--labels", "Effusion", "--json", "m.csv"}, dir.string());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("m.csv: this output file is also an input of the command"));
  EXPECT_EQ(read_text((dir / "m.csv").string()), manifest);
  // Through another name (a link) as well.
  fs::create_symlink(dir / "m.csv", dir / "alias.json");
  const auto l = run_chexgen({"-q", "inspect", "m.csv", "--labels", "Effusion", "--json", "alias.json"}, dir.string());
  EXPECT_EQ(l.exit_code, 4) << l.err;
  EXPECT_EQ(read_text((dir / "m.csv").string()), manifest);
}

TEST(HardeningCli, BaselinesNeverReplacesTheFolderItReads) {
  const fs::path dir = make_temp_dir();
  const fs::path baselines = make_sample_baselines(dir, 12);
  const std::string before = read_text((baselines / "reference" / "metadata.jsonl").string());
  ASSERT_FALSE(before.empty());
  // The reference set as input, its parent (chexgen's own folder) as output: the run would replace its input.
  auto r = run_chexgen({"-q", "baselines", (baselines / "reference").string(), "--out", baselines.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("which holds its input"));
  EXPECT_EQ(read_text((baselines / "reference" / "metadata.jsonl").string()), before);
  // The user's own folder (no marker) as output: refused before anything is written.
  fs::create_directories(dir / "data");
  fs::copy(baselines / "reference", dir / "data" / "reference", fs::copy_options::recursive);
  fs::remove(dir / "data" / "reference" / ".chexgen-output");
  const auto n_before = std::distance(fs::directory_iterator(dir / "data" / "reference"), {});
  r = run_chexgen({"-q", "baselines", (dir / "data" / "reference").string(), "--out", (dir / "data").string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not empty and was not made by chexgen"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "data" / "reference"), {}), n_before);
}

TEST(HardeningCli, DeepJsonIsAnErrorNamingTheLineNotACrash) {
  const fs::path dir = make_temp_dir();
  fs::copy(kImages, dir / "images");
  write_text(dir / "metadata.jsonl", "{\"file_name\": \"images/ok1.png\", \"text\": \"a\"}\n{\"file_name\": "
                                     "\"images/ok2.png\", \"text\": \"b\", \"extra\": " +
                                         std::string(100000, '[') + std::string(100000, ']') + "}\n");
  const auto r = run_chexgen({"-q", "inspect", (dir / "metadata.jsonl").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("metadata.jsonl:2: JSON nested deeper than 256 levels"));
  write_text(dir / "huge.jsonl", "{\"file_name\": \"images/ok1.png\", \"text\": \"a\", \"score\": 1e999}\n");
  const auto h = run_chexgen({"-q", "inspect", (dir / "huge.jsonl").string()});
  EXPECT_EQ(h.exit_code, 3) << h.err;
  EXPECT_THAT(h.err, HasSubstr("huge.jsonl:1: a JSON number too large for a double"));
}

TEST(HardeningCli, LinksBackToAFolderAreWalkedOnce) {
  const fs::path dir = make_temp_dir();
  fs::create_directories(dir / "set" / "a");
  fs::copy_file(kImages / "ok1.png", dir / "set" / "ok1.png");
  fs::copy_file(kImages / "ok2.png", dir / "set" / "a" / "ok2.png");
  fs::create_directory_symlink(".", dir / "set" / "self");
  fs::create_directory_symlink("..", dir / "set" / "a" / "up");
  const auto r = run_chexgen({"-q", "inspect", (dir / "set").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("samples: 2\n"));
}

TEST(HardeningCli, AFolderOrAPipeWhereAnImageShouldBeIsNamed) {
  const fs::path dir = make_temp_dir();
  fs::create_directories(dir / "images" / "folder.png");
  ASSERT_EQ(::mkfifo((dir / "images" / "pipe.png").c_str(), 0600), 0);
  fs::copy_file(kImages / "ok1.png", dir / "images" / "ok1.png");
  write_text(dir / "m.csv", "file_name,Effusion\nimages/folder.png,1\nimages/pipe.png,0\nimages/ok1.png,1\n");
  auto r = run_chexgen({"-q", "inspect", "m.csv", "--labels", "Effusion"}, dir.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("m.csv:2: column 'file_name': image 'images/folder.png' cannot be read: not a regular "
                               "file (a folder)"));
  EXPECT_THAT(r.err, HasSubstr("m.csv:3: column 'file_name': image 'images/pipe.png' cannot be read: not a regular "
                               "file (a FIFO"));
  r = run_chexgen({"-q", "inspect", "m.csv", "--labels", "Effusion", "--skip-bad"}, dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Issue 18: finite but huge features made FID NaN with exit 0. They are an input error naming the file and row; PRDC,
// whose arithmetic stays exact for any finite value, still takes them.
TEST(HardeningCli, HugeFeatureValuesAreNamedInsteadOfGivingNaN) {
  const fs::path dir = make_temp_dir();
  MatrixD real(6, 3), synthetic(6, 3);
  for (std::size_t i = 0; i < 18; ++i) {
    real.data()[i] = static_cast<double>(i % 7) * 1e200;
    synthetic.data()[i] = static_cast<double>(i % 5) * 1e200;
  }
  features::write_npy(dir / "real.npy", real.view());
  features::write_npy(dir / "synthetic.npy", synthetic.view());
  auto r = run_chexgen({"-q", "metrics", "--real", "real.npy", "--synthetic", "synthetic.npy", "--metrics", "fid",
                        "--json", "out.json"},
                       dir.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("real.npy:1: feature value 1e+200 at feature index 1"));
  EXPECT_THAT(r.err, HasSubstr("is larger in magnitude than 1e+18"));
  r = run_chexgen({"-q", "metrics", "--real", "real.npy", "--synthetic", "synthetic.npy", "--metrics", "prdc", "--k",
                   "2", "--json", "out.json"},
                  dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(HardeningCli, OptionsThatWouldExhaustMemoryAreUsageErrors) {
  const fs::path dir = make_temp_dir();
  auto r = run_chexgen({"metrics", "--real", "r.npy", "--synthetic", "s.npy", "--json", "o.json", "--kid-subsets",
                        "4294967295"},
                       dir.string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--kid-subsets"));
  r = run_chexgen({"resize", (kImages / "ok1.png").string(), (dir / "o.png").string(), "--size", "65536", "--filter",
                   "bilinear"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("exceeds the image pixel limit of 67108864 (--max-image-pixels)"));
  write_text(dir / "p.csv", "prompt\nLeft effusion.\n");
  r = run_chexgen({"generate", (dir / "p.csv").string(), "--out", (dir / "gen").string(), "--base-url",
                   "http://127.0.0.1:9", "--model", "m", "--per-prompt", "2147483647"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--per-prompt must be 1..10000"));
  r = run_chexgen({"generate", (dir / "p.csv").string(), "--out", (dir / "gen").string(), "--base-url",
                   "http://127.0.0.1:9", "--model", "m", "--timeout", "0.0001"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--timeout"));
}

}  // namespace
}  // namespace chexgen::testing
