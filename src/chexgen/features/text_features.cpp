#include "chexgen/features/text_features.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "chexgen/core/hash.h"
#include "chexgen/core/log.h"
#include "chexgen/features/feature_store.h"

namespace chexgen::features {

TextFeatures embed_texts(const TextFeatureExtractor& extractor, const std::vector<std::string>& texts,
                         const std::vector<Location>& where, const std::filesystem::path& store_root, const Log& log,
                         const std::string& label) {
  CHEXGEN_ASSERT(texts.size() == where.size(), "embed_texts: one location per text");
  std::vector<std::string> columns;
  for (std::size_t i = 0; i < extractor.dim; ++i) columns.push_back(fmt::format("text_{}", i));
  FeatureStore store(store_root, extractor.id, columns);
  const auto key_of = [](const std::string& text) {
    return sha256({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  };
  TextFeatures out;
  out.values = MatrixD(texts.size(), extractor.dim);
  std::vector<std::string> missing;
  std::vector<Location> missing_where;
  std::vector<std::size_t> missing_rows;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (auto row = store.find(key_of(texts[i]))) {
      std::copy(row->begin(), row->end(), out.values.row(i));
    } else {
      missing.push_back(texts[i]);
      missing_where.push_back(where[i]);
      missing_rows.push_back(i);
    }
  }
  out.computed = missing.size();
  out.reused = texts.size() - missing.size();
  log.info("{}: {} to embed with {}, {} from the store", label, out.computed, extractor.name, out.reused);
  if (!missing.empty()) {
    const MatrixD fresh = extractor.embed(missing, missing_where);
    CHEXGEN_ASSERT(fresh.rows() == missing.size() && fresh.cols() == extractor.dim,
                   "embed_texts: the extractor returned another shape");
    for (std::size_t k = 0; k < missing.size(); ++k) {
      std::copy_n(fresh.row(k), fresh.cols(), out.values.row(missing_rows[k]));
      store.put(key_of(missing[k]), std::span<const double>(fresh.row(k), fresh.cols()));
    }
    store.flush();
  }
  return out;
}

}  // namespace chexgen::features
