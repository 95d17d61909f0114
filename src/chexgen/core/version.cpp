#include "chexgen/core/version.h"

#include <fmt/format.h>
#include <openssl/opensslv.h>
#include <nlohmann/json.hpp>

namespace chexgen {

std::string version_string() {
  return fmt::format("chexgen {}\n  fmt {}, nlohmann-json {}.{}.{}, {}\n  compiled by g++ {}, C++ {}", CHEXGEN_VERSION,
                     FMT_VERSION, NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH,
                     OPENSSL_VERSION_TEXT, __VERSION__, __cplusplus);
}

}  // namespace chexgen
