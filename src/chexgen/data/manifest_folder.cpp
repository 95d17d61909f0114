// A bare folder of images: every PNG, JPEG and DICOM file under it (by extension), sorted by path.
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/json.h"
#include "chexgen/core/utf8.h"
#include "chexgen/data/manifest_pvt.h"

namespace chexgen::manifest_detail {
namespace {

bool is_image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".dcm" || ext == ".dicom";
}

}  // namespace

void read_folder_manifest(const std::filesystem::path& path, const ManifestOptions& options, SampleCollector& collector,
                          Dataset& dataset) {
  dataset.labels = LabelSet();  // a folder carries no labels
  namespace fs = std::filesystem;
  if (!options.image_root.empty()) throw UsageError("--image-root does not apply to a folder (the folder is the root)");
  if (!options.label_names.empty() || !options.label_column_range.empty()) {
    throw UsageError("a folder of images has no labels; --labels/--label-set/--label-columns do not apply");
  }
  std::error_code ec;
  if (!fs::is_directory(path, ec)) throw InputError({path.string()}, "not a folder");
  std::vector<std::string> relative;
  fs::recursive_directory_iterator it(path, fs::directory_options::follow_directory_symlink, ec);
  if (ec) throw InputError({path.string()}, fmt::format("cannot list the folder: {}", ec.message()));
  // Each real folder is walked once, whatever links lead to it again (a link to "." or to a parent would otherwise
  // make the walk endless).
  std::set<std::pair<dev_t, ino_t>> walked;
  const auto first_visit = [&](const fs::path& folder) {
    struct stat st {};
    return ::stat(folder.c_str(), &st) != 0 || walked.emplace(st.st_dev, st.st_ino).second;
  };
  first_visit(path);
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw InputError({path.string()}, fmt::format("cannot list the folder: {}", ec.message()));
    if (it->is_directory(ec)) {
      if (!first_visit(it->path())) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && is_image_extension(it->path())) {
      std::string name = fs::relative(it->path(), path).generic_string();
      if (find_invalid_utf8(name)) {
        throw InputError({printable_text((path / name).string())},
                         "the file name is not valid UTF-8, which the manifests and results (JSON, CSV) cannot "
                         "carry: rename the file");
      }
      relative.push_back(std::move(name));
    }
  }
  if (ec) throw InputError({path.string()}, fmt::format("cannot list the folder: {}", ec.message()));
  std::sort(relative.begin(), relative.end());
  collector.set_image_root(path);
  for (auto& r : relative) {
    Sample s;
    s.image_ref = r;
    s.id = std::move(r);
    collector.add(std::move(s), "", "");
  }
}

}  // namespace chexgen::manifest_detail
