#include "chexgen/curation/generate.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/base64.h"
#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/curation/journal.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/image/decode.h"

namespace chexgen {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kStderrTailBytes = 2000;
constexpr std::size_t kProblemsListed = 5;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string sha256_of(std::string_view s) { return sha256_hex(as_bytes(s)); }

bool file_name_safe(std::string_view id) {
  if (id.empty()) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

// Where a sample's row is, for messages: manifest:row, or the image file of a folder manifest.
std::string row_name(const Dataset& dataset, const Sample& sample) {
  if (sample.row == 0) return sample.image_path.string();
  return fmt::format("{}:{}", dataset.source.string(), sample.row);
}

std::string backend_name(const GenerationBackend& b) {
  return std::holds_alternative<ImagesApiBackend>(b) ? "images-api" : "command";
}

std::string backend_model(const GenerationBackend& b) {
  if (const auto* api = std::get_if<ImagesApiBackend>(&b)) return api->model;
  return std::get<CommandBackend>(b).model;
}

// An image as it will be saved: PNG bytes (PNG input as it came; JPEG decoded and re-encoded) and its size.
struct CheckedImage {
  std::string png;
  int width = 0;
  int height = 0;
  bool reencoded = false;  // true: `png` is not the bytes that came (a JPEG)
};

// Decodes `bytes` (named `source` in messages) to check it is a whole PNG or JPEG. Throws InputError saying why not.
CheckedImage check_image(std::string bytes, const std::string& source) {
  const ImageFormat format = sniff_image_format(as_bytes(bytes));
  if (format != ImageFormat::png && format != ImageFormat::jpeg) {
    std::string head;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
      head += fmt::format("{}{:02x}", i == 0 ? "" : " ", static_cast<unsigned char>(bytes[i]));
    }
    throw InputError({source}, bytes.empty() ? std::string("empty, not a PNG or JPEG image")
                                             : fmt::format("not a PNG or JPEG image (starts with {})", head));
  }
  Image8 image = decode_image_u8(as_bytes(bytes), source, ColorMode::rgb);
  CheckedImage checked{std::string(), image.width, image.height, format != ImageFormat::png};
  if (format == ImageFormat::png) {
    checked.png = std::move(bytes);
    return checked;
  }
  // A JPEG whose three channels are equal everywhere is a gray image: saved as a gray PNG, same pixel values.
  bool gray = true;
  for (std::size_t i = 0; gray && i < image.data.size(); i += 3) {
    gray = image.data[i] == image.data[i + 1] && image.data[i] == image.data[i + 2];
  }
  if (gray) {
    Image8 g(image.width, image.height, 1);
    for (std::size_t p = 0; p < g.data.size(); ++p) g.data[p] = image.data[3 * p];
    image = std::move(g);
  }
  checked.png = encode_png(image);
  return checked;
}

// "8x8, not the 16x16 asked for (--size)"
std::string size_mismatch(const CheckedImage& image, const ImageSize& size) {
  return fmt::format("{}x{}, not the {} asked for (--size)", image.width, image.height, image_size_name(size));
}

// The outputs every run ends with, from the plan alone (every image is in place by then).
void write_outputs(const Dataset& dataset, const GenerationPlan& plan, const fs::path& out_dir,
                   const GenerationOptions& options, const GenerationRun& run) {
  const bool with_labels = !dataset.labels.empty();
  const bool with_patients = std::any_of(dataset.samples.begin(), dataset.samples.end(),
                                         [](const Sample& s) { return s.patient_id.has_value(); });
  std::string csv = "img_savename,prompt";
  if (with_labels) csv += ",chexpert_labels";
  csv += ",sample_id,k,seed";
  if (with_patients) csv += ",patient_id";
  csv += "\n";
  std::string info = "prompt,img_savename\n";
  for (const GenerationJob& job : plan.jobs) {
    const Sample& sample = dataset.samples[job.sample];
    csv += csv_field("images/" + job.file_name) + "," + csv_field(job.prompt);
    if (with_labels) csv += "," + csv_field(format_label_dict(dataset.labels, sample.labels));
    csv += fmt::format(",{},{},{}", csv_field(job.sample_id), job.k, job.seed);
    if (with_patients) csv += "," + csv_field(sample.patient_id.value_or(""));
    csv += "\n";
    info += csv_field(job.prompt) + "," + csv_field(job.file_name) + "\n";
  }
  write_file_atomically(out_dir / "generations.csv", csv);
  write_file_atomically(out_dir / "images" / "prompt_INFO.csv", info);

  nlohmann::ordered_json j;
  j["backend"] = backend_name(options.backend);
  j["model"] = backend_model(options.backend);
  if (const auto* api = std::get_if<ImagesApiBackend>(&options.backend)) {
    j["base_url"] = api->base_url;
    j["seed_field"] = api->seed_field.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(api->seed_field);
    j["concurrency"] = api->concurrency;
  } else {
    const auto& cmd = std::get<CommandBackend>(options.backend);
    j["command"] = cmd.command_template;
    j["batch_size"] = cmd.batch_size;
  }
  j["seeds"] = plan.seeds;
  j["per_prompt"] = plan.per_prompt;
  j["size"] = image_size_name(options.size);
  j["n_prompts"] = run.n_prompts;
  j["n_images"] = run.n_images;
  j["generated"] = run.n_generated;
  j["from_journal"] = run.n_from_journal;
  j["manifest"] = dataset.source.string();
  j["requests"] = run.requests;
  j["retries"] = run.retries;
  j["commands_run"] = run.commands_run;
  j["elapsed_s"] = run.elapsed_s;
  write_file_atomically(out_dir / "generation.json", j.dump(2) + "\n");
}

// Serialises the caller's callbacks and does the bookkeeping every finished image needs.
class Driver {
 public:
  Driver(const Dataset& dataset, const fs::path& out_dir, const GenerationOptions& options, Journal& journal)
      : dataset_(dataset), images_dir_(out_dir / "images"), options_(options), journal_(journal) {}

