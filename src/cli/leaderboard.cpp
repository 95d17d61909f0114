// chexgen leaderboard: one table of the "overall" metrics of several results.json files (chexgen fidelity), one row
// per generator, ranked by a chosen column in that column's better direction (docs/baselines.md).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "cli/commands.h"
#include "cli/extraction.h"

namespace chexgen::cli {
namespace {

namespace fs = std::filesystem;

struct LeaderboardArgs {
  std::vector<std::string> inputs;
  std::string sort;
  std::string csv_path;
};

// Metric families in table order. A column belongs to a family when its name is the family's name or the name
// followed by " (suffix)", as CheXGenBench's tables name them ("FID (RadDino)").
struct Family {
  const char* name;
  bool lower_is_better;
};
constexpr Family kFamilies[] = {
    {"FRD", true},       {"FID", true},      {"KID", true},     {"Inception Score", false}, {"Precision", false},
    {"Recall", false},   {"Density", false}, {"Coverage", false}, {"Alignment_score", false},
};

std::optional<std::size_t> family_of(const std::string& column) {
  for (std::size_t f = 0; f < std::size(kFamilies); ++f) {
    const std::string name = kFamilies[f].name;
    if (column == name) return f;
    if (column.size() > name.size() + 3 && column.compare(0, name.size() + 2, name + " (") == 0 &&
        column.back() == ')') {
      return f;
    }
  }
  return std::nullopt;
}

// Within a family the bare name comes first, then the suffixed columns alphabetically.
bool column_before(const std::string& a, const std::string& b) {
  const auto fa = *family_of(a), fb = *family_of(b);
  if (fa != fb) return fa < fb;
  const bool bare_a = a == kFamilies[fa].name, bare_b = b == kFamilies[fb].name;
  if (bare_a != bare_b) return bare_a;
  return a < b;
}

struct Row {
  std::string file;
  std::string generator;
  std::vector<std::pair<std::string, double>> metrics;  // numeric metric columns
  std::optional<double> n_real, n_synthetic;

  std::optional<double> value(const std::string& column) const {
    for (const auto& [name, v] : metrics) {
      if (name == column) return v;
    }
    return std::nullopt;
  }
};

fs::path results_file(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return fs::path(input) / "results.json";
  return input;
}

Row read_row(const std::string& input) {
  const fs::path path = results_file(input);
  const std::string file = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw InputError(Location{file}, fs::is_directory(input, ec) ? "no results.json in this folder (chexgen fidelity "
                                                                    "writes it)"
                                                                  : "file not found");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file_bytes(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(Location{file}, fmt::format("not valid JSON (at byte {})", e.byte));
  }
  if (!j.is_object()) throw InputError(Location{file}, "not a results.json: the top level is not a JSON object");
  const auto overall = j.find("overall");
  if (overall == j.end() || !overall->is_object()) {
    throw InputError(Location{file}, "no \"overall\" object: not a results.json written by chexgen fidelity");
  }
  Row row;
  row.file = file;
  const auto extra = j.find("extra_info");
  if (extra != j.end() && extra->is_string() && !extra->get_ref<const std::string&>().empty()) {
    row.generator = extra->get<std::string>();
  } else {
    // Without a name, the results folder's name ("results/blur-2/results.json" -> "blur-2").
    const fs::path parent = fs::absolute(path).parent_path();
    row.generator = parent.filename().string();
  }
  for (const auto& [key, value] : overall->items()) {
    if (key == "n_real" && value.is_number()) row.n_real = value.get<double>();
    if (key == "n_synthetic" && value.is_number()) row.n_synthetic = value.get<double>();
    if (!family_of(key)) continue;
    if (value.is_number()) row.metrics.emplace_back(key, value.get<double>());
    // JSON has no infinity: chexgen fidelity writes "-inf" (the FRD of a set against itself, ln 0) and "inf".
    if (value == "-inf" || value == "inf")
      row.metrics.emplace_back(key, value == "inf" ? HUGE_VAL : -HUGE_VAL);
    // null or anything else: the metric was not computed; the cell stays empty.
  }
  return row;
}

// Four significant digits, without an exponent for ordinary magnitudes.
std::string short_value(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  return fmt::format("{:.4g}", v);
}

std::string full_value(double v) { return fmt::format("{}", v); }  // shortest round-trip form

std::string count_value(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

int run_leaderboard(const LeaderboardArgs& a) {
  std::vector<Row> rows;
  rows.reserve(a.inputs.size());
  std::size_t n_bad = 0;
  for (const auto& input : a.inputs) {
    try {
      rows.push_back(read_row(input));
    } catch (const InputError& e) {
      fmt::print(stderr, "chexgen: error: {}\n", e.what());
      ++n_bad;
    }
  }
  if (n_bad > 0) {
    fmt::print(stderr, "chexgen: {} of {} results file(s) could not be used; no table was written\n", n_bad,
               a.inputs.size());
    return static_cast<int>(ExitCode::bad_input);
  }

  std::vector<std::string> columns;
  for (const auto& r : rows) {
    for (const auto& [name, v] : r.metrics) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  std::sort(columns.begin(), columns.end(), column_before);

  std::string sort_column = a.sort;
  if (sort_column.empty()) {
    const bool all_frd = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.value("FRD").has_value(); });
    if (all_frd) {
      sort_column = "FRD";
    } else {
      for (const auto& c : columns) {
        if (*family_of(c) == 1) {  // the first FID column
          sort_column = c;
          break;
        }
      }
      if (sort_column.empty() && !columns.empty()) sort_column = columns.front();
    }
  } else if (std::find(columns.begin(), columns.end(), sort_column) == columns.end()) {
    const std::string known = columns.empty() ? "none" : fmt::format("'{}'", fmt::join(columns, "', '"));
    throw UsageError(fmt::format("--sort: no metric column '{}' in the results (columns: {})", sort_column, known));
  }

  bool lower_is_better = true;
  if (!sort_column.empty()) {
    lower_is_better = kFamilies[*family_of(sort_column)].lower_is_better;
    // Best first; rows without the value last; ties keep the command-line order.
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& x, const Row& y) {
      const auto vx = x.value(sort_column), vy = y.value(sort_column);
      if (!vx || !vy) return vx.has_value() && !vy.has_value();
      if (std::isnan(*vx) || std::isnan(*vy)) return !std::isnan(*vx) && std::isnan(*vy);
      return lower_is_better ? *vx < *vy : *vx > *vy;
    });
  }

