// The images backend of chexgen generate: an OpenAI-compatible images API, one request per image.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/base64.h"
#include "chexgen/core/error.h"
#include "chexgen/core/parallel.h"
#include "chexgen/curation/generate_pvt.h"
#include "chexgen/curation/http_client.h"

namespace chexgen::generate_detail {
namespace {

thread_local const GenerationJob* current_job = nullptr;  // for the client's retry log, which runs on our thread

}  // namespace

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

}  // namespace chexgen::generate_detail