  void log(const std::string& line) {
    if (!options_.callbacks.log) return;
    std::lock_guard lock(mutex_);
    options_.callbacks.log(line);
  }

  // Puts a checked image in place (writing `image.png`, or moving `staged` when it holds those very bytes), then
  // journals it. Only after the journal record is on disk does the image count as done.
  void finish(const GenerationJob& job, const CheckedImage& image, const fs::path& staged = {}) {
    const fs::path target = images_dir_ / job.file_name;
    bool moved = false;
    if (!staged.empty()) {
      std::error_code ec;
      fs::rename(staged, target, ec);
      moved = !ec;
    }
    if (!moved) write_file_atomically(target, image.png);
    journal_.append({{"file_name", job.file_name},
                     {"sample_id", job.sample_id},
                     {"k", job.k},
                     {"seed", job.seed},
                     {"prompt_sha256", sha256_of(job.prompt)},
                     {"image_sha256", sha256_of(image.png)},
                     {"backend", backend_name(options_.backend)},
                     {"model", backend_model(options_.backend)}});
    std::lock_guard lock(mutex_);
    ++generated_;
    if (options_.callbacks.image_done) options_.callbacks.image_done();
  }

  std::size_t generated() const { return generated_; }
  const Dataset& dataset() const { return dataset_; }

