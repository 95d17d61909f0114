#include "chexgen/core/error.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace chexgen {

std::string Location::render() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (row) out += fmt::format(":{}", *row);
  if (!column.empty()) out += fmt::format(": column '{}'", column);
  return out;
}

InputError::InputError(Location where, std::string reason)
    : std::runtime_error(where.render() + ": " + reason), where_(std::move(where)), reason_(std::move(reason)) {}

void ErrorReport::merge(const ErrorReport& other) {
  errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
}

nlohmann::json ErrorReport::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : errors_) {
    nlohmann::json j{{"file", e.where().file}, {"reason", e.reason()}, {"message", e.what()}};
    j["row"] = e.where().row ? nlohmann::json(*e.where().row) : nlohmann::json(nullptr);
    j["column"] = e.where().column.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.where().column);
    out.push_back(std::move(j));
  }
  return out;
}

void assertion_failed(const char* expr, const char* file, int line, const std::string& message) {
  std::fprintf(stderr, "chexgen: internal error at %s:%d: assertion '%s' failed: %s\n", file, line, expr,
               message.c_str());
  std::abort();
}

}  // namespace chexgen
