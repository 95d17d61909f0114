// chexgen resize: one image to a PNG of another size with a Pillow-compatible filter (docs/resize.md).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/resize.h"
#include "cli/commands.h"

namespace chexgen::cli {
namespace {

struct ResizeArgs {
  std::string input;
  std::string output;
  std::string size;
  std::string filter;
  std::string mode = "gray";
};

ColorMode parse_color_mode(const std::string& name) {
  if (name == "gray") return ColorMode::gray;
  if (name == "rgb") return ColorMode::rgb;
  throw UsageError(fmt::format("unknown --mode '{}' (expected gray or rgb)", name));
}

int run_resize(const ResizeArgs& args, const GlobalOptions& global) {
  // Every option is checked before the image is read.
  const ImageSize size = parse_image_size(args.size);
  const ResampleFilter filter = parse_resample_filter(args.filter);
  const ColorMode mode = parse_color_mode(args.mode);

  const Image8 image = read_image_u8(args.input, mode);
  const Image8 resized = resize(image, size.width, size.height, filter);
  write_png(args.output, resized);
  if (!global.quiet) {
    fmt::print("{}: {}x{} -> {}: {}x{} ({}, {})\n", args.input, image.width, image.height, args.output, resized.width,
               resized.height, resample_filter_name(filter), args.mode);
  }
  return 0;
}

}  // namespace

void add_resize_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<ResizeArgs>();
  CLI::App* cmd = app.add_subcommand("resize", "Resize an image as Pillow's Image.resize does; write a PNG");
  cmd->add_option("input", args->input, "Image to read: PNG, JPEG or DICOM")->required();
  cmd->add_option("output", args->output, "PNG to write")->required();
  cmd->add_option("--size", args->size, "Output size W (square) or WxH, in pixels, e.g. 299 or 640x480")->required();
  cmd->add_option("--filter", args->filter, "nearest | bilinear | bicubic | lanczos (Pillow's filters)")->required();
  cmd->add_option("--mode", args->mode, "gray (Pillow 'L') | rgb (Pillow 'RGB')")->default_val("gray");
  cmd->callback([args, &global, &exit_code] { exit_code = run_resize(*args, global); });
}

}  // namespace chexgen::cli