 private:
  const Dataset& dataset_;
  fs::path images_dir_;
  const GenerationOptions& options_;
  Journal& journal_;
  std::mutex mutex_;
  std::size_t generated_ = 0;
};

// ---- The images backend ----

thread_local const GenerationJob* current_job = nullptr;  // for the client's retry log, which runs on our thread

void run_images_api(const ImagesApiBackend& backend, const ImageSize& size,
                    const std::vector<const GenerationJob*>& jobs, Driver& driver, GenerationRun& run) {
  if (backend.concurrency < 1) {
    throw UsageError(fmt::format("--concurrency must be at least 1, got {}", backend.concurrency));
  }
  if (backend.model.empty()) throw UsageError("the images backend needs a model name (--model)");
  ApiClient client(backend.base_url, backend.api_key, backend.retry, backend.jitter_seed);
  client.set_retry_log([&driver](const std::string& line) {
    driver.log(current_job ? fmt::format("{}: {}", current_job->file_name, line) : line);
  });

  const std::string size_name = image_size_name(size);
  try {
    parallel_for(jobs.size(), backend.concurrency, [&](std::size_t i) {
      const GenerationJob& job = *jobs[i];
      const std::string where = row_name(driver.dataset(), driver.dataset().samples[job.sample]);
      nlohmann::json body = {{"model", backend.model},
                             {"prompt", job.prompt},
                             {"n", 1},
                             {"size", size_name},
                             {"response_format", "b64_json"}};
      if (!backend.seed_field.empty()) body[backend.seed_field] = job.seed;

      // The validator decodes the image, so that a reply that is not a usable image is retried like a 5xx.
      std::optional<CheckedImage> image;
      auto validate = [&](const nlohmann::json& reply) {
        if (!reply.is_object() || !reply.contains("data") || !reply["data"].is_array() || reply["data"].empty()) {
          throw MalformedReply("no \"data\" array with an image in the reply");
        }
        const auto& item = reply["data"][0];
        if (!item.is_object() || !item.contains("b64_json") || !item["b64_json"].is_string()) {
          throw MalformedReply(item.is_object() && item.contains("url")
                                   ? "the reply has an image URL, not b64_json (the server ignored response_format)"
                                   : "data[0].b64_json is missing or not a string");
        }
        std::optional<std::string> bytes = base64_decode(item["b64_json"].get_ref<const std::string&>());
        if (!bytes) throw MalformedReply("data[0].b64_json is not valid base64");
        try {
          image = check_image(std::move(*bytes), "data[0].b64_json");
        } catch (const InputError& e) {
          throw MalformedReply(e.what());
        }
      };

      current_job = &job;
      try {
        client.post_json("/v1/images/generations", body, validate);
      } catch (const RequestFailed& e) {
        current_job = nullptr;
        throw ServiceError(fmt::format("{}: {}: {}", where, job.file_name, e.what()));
      } catch (const ServiceError& e) {
        current_job = nullptr;
        throw ServiceError(fmt::format("{}: {}: {}", where, job.file_name, e.what()));
      }
      current_job = nullptr;
      CHEXGEN_ASSERT(image.has_value(), "a validated reply holds an image");
      if (image->width != size.width || image->height != size.height) {
        throw ServiceError(
            fmt::format("{}: {}: the server's image is {}", where, job.file_name, size_mismatch(*image, size)));
      }
      driver.finish(job, *image);
    });
  } catch (...) {
    run.requests = client.stats().requests.load();
    run.retries = client.stats().retries.load();
    throw;
  }
  run.requests = client.stats().requests.load();
  run.retries = client.stats().retries.load();
}

// ---- The command backend ----

struct CommandOutcome {
  int status = 0;          // the exit status, or the signal number when signalled
  bool signalled = false;
  std::string stderr_tail;
};

// Runs `command` through /bin/sh -c with stdin from /dev/null; its stdout and stderr lines go to `log` as they come,
// and the last bytes of its stderr are kept for the error message.
CommandOutcome run_shell(const std::string& command, Driver& driver) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(error)));
  }
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  CommandOutcome outcome;
  std::string pending[2];
  auto emit_lines = [&](std::string& buffer, bool all) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = buffer.find_first_of("\r\n", start);
      if (end == std::string::npos) break;
      if (end > start) driver.log(buffer.substr(start, end - start));
      start = end + 1;
    }
    buffer.erase(0, start);
    if (all && !buffer.empty()) {
      driver.log(buffer);
      buffer.clear();
    }
  };
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char chunk[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        emit_lines(pending[i], true);
        continue;
      }
      pending[i].append(chunk, static_cast<std::size_t>(n));
      if (i == 1) {
        outcome.stderr_tail.append(chunk, static_cast<std::size_t>(n));
        if (outcome.stderr_tail.size() > 2 * kStderrTailBytes) {
          outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - kStderrTailBytes);
        }
      }
      emit_lines(pending[i], false);
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    outcome.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signalled = true;
    outcome.status = WTERMSIG(status);
  }
  if (outcome.stderr_tail.size() > kStderrTailBytes) {
    outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - kStderrTailBytes);
  }
  return outcome;
}

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
      if (reported[job->sample] || job->prompt.find_first_of("\r\n") == std::string::npos) continue;
      reported[job->sample] = true;
      const Sample& s = dataset.samples[job->sample];
      errors.add(InputError(s.row == 0 ? Location(s.image_path.string()) : Location(dataset.source.string(), s.row),
                            "the prompt has a line break, which {prompts_file} (one prompt per line) cannot hold; "
                            "remove it, or let the command read {jobs_file} instead"));
    }
    if (!errors.empty()) {
      const InputError& first = errors.errors().front();
      if (errors.size() == 1) throw first;
      throw InputError(first.where(), fmt::format("{} (and {} more prompts with line breaks)", first.reason(),
                                                  errors.size() - 1));
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
    const std::string batch_name =
        fmt::format("batch {} ({} image(s), {} .. {}, rows {} .. {} of {})", batch, end - begin, first.file_name,
                    last.file_name, dataset.samples[first.sample].row, dataset.samples[last.sample].row,
                    dataset.source.string());
    const CommandOutcome outcome = run_shell(command, driver);
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
        image = check_image(read_file_bytes(staged), staged.string());
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
      std::string message = fmt::format("--command on {}: {} of its images are missing or unusable:", batch_name,
                                        problems.size());
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

}  // namespace

