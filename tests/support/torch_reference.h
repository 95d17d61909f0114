// The deep goldens recomputed on this machine by torch 1.13 in Python (tests/fixtures/make_deep_golden.py
// --features-only). A float32 feature's last bits depend on the BLAS kernels the CPU gets (OPENBLAS_CORETYPE), so a
// test that asserts bit-identity with torch compares with features computed here, in the same environment; the
// committed goldens are compared within a tolerance scaled to the values (tests/support/tolerance.h).
#pragma once

#include <filesystem>
#include <string>

namespace chexgen::testing {

struct TorchReference {
  std::filesystem::path dir;  // <model>.npy for every model of tests/fixtures/models, when available
  std::string unavailable;    // why not (no /usr/bin/python3, or no torch in it): the test is skipped with this
};

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command (popen) and collects what it prints.
Run run_shell(const std::string& command);

// Runs the script (a few seconds) the first time and keeps its output in the temporary directory under a key of
// the script, the models, the image list and OPENBLAS_CORETYPE, so the other test processes reuse it. A script that
// starts but fails is a test failure (std::runtime_error with its output), not a skip.
const TorchReference& torch_reference();

}  // namespace chexgen::testing
