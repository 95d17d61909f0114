// The HTTP client the curation commands use to drive OpenAI-compatible servers (a text-to-image images endpoint,
// a vision-language chat-completions endpoint) over libcurl. It owns what every such call needs: timeouts, retries
// with exponential backoff and full jitter on the faults retrying can fix (connection errors, timeouts, truncated
// or malformed replies, 408, 429, 5xx), honouring Retry-After, and a hard stop, with the service's own words, on
// the faults it cannot fix (any other 4xx). See docs/curation.md, "Talking to servers".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"

namespace chexgen {

struct RetryPolicy {
  int max_attempts = 8;            // tries per request, the first included
  double initial_backoff_s = 1.0;  // the delay before retry r is uniform in [0, min(max, initial * 2^(r-1))]
  double max_backoff_s = 60.0;
  double max_retry_after_s = 600.0;  // a Retry-After longer than this is capped to it
  double timeout_s = 300.0;          // one attempt, connection to last byte
  double connect_timeout_s = 10.0;
  // A reply body larger than this, after decompression, stops the run (ServiceError); 512 MiB holds several
  // base64-encoded 16-bit 2048 x 2048 images.
  std::size_t max_reply_bytes = std::size_t{512} << 20;
};

// A reply that arrived but cannot be used (not JSON, a JSON shape the caller does not recognise). The validator
// passed to post_json throws it; the attempt then counts as failed and is retried like a 5xx.
class MalformedReply : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A request that failed on every attempt with retryable faults. `what()` lists the last fault. The caller decides
// whether that stops the run (generation) or is recorded against one image (filtering).
class RequestFailed : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Counters shared by every thread using one client.
struct HttpStats {
  std::atomic<std::uint64_t> requests{0};  // HTTP attempts sent (each retry counts)
  std::atomic<std::uint64_t> retries{0};   // attempts after the first, over all requests
  std::atomic<std::uint64_t> faults{0};    // attempts that failed with a retryable fault
};

class ApiClient {
 public:
  // `base_url` like "http://127.0.0.1:8000" (a trailing slash is ignored); `api_key` empty for none, else sent as
  // "Authorization: Bearer <key>". `jitter_seed` seeds the backoff jitter (runs are reproducible in tests).
  ApiClient(std::string base_url, std::string api_key, RetryPolicy policy, std::uint64_t jitter_seed = 0);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // POSTs `body` as JSON to base_url + path ("/v1/chat/completions") and returns the parsed JSON of a 2xx reply
  // that `validate` (if given) accepts. Thread-safe: any number of threads may call it at once.
  //  - 2xx with a body that is not JSON, or that `validate` rejects with MalformedReply: retried.
  //  - connection refused/reset, timeout, truncated body, 408, 429, 5xx: retried after the backoff delay, or after
  //    the server's Retry-After (seconds or an HTTP date) when it gives one and that is longer.
  //  - any other 4xx: ServiceError at once, naming the URL, the status and the service's error message.
  //  - still failing after policy.max_attempts: RequestFailed naming the URL, the attempts and the last fault.
  nlohmann::json post_json(const std::string& path, const nlohmann::json& body,
                           const std::function<void(const nlohmann::json&)>& validate = {});

  // Called (from the requesting thread) before each retry with a line saying what failed and how long the client
  // waits; none by default. The CLI prints it unless --quiet.
  void set_retry_log(std::function<void(const std::string&)> log);

  const std::string& base_url() const { return base_url_; }
  const HttpStats& stats() const { return stats_; }

 private:
  double backoff_delay(int retry);  // seconds before retry number `retry` (1-based), with jitter

  std::string base_url_;
  std::string api_key_;
  RetryPolicy policy_;
  HttpStats stats_;
  std::uint64_t jitter_state_;
  std::atomic<std::uint64_t> jitter_counter_{0};
  std::function<void(const std::string&)> retry_log_;
};

// The API key named by --api-key-env: the variable's value; "" when `variable` is empty; a UsageError when the
// variable is named but not set or empty.
std::string api_key_from_env(const std::string& variable);

}  // namespace chexgen
