// The generation driver of `chexgen generate`: from a prompt manifest to a folder of synthetic images with the
// manifests the rest of chexgen reads. It owns everything around the text-to-image model: which images to make
// (one per prompt and seed, with deterministic seeds and file names), running them through a backend (an
// OpenAI-compatible images endpoint, or the user's own command once per batch), checking what comes back, a
// journal that makes a killed run continue where it stopped, and the outputs. See docs/generate.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chexgen/core/subprocess.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/data/manifest.h"
#include "chexgen/image/resize.h"

namespace chexgen {

// {512, 512} -> "512x512", the images API's spelling.
std::string image_size_name(const ImageSize& size);

// Which images to make. Seeds are per generation index k, the same for every prompt (the privacy suite's protocol).
struct GenerationPlanOptions {
  // Generations per prompt, K. 0: seeds.size() when seeds are given, else 1. With seeds, K must equal their count.
  int per_prompt = 0;
  std::vector<std::int64_t> seeds;  // explicit seeds, seeds[k] for the k-th generation of every prompt
  std::int64_t base_seed = 0;       // without explicit seeds: seed k = base_seed + k
  // true: a sample's id comes from the manifest's id column (--id-column), used as it is; false: the stem of its
  // image reference ("images/00000013_005.png" -> "00000013_005").
  bool ids_from_column = false;
};

// One image to make.
struct GenerationJob {
  std::size_t sample = 0;  // index into Dataset::samples
  std::string sample_id;   // file-name safe: [A-Za-z0-9._-]+
  int k = 0;               // 0..K-1
  std::int64_t seed = 0;
  std::string prompt;
  std::string file_name;  // "SyntheticImg_<id>.png" when K = 1, else "SyntheticImg_<id>_<k>.png"
};

struct GenerationPlan {
  int per_prompt = 1;
  std::vector<std::int64_t> seeds;  // K entries
  std::vector<GenerationJob> jobs;  // sample-major: every k of the first prompt, then the next prompt's
};

// Plans the generations for every sample of `dataset`. Every bad row is added to `errors` (a row without a prompt,
// an id that is not file-name safe, an id repeated, with both rows), then the first is thrown as an InputError
// (with the count of the others). Inconsistent options (K < 1, K different from the number of seeds) are a
// UsageError; an empty manifest is an InputError.
GenerationPlan plan_generations(const Dataset& dataset, const GenerationPlanOptions& options, ErrorReport& errors);

// The images backend: POST {base_url}/v1/images/generations, one request per image, `concurrency` at once.
struct ImagesApiBackend {
  std::string base_url;  // "http://127.0.0.1:8000"
  std::string model;
  std::string api_key;     // "" for none
  std::string seed_field;  // when set, the seed is sent as {seed_field: seed}; servers differ in the name
  RetryPolicy retry;
  int concurrency = 4;  // requests in flight (worker threads)
  std::uint64_t jitter_seed = 0;
};

// The command backend: the user's own script, run through /bin/sh -c once per batch of up to `batch_size` images
// with {prompts_file} {seeds_file} {names_file} {jobs_file} {out_dir} {width} {height} replaced (paths quoted).
struct CommandBackend {
  std::string command_template;
  int batch_size = 8;
  std::string model;  // a name for the generator, recorded in generation.json; may be empty
};

using GenerationBackend = std::variant<ImagesApiBackend, CommandBackend>;

// What the caller sees while a run goes on (each may be empty). The driver calls them one at a time, from whichever
// thread finished the work, so they need no locking of their own.
struct GenerationCallbacks {
  // Before any work: how many images will be made now and how many an earlier run already made.
  std::function<void(std::size_t n_to_generate, std::size_t n_from_journal)> started;
  std::function<void()> image_done;             // one image written and journaled
  std::function<void(const std::string&)> log;  // retries; the command's output lines as they arrive
};

struct GenerationOptions {
  ImageSize size{512, 512};  // parse_image_size (image/resize.h) reads "512x512"
  GenerationBackend backend;
  GenerationCallbacks callbacks;
};

struct GenerationRun {
  std::size_t n_prompts = 0;
  std::size_t n_images = 0;        // every image of the plan, all present when generate_images returns
  std::size_t n_generated = 0;     // made by this run
  std::size_t n_from_journal = 0;  // made by an earlier run and still there
  std::uint64_t requests = 0;      // images backend: HTTP attempts (retries included)
  std::uint64_t retries = 0;
  std::size_t commands_run = 0;  // command backend: batches run
  double elapsed_s = 0;
};

// Makes every image of `plan` that `out_dir` does not already hold, then writes the outputs:
//  - out_dir/images/<file name>                 the images, PNG (JPEG replies are re-encoded)
//  - out_dir/journal.jsonl                       one record per finished image, appended as each one is written
//  - out_dir/generations.csv                     img_savename, prompt, [chexpert_labels], sample_id, k, seed,
//                                                [patient_id]; chexgen reads it with --format chexgenbench-synthetic
//  - out_dir/images/prompt_INFO.csv              CheXGenBench's: prompt, img_savename (bare file name)
//  - out_dir/generation.json                     what ran: backend, model, seeds, size, counts, requests, time
// An image is skipped when the journal has a record for its file name with the same prompt and seed and the file is
// still there. Failures stop the run with the journal intact (a rerun continues):
//  - ServiceError: the server refused a request (4xx), a request failed on every attempt, an image of the wrong
//    size, the command failed or left an expected file out or unreadable (each names the manifest row and file);
//  - UsageError: the folder holds a journal from another backend or model;
//  - InputError: a prompt with a line break for a command template that reads {prompts_file} (one per line);
//  - OutputError: a file cannot be written.
GenerationRun generate_images(const Dataset& dataset, const GenerationPlan& plan, const std::filesystem::path& out_dir,
                              const GenerationOptions& options);

// The command line a batch runs: `command_template` with each {placeholder} replaced by its value. Values are
// inserted as given (the caller quotes paths with shell_quote, core/subprocess.h). Placeholders not in `values` are left as they are.
std::string expand_command_template(std::string_view command_template,
                                    const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace chexgen
