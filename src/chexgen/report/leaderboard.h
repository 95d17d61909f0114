// The leaderboard (docs/baselines.md, "chexgen leaderboard"): the overall records of several results, one row per
// generator, one column per metric key in the table's order, ranked by one column in its metric's better direction.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/results/results.h"

namespace chexgen::report {

struct LeaderboardRow {
  std::string generator;
  results::Comparison overall;
  std::optional<std::size_t> rank;  // equal values share a rank (1, 2, 2, 4); none without the sort column's value
};

struct Leaderboard {
  std::vector<results::MetricKey> columns;  // every key with a value in some row, in results::leaderboard_before order
  std::optional<results::MetricKey> sorted_by;
  std::vector<LeaderboardRow> rows;  // best first; rows without the value last; ties in the order given
};

// Results with the same generator name (its fidelity, privacy and utility results) make one row; two values of one metric
// key for one generator are a UsageError. `sort` is a column title as the table prints it ("FRD", "FID (RadDino)"); empty: FRD when every row has it, else
// the first FID column, else the first column. An unknown title is a UsageError listing the columns.
Leaderboard make_leaderboard(std::vector<results::Results> runs, const std::string& sort = "");

// The table for a terminal: a "sorted by ..." line, then aligned columns (values to 4 significant digits, "-" where
// a row has none).
std::string leaderboard_text(const Leaderboard& board);
// The same table as CSV records, every value in full (shortest round-trip) precision, empty where a row has none.
std::vector<std::string> leaderboard_csv(const Leaderboard& board);

}  // namespace chexgen::report