std::string image_size_name(const ImageSize& size) { return fmt::format("{}x{}", size.width, size.height); }

GenerationPlan plan_generations(const Dataset& dataset, const GenerationPlanOptions& options, ErrorReport& errors) {
  GenerationPlan plan;
  if (options.per_prompt < 0) {
    throw UsageError(fmt::format("--per-prompt must be at least 1, got {}", options.per_prompt));
  }
  if (!options.seeds.empty()) {
    if (options.per_prompt != 0 && options.per_prompt != static_cast<int>(options.seeds.size())) {
      throw UsageError(fmt::format("--per-prompt {} but --seeds gives {} seed(s); give one seed per generation",
                                   options.per_prompt, options.seeds.size()));
    }
    plan.seeds = options.seeds;
  } else {
    const int k = options.per_prompt == 0 ? 1 : options.per_prompt;
    for (int i = 0; i < k; ++i) plan.seeds.push_back(options.base_seed + i);
  }
  plan.per_prompt = static_cast<int>(plan.seeds.size());
  if (dataset.samples.empty()) throw InputError({dataset.source.string()}, "the manifest has no rows to generate from");

  const std::size_t errors_before = errors.size();
  const auto where = [&](const Sample& s, const std::string& column = {}) {
    return s.row == 0 ? Location(s.image_path.string()) : Location(dataset.source.string(), s.row, column);
  };
  std::unordered_map<std::string, const Sample*> first_with_id;
  for (std::size_t i = 0; i < dataset.samples.size(); ++i) {
    const Sample& s = dataset.samples[i];
    if (!s.prompt || s.prompt->find_first_not_of(" \t\r\n") == std::string::npos) {
      errors.add(InputError(where(s), "no prompt to generate from (the prompt cell is empty, or the manifest has no "
                                      "prompt column: see --prompt-column)"));
    }
    const std::string id = options.ids_from_column ? s.id : fs::path(s.image_ref).stem().string();
    if (!file_name_safe(id)) {
      errors.add(InputError(
          where(s, options.ids_from_column ? "" : dataset.image_column),
          options.ids_from_column
              ? fmt::format("sample id '{}' cannot be part of a file name (only A-Z a-z 0-9 . _ - are allowed)", id)
              : fmt::format("the image name '{}' gives the sample id '{}', which cannot be part of a file name (only "
                            "A-Z a-z 0-9 . _ - are allowed); give ids with --id-column",
                            s.image_ref, id)));
      continue;
    }
    const auto [it, inserted] = first_with_id.emplace(id, &s);
    if (!inserted) {
      const Sample& other = *it->second;
      errors.add(InputError(
          where(s), fmt::format("sample id '{}' is also the id of {}; file names would collide{}", id,
                                other.row == 0 ? other.image_path.string() : fmt::format("row {}", other.row),
                                options.ids_from_column ? "" : " (two images with the same name: give --id-column)")));
      continue;
    }
    if (!s.prompt) continue;
    for (int k = 0; k < plan.per_prompt; ++k) {
      GenerationJob job;
      job.sample = i;
      job.sample_id = id;
      job.k = k;
      job.seed = plan.seeds[static_cast<std::size_t>(k)];
      job.prompt = *s.prompt;
      job.file_name = plan.per_prompt == 1 ? fmt::format("SyntheticImg_{}.png", id)
                                           : fmt::format("SyntheticImg_{}_{}.png", id, k);
      plan.jobs.push_back(std::move(job));
    }
  }
  const std::size_t n_bad = errors.size() - errors_before;
  if (n_bad > 0) {
    const InputError& first = errors.errors()[errors_before];
    if (n_bad == 1) throw first;
    throw InputError(first.where(), fmt::format("{} (and {} more bad rows)", first.reason(), n_bad - 1));
  }
  return plan;
}

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string expand_command_template(std::string_view command_template,
                                    const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  std::size_t i = 0;
  while (i < command_template.size()) {
    if (command_template[i] == '{') {
      const std::size_t close = command_template.find('}', i + 1);
      if (close != std::string_view::npos) {
        const std::string_view name = command_template.substr(i + 1, close - i - 1);
        const auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == name; });
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += command_template[i++];
  }
  return out;
}

