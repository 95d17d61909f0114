#include "chexgen/data/link.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen {

std::vector<std::optional<std::size_t>> link_generations(const Dataset& train, const Dataset& generations,
                                                         const std::string& source_column) {
  std::vector<std::optional<std::size_t>> links(generations.samples.size());
  std::string column = source_column;
  if (column.empty()) {
    if (generations.has_column("sample_id"))
      column = "sample_id";
    else if (generations.has_column("source_id"))
      column = "source_id";
  } else if (!generations.has_column(column)) {
    throw InputError(Location{generations.source.string()},
                     fmt::format("no column '{}' to link generations to training rows", column));
  }
  if (!column.empty()) {
    std::map<std::string, std::size_t> by_id;
    for (std::size_t i = 0; i < train.samples.size(); ++i) by_id.emplace(train.samples[i].id, i);
    for (std::size_t g = 0; g < generations.samples.size(); ++g) {
      const Sample& s = generations.samples[g];
      const std::string* id = s.extra_value(column);
      const auto it = id ? by_id.find(*id) : by_id.end();
      if (it == by_id.end())
        throw InputError(
            Location{generations.source.string(), s.row, column},
            fmt::format("'{}' is the id of no training image in {}", id ? *id : "", train.source.string()));
      links[g] = it->second;
    }
    return links;
  }
  const bool any_prompt = std::any_of(generations.samples.begin(), generations.samples.end(),
                                      [](const Sample& s) { return s.prompt.has_value(); });
  if (!any_prompt) return links;
  std::map<std::string, std::size_t> by_prompt;
  for (std::size_t i = 0; i < train.samples.size(); ++i)
    if (train.samples[i].prompt) by_prompt.emplace(*train.samples[i].prompt, i);  // the first row of a prompt
  for (std::size_t g = 0; g < generations.samples.size(); ++g) {
    const Sample& s = generations.samples[g];
    const auto it = s.prompt ? by_prompt.find(*s.prompt) : by_prompt.end();
    if (it == by_prompt.end())
      throw InputError(Location{generations.source.string(), s.row, "prompt"},
                       s.prompt ? "no training image has this prompt" : "no prompt to link it to a training image");
    links[g] = it->second;
  }
  return links;
}

}  // namespace chexgen
