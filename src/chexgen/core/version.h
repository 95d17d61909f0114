// Version and build information (`chexgen --version`).
#pragma once

#include <string>

namespace chexgen {

// "chexgen 0.1.0" followed by one line per library it was built against.
std::string version_string();

}  // namespace chexgen