  // Equal values share a rank (1, 2, 2, 4); rows without the value have none.
  std::vector<std::optional<std::size_t>> rank(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (sort_column.empty()) {
      rank[i] = i + 1;
      continue;
    }
    const auto v = rows[i].value(sort_column);
    if (!v) continue;
    const auto previous = i > 0 ? rows[i - 1].value(sort_column) : std::nullopt;
    rank[i] = previous && *previous == *v ? rank[i - 1] : std::optional<std::size_t>(i + 1);
  }

  const bool show_n_real = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.n_real.has_value(); });
  const bool show_n_synth =
      std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.n_synthetic.has_value(); });

  // The table as cells: rank, generator, metrics, counts. `full` chooses the CSV's full precision.
  const auto table = [&](bool full) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header{"rank", "generator"};
    header.insert(header.end(), columns.begin(), columns.end());
    if (show_n_real) header.push_back("n_real");
    if (show_n_synth) header.push_back("n_synthetic");
    cells.push_back(header);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::vector<std::string> line{rank[i] ? std::to_string(*rank[i]) : "-", r.generator};
      for (const auto& c : columns) {
        const auto v = r.value(c);
        line.push_back(v ? (full ? full_value(*v) : short_value(*v)) : (full ? "" : "-"));
      }
      if (show_n_real) line.push_back(r.n_real ? count_value(*r.n_real) : (full ? "" : "-"));
      if (show_n_synth) line.push_back(r.n_synthetic ? count_value(*r.n_synthetic) : (full ? "" : "-"));
      cells.push_back(std::move(line));
    }
    return cells;
  };

  const auto text = table(false);
  std::vector<std::size_t> width(text.front().size(), 0);
  for (const auto& line : text) {
    for (std::size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  if (sort_column.empty()) {
    fmt::print("no metric columns in the results; rows in the order given\n");
  } else {
    fmt::print("sorted by {} ({} is better)\n", sort_column, lower_is_better ? "lower" : "higher");
  }
  for (const auto& line : text) {
    std::string out;
    for (std::size_t c = 0; c < line.size(); ++c) {
      if (c > 0) out += "  ";
      // The generator's name is text: left-aligned; numbers right-aligned.
      out += c == 1 ? fmt::format("{:<{}}", line[c], width[c]) : fmt::format("{:>{}}", line[c], width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    fmt::print("{}\n", out);
  }

  if (!a.csv_path.empty()) {
    std::vector<std::string> lines;
    for (const auto& line : table(true)) lines.push_back(csv_record(line));
    write_lines(a.csv_path, lines);
  }
  return 0;
}

}  // namespace

void add_leaderboard_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto args = std::make_shared<LeaderboardArgs>();
  CLI::App* cmd = app.add_subcommand(
      "leaderboard", "Rank generators by the overall metrics of their results.json files (chexgen fidelity)");
  cmd->add_option("results", args->inputs, "results.json files, or folders holding one")->required();
  cmd->add_option("--sort", args->sort,
                  "Metric column to rank by, e.g. FRD, \"FID (Radiomics)\", Coverage (default: FRD if every file "
                  "has it, else the first FID column)");
  cmd->add_option("--csv", args->csv_path, "Also write the table as CSV (full precision) to this file");
  cmd->callback([args, &exit_code] { exit_code = run_leaderboard(*args); });
}

}  // namespace chexgen::cli
