// The command backend of chexgen generate: the user's own script, run once per batch of prompts.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/subprocess.h"
#include "chexgen/curation/generate_pvt.h"

namespace chexgen::generate_detail {

namespace {

// True if some line-splitting convention would split `text`: besides \n and \r, Python's str.splitlines() also splits
// at \v, \f, \x1c, \x1d, \x1e, U+0085, U+2028 and U+2029, so a prompt holding one would shift every later line of
// prompts.txt for a generator that reads it that way.
bool has_line_separator(std::string_view text) {
  if (text.find_first_of("\n\r\v\f\x1c\x1d\x1e") != std::string_view::npos) return true;
  for (const std::string_view sep : {"\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"}) {
    if (text.find(sep) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

void run_command_batches(const CommandBackend& backend, const ImageSize& size,
                         const std::vector<const GenerationJob*>& jobs, const fs::path& out_dir, Driver& driver,
                         GenerationRun& run) {
  if (backend.batch_size < 1) {
    throw UsageError(fmt::format("--batch-size must be at least 1, got {}", backend.batch_size));
  }
  const Dataset& dataset = driver.dataset();
  // prompts.txt holds one prompt per line: a prompt with a line break cannot be written there. A template that
  // reads only {jobs_file} (JSON Lines) takes any prompt, and then prompts.txt is not written.
  const bool prompts_file_used = backend.command_template.find("{prompts_file}") != std::string::npos;
  if (prompts_file_used) {
    ErrorReport errors;
    std::vector<bool> reported(dataset.samples.size(), false);
    for (const GenerationJob* job : jobs) {
      if (reported[job->sample] || !has_line_separator(job->prompt)) continue;
      reported[job->sample] = true;
      const Sample& s = dataset.samples[job->sample];
      errors.add(InputError(s.row == 0 ? Location(s.image_path.string()) : Location(dataset.source.string(), s.row),
                            "the prompt has a line break (or another character that splits lines, such as \\v, \\f "
                            "or U+2028), which {prompts_file} (one prompt per line) cannot hold; remove it, or let "
                            "the command read {jobs_file} instead"));
    }
    if (!errors.empty()) {
      const InputError& first = errors.errors().front();
      if (errors.size() == 1) throw first;
      throw InputError(first.where(),
                       fmt::format("{} (and {} more prompts with line breaks)", first.reason(), errors.size() - 1));
    }
  }

  // Absolute, so that a command that changes its working folder still finds its files.
  std::error_code ec;
  const fs::path staging_root = fs::absolute(out_dir / "staging", ec);
  if (ec) throw OutputError(fmt::format("{}: cannot resolve the folder: {}", out_dir.string(), ec.message()));
  fs::remove_all(staging_root, ec);  // batches an earlier run left unfinished; they were never journaled
  for (std::size_t begin = 0, batch = 1; begin < jobs.size(); begin += backend.batch_size, ++batch) {
    const std::size_t end = std::min(jobs.size(), begin + static_cast<std::size_t>(backend.batch_size));
    const fs::path staging = staging_root / fmt::format("batch-{:06d}", batch);
    const fs::path staged_out = staging / "out";
    fs::create_directories(staged_out, ec);
    if (ec) {
      throw OutputError(fmt::format("{}: cannot create the staging folder: {}", staged_out.string(), ec.message()));
    }

    std::string prompts, seeds, names, jobs_jsonl;
    for (std::size_t i = begin; i < end; ++i) {
      const GenerationJob& job = *jobs[i];
      prompts += job.prompt + "\n";
      seeds += fmt::format("{}\n", job.seed);
      names += job.file_name + "\n";
      jobs_jsonl += nlohmann::ordered_json{{"prompt", job.prompt},
                                           {"seed", job.seed},
                                           {"file_name", job.file_name},
                                           {"sample_id", job.sample_id},
                                           {"k", job.k}}
                        .dump() +
                    "\n";
    }
    if (prompts_file_used) write_file_atomically(staging / "prompts.txt", prompts);
    write_file_atomically(staging / "seeds.txt", seeds);
    write_file_atomically(staging / "names.txt", names);
    write_file_atomically(staging / "jobs.jsonl", jobs_jsonl);

    const std::string command = expand_command_template(
        backend.command_template, {{"prompts_file", shell_quote((staging / "prompts.txt").string())},
                                   {"seeds_file", shell_quote((staging / "seeds.txt").string())},
                                   {"names_file", shell_quote((staging / "names.txt").string())},
                                   {"jobs_file", shell_quote((staging / "jobs.jsonl").string())},
                                   {"out_dir", shell_quote(staged_out.string())},
                                   {"width", std::to_string(size.width)},
                                   {"height", std::to_string(size.height)}});
    const GenerationJob& first = *jobs[begin];
    const GenerationJob& last = *jobs[end - 1];
    const std::string batch_name = fmt::format(
        "batch {} ({} image(s), {} .. {}, rows {} .. {} of {})", batch, end - begin, first.file_name, last.file_name,
        dataset.samples[first.sample].row, dataset.samples[last.sample].row, dataset.source.string());
    const ShellOutcome outcome = run_shell(command, [&driver](const std::string& line) { driver.log(line); });
    ++run.commands_run;
    if (outcome.signalled || outcome.status != 0) {
      std::string tail = outcome.stderr_tail;
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
      throw ServiceError(fmt::format(
          "--command failed on {}: {}; its files are in {}\n{}", batch_name,
          outcome.signalled ? fmt::format("killed by signal {}", outcome.status)
                            : fmt::format("exit status {}", outcome.status),
          staging.string(), tail.empty() ? "(it wrote nothing to stderr)" : "last lines of its stderr:\n" + tail));
    }

    // Every image the command did write well is kept and journaled, even when others are missing or bad.
    std::vector<std::string> problems;
    for (std::size_t i = begin; i < end; ++i) {
      const GenerationJob& job = *jobs[i];
      const Sample& sample = dataset.samples[job.sample];
      const fs::path staged = staged_out / job.file_name;
      const std::string where = fmt::format("{}: {}", row_name(dataset, sample), job.file_name);
      if (!fs::is_regular_file(staged, ec)) {
        problems.push_back(fmt::format("{}: the command did not write {}", where, staged.string()));
        continue;
      }
      CheckedImage image;
      try {
        image = check_image(read_file_bytes(staged, ReadAs::own_output), staged.string());
      } catch (const InputError& e) {
        problems.push_back(fmt::format("{}: {}", where, e.what()));
        continue;
      }
      if (image.width != size.width || image.height != size.height) {
        problems.push_back(fmt::format("{}: {}: the image is {}", where, staged.string(), size_mismatch(image, size)));
        continue;
      }
      // A PNG kept as it came is moved into place; a re-encoded JPEG is written.
      driver.finish(job, image, image.reencoded ? fs::path() : staged);
    }
    if (!problems.empty()) {
      std::string message =
          fmt::format("--command on {}: {} of its images are missing or unusable:", batch_name, problems.size());
      for (std::size_t p = 0; p < std::min(problems.size(), kProblemsListed); ++p) message += "\n  " + problems[p];
      if (problems.size() > kProblemsListed) {
        message += fmt::format("\n  (and {} more)", problems.size() - kProblemsListed);
      }
      message += fmt::format("\nthe images it wrote well are kept; its files are in {}", staging.string());
      throw ServiceError(message);
    }
    fs::remove_all(staging, ec);
  }
  fs::remove_all(staging_root, ec);
}

}  // namespace chexgen::generate_detail
