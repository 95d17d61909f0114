#include "chexgen/report/leaderboard.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/data/csv_table.h"

namespace chexgen::report {
namespace {

using results::MetricKey;

std::string short_value(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : fmt::format("{}", v); }
std::string full_value(double v) { return fmt::format("{}", v); }  // shortest round-trip form

std::optional<MetricKey> default_sort(const std::vector<LeaderboardRow>& rows, const std::vector<MetricKey>& columns) {
  const MetricKey frd{results::Metric::frd, std::string(results::info(results::Metric::frd).default_space)};
  if (!rows.empty() && std::all_of(rows.begin(), rows.end(), [&](const auto& r) { return r.overall.value(frd); }))
    return frd;
  for (const MetricKey& c : columns)
    if (c.metric == results::Metric::fid) return c;
  if (!columns.empty()) return columns.front();
  return std::nullopt;
}

// The table as cells: rank, generator, one cell per column, the sample counts.
std::vector<std::vector<std::string>> cells(const Leaderboard& b, bool full) {
  const std::string none = full ? "" : "-";
  std::vector<std::string> header{"rank", "generator"};
  for (const MetricKey& c : b.columns) header.push_back(results::column_title(c));
  header.insert(header.end(), {"n_real", "n_synthetic"});
  std::vector<std::vector<std::string>> out{header};
  for (const LeaderboardRow& r : b.rows) {
    std::vector<std::string> line{r.rank ? std::to_string(*r.rank) : "-", r.generator};
    for (const MetricKey& c : b.columns) {
      const auto v = r.overall.value(c);
      line.push_back(v ? (full ? full_value(*v) : short_value(*v)) : none);
    }
    line.push_back(std::to_string(r.overall.n_real));
    line.push_back(std::to_string(r.overall.n_synthetic));
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

Leaderboard make_leaderboard(std::vector<results::Results> runs, const std::string& sort) {
  Leaderboard b;
  for (results::Results& run : runs) {
    for (const auto& rec : run.overall.records)
      if (rec.value && std::find(b.columns.begin(), b.columns.end(), rec.key) == b.columns.end())
        b.columns.push_back(rec.key);
    // Results of one generator from several evaluations (fidelity, privacy) make one row.
    const auto same = std::find_if(b.rows.begin(), b.rows.end(),
                                   [&](const LeaderboardRow& row) { return row.generator == run.generator; });
    if (same == b.rows.end()) {
      b.rows.push_back({std::move(run.generator), std::move(run.overall), std::nullopt});
      continue;
    }
    for (auto& rec : run.overall.records) {
      if (rec.value && same->overall.value(rec.key))
        throw UsageError(
            fmt::format("two results give '{}' for the generator '{}': name one of them otherwise "
                        "(--extra-info)",
                        results::column_title(rec.key), run.generator));
      auto& records = same->overall.records;
      const auto old = std::find_if(records.begin(), records.end(), [&](const auto& r) { return r.key == rec.key; });
      if (old == records.end())
        records.push_back(std::move(rec));
      else if (rec.value)
        *old = std::move(rec);  // a value replaces a skipped record
    }
  }
  std::sort(b.columns.begin(), b.columns.end(), results::leaderboard_before);

  if (sort.empty()) {
    b.sorted_by = default_sort(b.rows, b.columns);
  } else {
    for (const MetricKey& c : b.columns)
      if (results::column_title(c) == sort) b.sorted_by = c;
    if (!b.sorted_by) {
      std::vector<std::string> titles;
      for (const MetricKey& c : b.columns) titles.push_back(results::column_title(c));
      throw UsageError(fmt::format("--sort: no metric column '{}' in the results (columns: {})", sort,
                                   titles.empty() ? "none" : fmt::format("'{}'", fmt::join(titles, "', '"))));
    }
  }
  if (!b.sorted_by) {
    for (std::size_t i = 0; i < b.rows.size(); ++i) b.rows[i].rank = i + 1;
    return b;
  }

  const MetricKey key = *b.sorted_by;
  const results::MetricInfo& info = results::info(key.metric);
  // The value's distance from the best (smaller is better); absent when there is no value.
  const auto rank_key = [&](const LeaderboardRow& row) -> std::optional<double> {
    const auto v = row.overall.value(key);
    return v ? std::optional<double>(results::rank_key(info, *v)) : std::nullopt;
  };
  std::stable_sort(b.rows.begin(), b.rows.end(), [&](const LeaderboardRow& x, const LeaderboardRow& y) {
    const auto kx = rank_key(x), ky = rank_key(y);
    if (!kx || !ky) return kx.has_value() && !ky.has_value();
    if (std::isnan(*kx) || std::isnan(*ky)) return !std::isnan(*kx) && std::isnan(*ky);
    return *kx < *ky;
  });
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    const auto k = rank_key(b.rows[i]);
    if (!k) continue;
    const auto previous = i > 0 ? rank_key(b.rows[i - 1]) : std::nullopt;
    b.rows[i].rank = previous && *previous == *k ? b.rows[i - 1].rank : std::optional<std::size_t>(i + 1);
  }
  return b;
}

std::string leaderboard_text(const Leaderboard& b) {
  std::string out;
  if (!b.sorted_by) {
    out = "no metric columns in the results; rows in the order given\n";
  } else {
    out = fmt::format("sorted by {} ({})\n", results::column_title(*b.sorted_by),
                      results::better_text(results::info(b.sorted_by->metric)));
  }
  const auto text = cells(b, false);
  std::vector<std::size_t> width(text.front().size(), 0);
  for (const auto& line : text)
    for (std::size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  for (const auto& line : text) {
    std::string row;
    for (std::size_t c = 0; c < line.size(); ++c) {
      if (c > 0) row += "  ";
      // The generator's name is text: left-aligned; numbers right-aligned.
      row += c == 1 ? fmt::format("{:<{}}", line[c], width[c]) : fmt::format("{:>{}}", line[c], width[c]);
    }
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  return out;
}

std::vector<std::string> leaderboard_csv(const Leaderboard& b) {
  std::vector<std::string> lines;
  for (const auto& line : cells(b, true)) lines.push_back(csv_record(line));
  return lines;
}

}  // namespace chexgen::report