GenerationRun generate_images(const Dataset& dataset, const GenerationPlan& plan, const fs::path& out_dir,
                              const GenerationOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (const auto* cmd = std::get_if<CommandBackend>(&options.backend)) {
    const std::string& t = cmd->command_template;
    if (t.find("{out_dir}") == std::string::npos) {
      throw UsageError("--command: the template must say where to write the images with {out_dir}");
    }
    if (t.find("{prompts_file}") == std::string::npos && t.find("{jobs_file}") == std::string::npos) {
      throw UsageError("--command: the template must pass the prompts with {prompts_file} or {jobs_file}");
    }
  }

  std::error_code ec;
  fs::create_directories(out_dir / "images", ec);
  if (ec) {
    throw OutputError(fmt::format("{}: cannot create the folder: {}", (out_dir / "images").string(), ec.message()));
  }
  Journal journal(out_dir / "journal.jsonl");

  // What an earlier run finished: the last record per file name. A folder made by another generator is not
  // continued, so that one dataset never mixes two models without anyone noticing.
  const std::string backend = backend_name(options.backend);
  const std::string model = backend_model(options.backend);
  std::unordered_map<std::string, const nlohmann::json*> done_records;
  for (const nlohmann::json& r : journal.records()) {
    const std::string r_backend = r.value("backend", "");
    const std::string r_model = r.value("model", "");
    if (r_backend != backend || r_model != model) {
      throw UsageError(fmt::format(
          "{} holds images made by another generator (backend '{}', model '{}'; this run: backend '{}', model '{}'); "
          "use another --out",
          out_dir.string(), r_backend, r_model, backend, model));
    }
    if (r.contains("file_name") && r["file_name"].is_string()) done_records[r["file_name"].get<std::string>()] = &r;
  }
  std::vector<const GenerationJob*> pending;
  GenerationRun run;
  run.n_images = plan.jobs.size();
  run.n_prompts = plan.per_prompt > 0 ? plan.jobs.size() / static_cast<std::size_t>(plan.per_prompt) : 0;
  for (const GenerationJob& job : plan.jobs) {
    const auto it = done_records.find(job.file_name);
    const bool done = it != done_records.end() && it->second->value("prompt_sha256", "") == sha256_of(job.prompt) &&
                      it->second->contains("seed") && (*it->second)["seed"] == job.seed &&
                      fs::is_regular_file(out_dir / "images" / job.file_name, ec);
    if (done) {
      ++run.n_from_journal;
    } else {
      pending.push_back(&job);
    }
  }
  if (options.callbacks.started) options.callbacks.started(pending.size(), run.n_from_journal);

  Driver driver(dataset, out_dir, options, journal);
  const auto finish_counts = [&] {
    run.n_generated = driver.generated();
    run.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!pending.empty()) {
    if (const auto* api = std::get_if<ImagesApiBackend>(&options.backend)) {
      run_images_api(*api, options.size, pending, driver, run);
    } else {
      run_command_batches(std::get<CommandBackend>(options.backend), options.size, pending, out_dir, driver, run);
    }
  }
  finish_counts();
  write_outputs(dataset, plan, out_dir, options, run);
  return run;
}

}  // namespace chexgen
