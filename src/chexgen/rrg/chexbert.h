// CheXbert F1 as LLaVA-Rad's rrg_eval computes it from CheXbert's labels of the predicted and reference reports
// (docs/reports.md, "CheXbert F1"): each of the 14 observations is positive (1) when labelled positive (`rrg`), or
// positive or uncertain (`rrg+`), else 0; scikit-learn's precision_recall_fscore_support micro and macro F1 over the
// 14 observations and over 5 (Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion); the reported value
// is the median of scipy.stats.bootstrap's distribution (percentile method, random_state=3), with its interval.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::rrg {

// CheXbert's order of its 14 heads (No Finding last).
inline constexpr std::array<std::string_view, 14> kChexbertConditions = {
    "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
    "Pleural Other", "Fracture", "Support Devices", "No Finding"};

// CheXbert's four classes (its heads' argmax): blank, positive, negative, uncertain.
enum class ChexbertClass : std::uint8_t { blank = 0, positive = 1, negative = 2, uncertain = 3 };
using ChexbertRow = std::array<ChexbertClass, 14>;

// A CSV as CheXbert's label.py writes it: one row per report, in the reports' order, a column per observation named
// as in kChexbertConditions (other columns, such as "Reports", are ignored); cells 1 (positive), 0 (negative), -1
// (uncertain) or empty (blank), also written 1.0, 0.0, -1.0. Anything else, or a missing column, is an InputError
// naming the file, line and column.
std::vector<ChexbertRow> read_chexbert_labels(const std::filesystem::path& csv);

// The text CheXbert tokenizes for a report (rrg_eval's UnlabeledDataset): str.strip(), line feeds to spaces, every
// run of whitespace (Python's \s, Unicode spaces included) one space.
std::string chexbert_text(std::string_view report);

// CheXbert's classes from its heads' logits as chexgen's export writes them (tools/export_models.py): one row per
// report, 14 heads of 4 logits; each head's argmax (the first of equal maxima, as torch.argmax), No Finding's over
// its two logits only.
std::vector<ChexbertRow> chexbert_classes(const MatrixD& logits);

// The labels as CheXbert's label.py writes them: "Report Impression" and a column per observation, 1.0 positive,
// 0.0 negative, -1.0 uncertain, empty blank (what read_chexbert_labels reads back).
std::vector<std::string> chexbert_labels_csv(const std::vector<ChexbertRow>& rows, const std::vector<std::string>& texts);

struct F1Estimate {
  double full = 0;             // on all reports (rrg_eval's classification report)
  double median = 0;           // of the bootstrap distribution: the reported value
  double low = 0, high = 0;    // percentile interval
};

// rrg_eval's eight numbers: {micro, macro} x {14, 5 observations} x {uncertain as negative (rrg), as positive (rrg+)}.
struct ChexbertF1 {
  F1Estimate micro14, macro14, micro5, macro5, micro14_plus, macro14_plus, micro5_plus, macro5_plus;
  std::size_t resamples = 0;
  std::uint32_t seed = 3;
};

// predicted[i] and reference[i] label report pair i. resamples >= 1.
ChexbertF1 chexbert_f1(const std::vector<ChexbertRow>& predicted, const std::vector<ChexbertRow>& reference,
                       std::size_t resamples, double confidence, std::uint32_t seed);

}  // namespace chexgen::rrg
