#include "support/torch_reference.h"

#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chexgen/core/hash.h"

namespace chexgen::testing {
namespace {

namespace fs = std::filesystem;

}  // namespace

Run run_shell(const std::string& command) {
  Run r;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buffer;
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get()))
    r.output.append(buffer.data(), n);
  r.status = pclose(pipe.release());
  return r;
}

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What the reference depends on: the script, the models, the image list, and the BLAS kernels asked for.
std::string cache_key(const fs::path& script) {
  const fs::path root(CHEXGEN_SOURCE_DIR);
  std::string all = read_bytes(script) + read_bytes(root / "tests/golden/deep/images.txt");
  std::vector<fs::path> models;
  for (const auto& e : fs::directory_iterator(root / "tests/fixtures/models")) models.push_back(e.path());
  std::sort(models.begin(), models.end());
  for (const auto& m : models) all += m.filename().string() + read_bytes(m);
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  all += std::string("OPENBLAS_CORETYPE=") + (core ? core : "");
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(all.data()), all.size()}).substr(0, 16);
}

TorchReference compute() {
  constexpr const char* kPython = "/usr/bin/python3";
  TorchReference ref;
  if (!fs::exists(kPython)) {
    ref.unavailable = "no /usr/bin/python3 (make reference-deps installs Debian's torch)";
    return ref;
  }
  const fs::path script = fs::path(CHEXGEN_SOURCE_DIR) / "tests/fixtures/make_deep_golden.py";
  // Each test runs in a process of its own: the first one computes the reference, the others find it here.
  const fs::path cached = fs::temp_directory_path() / ("chexgen-torch-reference-" + cache_key(script));
  if (fs::exists(cached / "complete")) {
    ref.dir = cached;
    return ref;
  }
  if (run_shell(std::string(kPython) + " -c 'import numpy, PIL, torch, torchvision'").status != 0) {
    ref.unavailable = "/usr/bin/python3 lacks numpy, Pillow, torch or torchvision (make reference-deps)";
    return ref;
  }
  std::string pattern = (fs::temp_directory_path() / "chexgen-torch-reference-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const Run r = run_shell(std::string(kPython) + " '" + script.string() + "' --features-only '" + pattern + "'");
  if (r.status != 0) throw std::runtime_error(script.string() + " --features-only failed:\n" + r.output);
  std::ofstream(fs::path(pattern) / "complete") << "done\n";
  // Published by one rename; when another process got there first, its copy is the same and ours goes.
  std::error_code ec;
  fs::rename(pattern, cached, ec);
  if (ec) fs::remove_all(pattern, ec);
  ref.dir = cached;
  return ref;
}

}  // namespace

const TorchReference& torch_reference() {
  static const TorchReference ref = compute();
  return ref;
}

}  // namespace chexgen::testing
