#include "chexgen/curation/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "chexgen/core/json.h"
#include "chexgen/core/numeric.h"

namespace chexgen {

namespace {

std::once_flag curl_init_once;

// The outcome of one HTTP attempt.
struct Attempt {
  CURLcode code = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;
  std::optional<double> retry_after_s;
  std::size_t max_body_bytes = 0;
  bool body_too_large = false;  // the transfer was stopped when the body (after decompression) passed max_body_bytes
};

// Bodies arrive here decompressed, so the cap bounds both an endless reply and a gzip bomb.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  const std::size_t n = size * count;
  if (a->body.size() + n > a->max_body_bytes) {
    a->body_too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  a->body.append(data, n);
  return n;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// Retry-After: delta-seconds or an HTTP date (RFC 9110, 10.2.3).
// Never throws: it runs inside libcurl's header callback. A number too long for a double is "very long" (the caller
// caps it at RetryPolicy::max_retry_after_s).
std::optional<double> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string::npos) {
    return value.size() > 15 ? 1e15 : static_cast<double>(std::strtoull(value.c_str(), nullptr, 10));
  }
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::max(0.0, std::difftime(when, std::time(nullptr)));
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "retry-after")
      static_cast<Attempt*>(user)->retry_after_s = parse_retry_after(trim(line.substr(colon + 1)));
  }
  return size * count;
}

// One easy handle per thread, reused so that connections to the server are kept alive between requests.
struct EasyHandle {
  CURL* curl = curl_easy_init();
  ~EasyHandle() { curl_easy_cleanup(curl); }
};

struct HeaderList {
  curl_slist* list = nullptr;
  void add(const std::string& h) { list = curl_slist_append(list, h.c_str()); }
  ~HeaderList() { curl_slist_free_all(list); }
};

Attempt send_once(const std::string& url, const std::string& api_key, const std::string& body,
                  const RetryPolicy& policy) {
  thread_local EasyHandle handle;
  CHEXGEN_ASSERT(handle.curl != nullptr, "curl_easy_init failed");
  CURL* curl = handle.curl;
  curl_easy_reset(curl);

  Attempt a;
  char error_buffer[CURL_ERROR_SIZE] = {};
  HeaderList headers;
  headers.add("Content-Type: application/json");
  headers.add("Accept: application/json");
  if (!api_key.empty()) headers.add("Authorization: Bearer " + api_key);
  // No "Expect: 100-continue" round trip for large bodies (base64 images).
  headers.add("Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  a.max_body_bytes = policy.max_reply_bytes;
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  // At least 1 ms: curl reads 0 as "no timeout".
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max(1L, std::lround(policy.timeout_s * 1000)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::max(1L, std::lround(policy.connect_timeout_s * 1000)));
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "chexgen");

  a.code = curl_easy_perform(curl);
  if (a.code != CURLE_OK) {
    a.curl_error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(a.code);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  }
  return a;
}

// The service's own explanation from an error body: OpenAI's {"error": {"message": ...}}, {"error": "..."},
// FastAPI's {"detail": ...}, or the start of the body as text; made safe to print (no terminal escapes).
std::string service_message(const std::string& body) {
  const nlohmann::json j = try_parse_json(body).value_or(nlohmann::json());
  std::string text;
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string()) {
    text = j["error"]["message"].get<std::string>();
  } else if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    text = j["error"].get<std::string>();
  } else if (j.is_object() && j.contains("detail")) {
    text = j["detail"].is_string() ? j["detail"].get<std::string>()
                                   : j["detail"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    text = j["message"].get<std::string>();
  } else {
    text = trim(body);
  }
  return text.empty() ? "(empty body)" : printable_text(text, 300);
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string api_key, RetryPolicy policy, std::uint64_t jitter_seed)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)), policy_(policy), jitter_state_(jitter_seed) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  if (base_url_.rfind("http://", 0) != 0 && base_url_.rfind("https://", 0) != 0) {
    throw UsageError(fmt::format("--base-url '{}': expected http://HOST[:PORT] or https://HOST[:PORT]", base_url_));
  }
  if (policy_.max_attempts < 1) throw UsageError("--max-attempts must be at least 1");
  if (!(policy_.timeout_s > 0)) throw UsageError("--timeout must be positive");
  if (!(policy_.initial_backoff_s >= 0)) throw UsageError("--backoff must not be negative");
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

