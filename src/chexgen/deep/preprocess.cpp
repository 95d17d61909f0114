#include "chexgen/deep/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace chexgen::deep {
namespace {

using json = nlohmann::json;
using Op = PreprocessStep::Op;

struct OpName {
  Op op;
  const char* name;
};
constexpr OpName op_names[] = {
    {Op::minmax_uint8, "minmax_uint8"}, {Op::to_gray, "to_gray"},   {Op::resize, "resize"},
    {Op::center_crop, "center_crop"},   {Op::to_float, "to_float"}, {Op::normalize, "normalize"}};

const char* op_name(Op op) {
  for (const auto& o : op_names)
    if (o.op == op) return o.name;
  CHEXGEN_ASSERT(false, "unnamed preprocessing op");
}

PreprocessStep resize_to(int w, int h, ResampleFilter f) {
  PreprocessStep s;
  s.op = Op::resize;
  s.size = {w, h};
  s.filter = f;
  return s;
}
PreprocessStep resize_shortest(int edge, ResampleFilter f) {
  PreprocessStep s;
  s.op = Op::resize;
  s.shortest_edge = edge;
  s.filter = f;
  return s;
}
PreprocessStep crop(int w, int h, bool round_offset) {
  PreprocessStep s;
  s.op = Op::center_crop;
  s.size = {w, h};
  s.round_offset = round_offset;
  return s;
}
PreprocessStep simple(Op op) {
  PreprocessStep s;
  s.op = op;
  return s;
}

// ---- the pixel work ----

// A working image: 8-bit until to_float, float afterwards (the references hold Pillow images, then arrays).
struct Work {
  Image8 u8;
  ImageF f;
  bool is_float = false;
  int width() const { return is_float ? f.width : u8.width; }
  int height() const { return is_float ? f.height : u8.height; }
  int channels() const { return is_float ? f.channels : u8.channels; }
};

void require_u8(const Work& w, Op op) {
  if (w.is_float)
    throw std::invalid_argument(
        fmt::format("preprocessing step '{}' needs 8-bit pixels but comes after to_float", op_name(op)));
}

// hi-ml's remap_to_uint8: a -= a.min(); a /= a.max(); a *= 255; a.astype(uint8), in float64.
void minmax_uint8(Image8& im) {
  const auto [lo, hi] = std::minmax_element(im.data.begin(), im.data.end());
  const double min = *lo, range = static_cast<double>(*hi) - min;
  if (range == 0) throw std::invalid_argument("the image is constant: min-max scaling divides by zero");
  for (auto& v : im.data) {
    double a = static_cast<double>(v) - min;
    a /= range;
    a *= 255.0;
    v = static_cast<std::uint8_t>(a);
  }
}

// Pillow's convert("L") (Convert.c, L24): ITU-R 601-2 luma in 16-bit fixed point.
Image8 to_gray(const Image8& im) {
  if (im.channels == 1) return im;
  Image8 out(im.width, im.height, 1);
  const std::size_t n = static_cast<std::size_t>(im.width) * im.height;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = &im.data[i * im.channels];
    out.data[i] = static_cast<std::uint8_t>((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
  }
  return out;
}

ImageSize resize_target(const PreprocessStep& s, int w, int h) {
  if (s.shortest_edge == 0) return s.size;
  // torchvision Resize(int) and HF shortest_edge: short side -> S, long side -> int(S * long / short).
  const int short_side = std::min(w, h), long_side = std::max(w, h);
  const int other = static_cast<int>(static_cast<double>(s.shortest_edge) * long_side / short_side);
  if (other < 1)
    throw std::invalid_argument(
        fmt::format("resizing {}x{} to shortest edge {} leaves no pixels", w, h, s.shortest_edge));
  return w <= h ? ImageSize{s.shortest_edge, other} : ImageSize{other, s.shortest_edge};
}

// torchvision: int(round((h - H) / 2.0)), Python's round half to even; HF: (h - H) // 2.
int crop_offset(int have, int want, bool round_offset) {
  const int d = have - want;
  if (!round_offset || d % 2 == 0) return d / 2;
  const int k = d / 2;  // d odd: d / 2 = k + 0.5, rounds to the even one of k and k + 1
  return k % 2 == 0 ? k : k + 1;
}

template <class T>
Image<T> crop_image(const Image<T>& im, int x0, int y0, int w, int h) {
  Image<T> out(w, h, im.channels);
  const std::size_t row = static_cast<std::size_t>(w) * im.channels;
  for (int y = 0; y < h; ++y)
    std::copy_n(&im.data[im.index(x0, y0 + y)], row, &out.data[static_cast<std::size_t>(y) * row]);
  return out;
}

void center_crop(Work& w, const PreprocessStep& s) {
  if (s.size.width > w.width() || s.size.height > w.height())
    throw std::invalid_argument(fmt::format("center crop {}x{} is larger than the {}x{} image", s.size.width,
                                            s.size.height, w.width(), w.height()));
  const int x0 = crop_offset(w.width(), s.size.width, s.round_offset);
  const int y0 = crop_offset(w.height(), s.size.height, s.round_offset);
  if (w.is_float)
    w.f = crop_image(w.f, x0, y0, s.size.width, s.size.height);
  else
    w.u8 = crop_image(w.u8, x0, y0, s.size.width, s.size.height);
}

void to_float(Work& w, const PreprocessStep& s) {
  require_u8(w, Op::to_float);
  w.f = ImageF(w.u8.width, w.u8.height, w.u8.channels);
  if (s.divide != 0) {
    const float d = static_cast<float>(s.divide);
    std::transform(w.u8.data.begin(), w.u8.data.end(), w.f.data.begin(),
                   [d](std::uint8_t v) { return static_cast<float>(v) / d; });
  } else {
    std::transform(w.u8.data.begin(), w.u8.data.end(), w.f.data.begin(),
                   [&s](std::uint8_t v) { return static_cast<float>(static_cast<double>(v) * s.scale); });
  }
  w.u8 = {};
  w.is_float = true;
}

void normalize(Work& w, const PreprocessStep& s) {
  if (!w.is_float) throw std::invalid_argument("normalize comes before to_float");
  const int c = w.f.channels;
  if (s.mean.size() != 1 && static_cast<int>(s.mean.size()) != c)
    throw std::invalid_argument(fmt::format("normalize has {} mean values for a {}-channel image", s.mean.size(), c));
  std::vector<float> mean(c), stdv(c);
  for (int k = 0; k < c; ++k) {
    mean[k] = static_cast<float>(s.mean[s.mean.size() == 1 ? 0 : k]);
    stdv[k] = static_cast<float>(s.std[s.std.size() == 1 ? 0 : k]);
  }
  for (std::size_t i = 0; i < w.f.data.size(); ++i) {
    const int k = static_cast<int>(i % c);
    w.f.data[i] = (w.f.data[i] - mean[k]) / stdv[k];
  }
}

// ---- JSON ----

[[noreturn]] void bad(const Location& where, const std::string& reason) { throw InputError(where, reason); }

void check_keys(const json& j, std::initializer_list<const char*> allowed, const Location& where,
                const std::string& what) {
  if (!j.is_object()) bad(where, fmt::format("{} must be a JSON object", what));
  for (const auto& [key, value] : j.items()) {
    if (std::none_of(allowed.begin(), allowed.end(), [&key](const char* a) { return key == a; }))
      bad(where, fmt::format("{}: unknown key '{}'", what, key));
  }
}

int positive_int(const json& j, const Location& where, const std::string& what) {
  if (!j.is_number_integer() || j.get<long long>() < 1 || j.get<long long>() > max_resize_side_px)
    bad(where, fmt::format("{} must be an integer from 1 to {}", what, max_resize_side_px));
  return j.get<int>();
}

ImageSize size_pair(const json& j, const Location& where, const std::string& what) {
  if (j.is_number_integer()) {
    const int s = positive_int(j, where, what);
    return {s, s};
  }
  if (!j.is_array() || j.size() != 2) bad(where, fmt::format("{} must be [width, height] or one integer", what));
  return {positive_int(j[0], where, what + "[0]"), positive_int(j[1], where, what + "[1]")};
}

std::vector<double> number_list(const json& j, const Location& where, const std::string& what) {
  std::vector<double> out;
  if (j.is_number())
    out.push_back(j.get<double>());
  else if (j.is_array()) {
    for (const auto& v : j) {
      if (!v.is_number()) bad(where, fmt::format("{} must hold numbers", what));
      out.push_back(v.get<double>());
    }
  } else
    bad(where, fmt::format("{} must be a number or a list of numbers", what));
  if (out.empty()) bad(where, fmt::format("{} is empty", what));
  for (double v : out)
    if (!std::isfinite(v)) bad(where, fmt::format("{} holds a non-finite value", what));
  return out;
}

PreprocessStep parse_step(const json& j, const Location& where, std::size_t index) {
  const std::string what = fmt::format("preprocess.steps[{}]", index);
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    bad(where, fmt::format("{} must be an object with an \"op\"", what));
  const std::string name = j["op"].get<std::string>();
  PreprocessStep s;
  const auto named =
      std::find_if(std::begin(op_names), std::end(op_names), [&name](const OpName& o) { return name == o.name; });
  if (named == std::end(op_names))
    bad(where, fmt::format("{}: unknown op '{}' (known: minmax_uint8, to_gray, resize, center_crop, to_float, "
                           "normalize)",
                           what, name));
  s.op = named->op;
  switch (s.op) {
    case Op::minmax_uint8:
    case Op::to_gray: check_keys(j, {"op"}, where, what); break;
    case Op::resize:
      check_keys(j, {"op", "size", "shortest_edge", "filter"}, where, what);
      if (j.contains("size") == j.contains("shortest_edge"))
        bad(where, fmt::format("{}: resize needs exactly one of \"size\" and \"shortest_edge\"", what));
      if (j.contains("size"))
        s.size = size_pair(j["size"], where, what + ".size");
      else
        s.shortest_edge = positive_int(j["shortest_edge"], where, what + ".shortest_edge");
      if (!j.contains("filter") || !j["filter"].is_string())
        bad(where, fmt::format("{}: resize needs a \"filter\" (nearest, bilinear, bicubic, lanczos)", what));
      try {
        s.filter = parse_resample_filter(j["filter"].get<std::string>());
      } catch (const UsageError& e) {
        bad(where, fmt::format("{}.filter: {}", what, e.what()));
      }
      break;
    case Op::center_crop:
      check_keys(j, {"op", "size", "offset"}, where, what);
      if (!j.contains("size")) bad(where, fmt::format("{}: center_crop needs a \"size\"", what));
      s.size = size_pair(j["size"], where, what + ".size");
      if (j.contains("offset")) {
        const json& o = j["offset"];
        if (o != "floor" && o != "round") bad(where, fmt::format("{}.offset must be \"floor\" or \"round\"", what));
        s.round_offset = o == "round";
      } else
        bad(where,
            fmt::format("{}: center_crop needs an \"offset\" (\"floor\" as HF, \"round\" as torchvision)", what));
      break;
    case Op::to_float:
      check_keys(j, {"op", "scale", "divide"}, where, what);
      if (j.contains("scale") == j.contains("divide"))
        bad(where, fmt::format("{}: to_float needs exactly one of \"scale\" and \"divide\"", what));
      if (j.contains("scale"))
        s.scale = number_list(j["scale"], where, what + ".scale").at(0);
      else {
        s.divide = number_list(j["divide"], where, what + ".divide").at(0);
        if (s.divide == 0) bad(where, fmt::format("{}.divide is 0", what));
      }
      break;
    case Op::normalize:
      check_keys(j, {"op", "mean", "std"}, where, what);
      if (!j.contains("mean") || !j.contains("std")) bad(where, fmt::format("{}: normalize needs mean and std", what));
      s.mean = number_list(j["mean"], where, what + ".mean");
      s.std = number_list(j["std"], where, what + ".std");
      if (s.mean.size() != s.std.size()) bad(where, fmt::format("{}: mean and std differ in length", what));
      for (double v : s.std)
        if (v == 0) bad(where, fmt::format("{}.std holds a zero", what));
      break;
  }
  return s;
}

void validate(const Preprocessing& p, const Location& where) {
  bool is_float = false;
  for (const auto& s : p.steps) {
    if (s.op == Op::to_float) {
      if (is_float) bad(where, "preprocess: to_float appears twice");
      is_float = true;
    } else if (s.op == Op::normalize && !is_float) {
      bad(where, "preprocess: normalize must come after to_float");
    } else if ((s.op == Op::minmax_uint8 || s.op == Op::to_gray) && is_float) {
      bad(where, fmt::format("preprocess: {} works on 8-bit pixels and must come before to_float", op_name(s.op)));
    }
  }
  if (p.dtype == InputDtype::float32 && !is_float)
    bad(where, "preprocess: a float32 input needs a to_float step (or say \"input\": {\"dtype\": \"uint8\"})");
  if (p.dtype == InputDtype::uint8 && is_float) bad(where, "preprocess: a uint8 input cannot have a to_float step");
}

}  // namespace

Preprocessing preset_preprocessing(features::ExtractorPreset preset) {
  using features::ExtractorPreset;
  Preprocessing p;
  p.preset = preset;
  switch (preset) {
    case ExtractorPreset::inception_fid:
      p.color = ColorMode::rgb;
      p.steps = {resize_to(299, 299, ResampleFilter::bilinear)};
      p.dtype = InputDtype::uint8;
      p.height = p.width = 299;
      return p;
    case ExtractorPreset::raddino: {
      // microsoft/rad-dino's preprocessor_config.json (BitImageProcessor), applied to CheXGenBench's 299x299 image.
      PreprocessStep to_f = simple(Op::to_float);
      to_f.scale = 1.0 / 255.0;
      PreprocessStep norm = simple(Op::normalize);
      norm.mean = {0.5307};
      norm.std = {0.2583};
      p.color = ColorMode::rgb;
      p.steps = {resize_to(299, 299, ResampleFilter::bilinear), resize_shortest(518, ResampleFilter::bicubic),
                 crop(518, 518, false), to_f, norm};
      p.height = p.width = 518;
      return p;
    }
    case ExtractorPreset::biovil_image: {
      PreprocessStep to_f = simple(Op::to_float);
      to_f.divide = 255.0;
      p.color = ColorMode::rgb;
      p.steps = {simple(Op::minmax_uint8), simple(Op::to_gray), resize_shortest(512, ResampleFilter::bilinear),
                 crop(448, 448, true), to_f};
      p.height = p.width = 448;
      return p;
    }
    case ExtractorPreset::radiomics:
    case ExtractorPreset::generic: break;
  }
  throw UsageError(fmt::format("'{}' is not a network preset (known: {})", features::preset_info(preset).name,
                               features::network_preset_names()));
}

Preprocessing preset_preprocessing(const std::string& name) {
  const auto preset = features::preset_by_name(name);
  if (!preset || *preset == features::ExtractorPreset::radiomics)
    throw UsageError(
        fmt::format("unknown preprocessing preset '{}' (known: {}; a sidecar can also give its own "
                    "steps)",
                    name, features::network_preset_names()));
  return preset_preprocessing(*preset);
}

Preprocessing parse_preprocessing(const json& j, const Location& where) {
  check_keys(j, {"color", "steps", "channels", "input"}, where, "preprocess");
  Preprocessing p;
  if (!j.contains("color") || (j["color"] != "gray" && j["color"] != "rgb"))
    bad(where, "preprocess.color must be \"gray\" or \"rgb\"");
  p.color = j["color"] == "gray" ? ColorMode::gray : ColorMode::rgb;
  if (!j.contains("steps") || !j["steps"].is_array()) bad(where, "preprocess.steps must be a list");
  for (std::size_t i = 0; i < j["steps"].size(); ++i) p.steps.push_back(parse_step(j["steps"][i], where, i));
  if (j.contains("channels")) {
    if (j["channels"] != 1 && j["channels"] != 3) bad(where, "preprocess.channels must be 1 or 3");
    p.channels = j["channels"].get<int>();
  }
  if (j.contains("input")) {
    const json& in = j["input"];
    check_keys(in, {"dtype", "height", "width"}, where, "preprocess.input");
    if (in.contains("dtype")) {
      if (in["dtype"] != "float32" && in["dtype"] != "uint8")
        bad(where, "preprocess.input.dtype must be \"float32\" or \"uint8\"");
      p.dtype = in["dtype"] == "uint8" ? InputDtype::uint8 : InputDtype::float32;
    }
    if (in.contains("height")) p.height = positive_int(in["height"], where, "preprocess.input.height");
    if (in.contains("width")) p.width = positive_int(in["width"], where, "preprocess.input.width");
  }
  validate(p, where);
  return p;
}

json to_json(const Preprocessing& p) {
  json steps = json::array();
  for (const auto& s : p.steps) {
    json j = {{"op", op_name(s.op)}};
    switch (s.op) {
      case Op::minmax_uint8:
      case Op::to_gray: break;
      case Op::resize:
        if (s.shortest_edge)
          j["shortest_edge"] = s.shortest_edge;
        else
          j["size"] = {s.size.width, s.size.height};
        j["filter"] = resample_filter_name(s.filter);
        break;
      case Op::center_crop:
        j["size"] = {s.size.width, s.size.height};
        j["offset"] = s.round_offset ? "round" : "floor";
        break;
      case Op::to_float:
        if (s.divide != 0)
          j["divide"] = s.divide;
        else
          j["scale"] = s.scale;
        break;
      case Op::normalize:
        j["mean"] = s.mean;
        j["std"] = s.std;
        break;
    }
    steps.push_back(std::move(j));
  }
  return {{"color", p.color == ColorMode::gray ? "gray" : "rgb"},
          {"steps", std::move(steps)},
          {"channels", p.channels},
          {"input",
           {{"dtype", p.dtype == InputDtype::uint8 ? "uint8" : "float32"}, {"height", p.height}, {"width", p.width}}}};
}

PlanarImageF preprocess(const Image8& image, const Preprocessing& p) {
  Work w;
  w.u8 = image;
  for (const auto& s : p.steps) {
    switch (s.op) {
      case Op::minmax_uint8:
        require_u8(w, s.op);
        minmax_uint8(w.u8);
        break;
      case Op::to_gray:
        require_u8(w, s.op);
        w.u8 = to_gray(w.u8);
        break;
      case Op::resize: {
        const ImageSize t = resize_target(s, w.width(), w.height());
        if (w.is_float)
          w.f = resize(w.f, t.width, t.height, s.filter);
        else
          w.u8 = resize(w.u8, t.width, t.height, s.filter);
        break;
      }
      case Op::center_crop: center_crop(w, s); break;
      case Op::to_float: to_float(w, s); break;
      case Op::normalize: normalize(w, s); break;
    }
  }
  if (p.height && p.width && (w.height() != p.height || w.width() != p.width))
    throw std::invalid_argument(fmt::format("preprocessing made a {}x{} image; the model takes {}x{}", w.width(),
                                            w.height(), p.width, p.height));
  const int c_in = w.channels();
  if (c_in != 1 && c_in != p.channels)
    throw std::invalid_argument(fmt::format("preprocessing made {} channels; the model takes {}", c_in, p.channels));
  PlanarImageF t;
  t.channels = p.channels;
  t.height = w.height();
  t.width = w.width();
  const std::size_t plane = static_cast<std::size_t>(t.height) * t.width;
  t.values.resize(plane * t.channels);
  // Interleaved HWC -> planar CHW; a single channel is repeated.
  for (int c = 0; c < t.channels; ++c) {
    const int src_c = c_in == 1 ? 0 : c;
    float* dst = &t.values[c * plane];
    if (w.is_float)
      for (std::size_t i = 0; i < plane; ++i) dst[i] = w.f.data[i * c_in + src_c];
    else
      for (std::size_t i = 0; i < plane; ++i) dst[i] = w.u8.data[i * c_in + src_c];
  }
  return t;
}

}  // namespace chexgen::deep
