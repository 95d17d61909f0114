// Linking the images of one manifest to the rows of another: a generation to the training row its prompt came from
// (privacy), a synthetic image to its real twin (utility).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/data/manifest.h"

namespace chexgen {

// Each generation's row of `train`: by the source column's id (the explicit `source_column`, else sample_id, else
// source_id, matched against Sample::id), else by exact prompt text (the first training row with that prompt, as
// CheXGenBench). nullopt for all when the generations have neither a source column nor prompts. A generation whose
// id or prompt matches no training row is an InputError naming its row; a named column that is missing is an
// InputError naming the manifest.
std::vector<std::optional<std::size_t>> link_generations(const Dataset& train, const Dataset& generations,
                                                         const std::string& source_column);

}  // namespace chexgen