ApiClient::~ApiClient() = default;

double ApiClient::backoff_delay(int retry) {
  const double cap = std::min(policy_.max_backoff_s, policy_.initial_backoff_s * std::ldexp(1.0, retry - 1));
  const std::uint64_t r = splitmix64(jitter_state_ ^ splitmix64(jitter_counter_.fetch_add(1)));
  const double u = static_cast<double>(r >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  return cap * u;  // "full jitter": concurrent clients that failed together do not retry together
}

void ApiClient::set_retry_log(std::function<void(const std::string&)> log) { retry_log_ = std::move(log); }

nlohmann::json ApiClient::post_json(const std::string& path, const nlohmann::json& body,
                                    const std::function<void(const nlohmann::json&)>& validate) {
  const std::string url = base_url_ + path;
  const std::string payload = body.dump();
  std::string last_fault;
  for (int attempt = 1; attempt <= policy_.max_attempts; ++attempt) {
    if (attempt > 1) stats_.retries.fetch_add(1);
    stats_.requests.fetch_add(1);
    const Attempt a = send_once(url, api_key_, payload, policy_);
    std::optional<double> server_delay;
    if (a.code == CURLE_URL_MALFORMAT || a.code == CURLE_UNSUPPORTED_PROTOCOL) {
      throw UsageError(fmt::format("--base-url: cannot send to {}: {}", url, a.curl_error));
    }
    if (a.body_too_large) {  // the same request would bring the same reply: not retried
      throw ServiceError(fmt::format("POST {}: the reply is larger than {} MiB, the limit (--max-reply-mb); it is "
                                     "not read further",
                                     url, policy_.max_reply_bytes >> 20));
    }
    if (a.code != CURLE_OK) {
      last_fault = a.curl_error;
    } else if (a.status >= 200 && a.status < 300) {
      std::optional<nlohmann::json> parsed = try_parse_json(a.body);
      nlohmann::json reply = parsed ? std::move(*parsed) : nlohmann::json(nlohmann::json::value_t::discarded);
      if (reply.is_discarded()) {
        last_fault = fmt::format("HTTP {} with a body that is not JSON: {}", a.status, service_message(a.body));
      } else {
        try {
          if (validate) validate(reply);
          return reply;
        } catch (const MalformedReply& e) {
          last_fault = fmt::format("HTTP {} with a reply that cannot be used: {}", a.status, e.what());
        }
      }
    } else if (retryable_status(a.status)) {
      last_fault = fmt::format("HTTP {}: {}", a.status, service_message(a.body));
      if (a.retry_after_s) server_delay = std::min(*a.retry_after_s, policy_.max_retry_after_s);
    } else {
      throw ServiceError(fmt::format("POST {}: HTTP {}: {}", url, a.status, service_message(a.body)));
    }
    stats_.faults.fetch_add(1);
    if (attempt == policy_.max_attempts) break;
    const double delay = std::max(backoff_delay(attempt), server_delay.value_or(0.0));
    if (retry_log_) {
      retry_log_(fmt::format("POST {}: {} (attempt {} of {}); retrying in {:.1f} s", url, last_fault, attempt,
                             policy_.max_attempts, delay));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
  throw RequestFailed(fmt::format("POST {}: failed {} time(s); last: {}", url, policy_.max_attempts, last_fault));
}

std::string api_key_from_env(const std::string& variable) {
  if (variable.empty()) return {};
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0') {
    throw UsageError(fmt::format("--api-key-env {}: the environment variable is not set", variable));
  }
  return value;
}

}  // namespace chexgen
