// SynthCheX-75K's quality filter: ask a vision-language model, over an OpenAI-compatible chat-completions API, to
// grade every image against its own prompt with the dataset card's meta-prompt, journal every answer so a killed run
// continues where it stopped, and keep the images graded High or Medium Quality. See docs/curation.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/curation/grade.h"
#include "chexgen/data/manifest.h"

namespace chexgen {

class ApiClient;
class Journal;
class Progress;

// The system message, verbatim from the SynthCheX-75K dataset card.
inline constexpr std::string_view kSynthChexMetaPrompt =
    "You are an expert radiologist and medical annotator. Your task is to assess the quality of an image given its "
    "description and classify the image as either 'High Quality', 'Medium Quality', or 'Low Quality'. Keep your "
    "responses limited to only these three options. If the image is not relevant to the description, respond with "
    "'Not Relevant'.";

// The question the authors' filtering script asks about each image; {prompt} is replaced by the image's own prompt.
// (Their script formats it before assigning the prompt, so each request carries the previous image's text; chexgen
// sends each image's own.)
inline constexpr std::string_view kSynthChexQuestionTemplate =
    "Given the prompt {prompt}, classify the following image as 'High Quality', 'Medium Quality', or 'Low Quality'";

struct FilterOptions {
  std::string model;
  std::string meta_prompt{kSynthChexMetaPrompt};
  std::string question_template{kSynthChexQuestionTemplate};
  int max_tokens = 32;
  int concurrency = 4;
  std::vector<Grade> keep{Grade::high_quality, Grade::medium_quality};
};

// What became of one image.
enum class Outcome { graded, unparsed, error };

struct ImageResult {
  Outcome outcome = Outcome::error;
  std::optional<Grade> grade;  // when graded
  std::string reply;           // the model's last reply ("" for errors before any reply)
  std::string reason;          // unparsed/error: why
  int requests = 0;            // chat requests made for this image (a reply that does not parse is asked twice)
  bool from_journal = false;   // taken from an earlier run's journal, not asked in this run
  std::string image_sha256;
  std::string prompt_sha256;  // of the prompt the image was graded against
};

struct FilterRun {
  std::vector<ImageResult> results;  // one per dataset sample, in manifest order
  std::size_t asked = 0;             // images asked in this run
  std::size_t from_journal = 0;
  std::uint64_t requests = 0, retries = 0;
  double elapsed_s = 0;
};

// "High Quality", ..., "unparsed", "error": the `quality` cell of graded.csv.
std::string outcome_label(const ImageResult& r);
bool is_kept(const ImageResult& r, const FilterOptions& options);

// The question for one image: every "{prompt}" in the template replaced by `prompt`.
std::string render_question(std::string_view question_template, std::string_view prompt);
// The chat-completions request body for one image (PNG bytes).
nlohmann::json grading_request(const FilterOptions& options, std::string_view question, std::string_view png_bytes);
// choices[0].message.content of a chat-completions reply; MalformedReply when the reply has no such string.
std::string reply_content(const nlohmann::json& reply);

// The image bytes to send, from a file's bytes: a PNG as it is; any other format chexgen reads decoded and encoded
// as PNG. A corrupt image is an InputError naming `source_name`.
std::string image_as_png(std::string bytes, std::string_view source_name);

// Grades every sample of `dataset` (each must have a prompt: an InputError naming the row otherwise,
// before any request). Images whose journal record says graded or unparsed, for the same sample id and
// image SHA-256, are not asked again; everything asked is appended to the journal as it finishes. The journal's
// first record states the model, meta-prompt and question template; a journal made with other settings is a
// UsageError. A ServiceError from any request stops the run (requests in flight finish and are journaled) and is
// rethrown.
FilterRun run_filter(const Dataset& dataset, const FilterOptions& options, ApiClient& client, Journal& journal,
                     Progress* progress);

// Writes graded.csv, kept.csv and summary.json into `out_dir` (atomically; see docs/curation.md for the columns).
// `image_root` is the absolute folder the manifest's image paths were resolved against (written to summary.json).
nlohmann::ordered_json write_filter_outputs(const Dataset& dataset, const FilterRun& run, const FilterOptions& options,
                                            const std::string& base_url, const std::filesystem::path& image_root,
                                            const std::filesystem::path& out_dir);

}  // namespace chexgen
