#include "cli/http_args.h"

#include <cstdio>
#include <mutex>

#include <fmt/format.h>

namespace chexgen::cli {

RetryPolicy HttpArgs::policy() const {
  RetryPolicy p;
  p.timeout_s = timeout_s;
  p.max_attempts = max_attempts;
  p.initial_backoff_s = backoff_s;
  p.max_reply_bytes = static_cast<std::size_t>(max_reply_mb) << 20;
  return p;
}

std::unique_ptr<ApiClient> HttpArgs::client(bool quiet) const {
  auto c = std::make_unique<ApiClient>(base_url, api_key_from_env(api_key_env), policy(), jitter_seed);
  if (!quiet) {
    c->set_retry_log([](const std::string& line) {
      static std::mutex print_mutex;
      std::lock_guard lock(print_mutex);
      fmt::print(stderr, "chexgen: {}\n", line);
    });
  }
  return c;
}

void add_http_options(CLI::App* cmd, HttpArgs& args, bool required) {
  auto* url = cmd->add_option("--base-url", args.base_url,
                              "Server of the OpenAI-compatible API, e.g. http://127.0.0.1:8000 (vLLM, SGLang, "
                              "llama.cpp, Ollama, a diffusers server)");
  auto* model = cmd->add_option("--model", args.model, "Model name sent in every request");
  if (required) {
    url->required();
    model->required();
  }
  cmd->add_option("--api-key-env", args.api_key_env,
                  "Environment variable holding the API key, sent as 'Authorization: Bearer <key>' (never pass the "
                  "key itself on the command line)");
  cmd->add_option("--concurrency", args.concurrency, "Requests in flight at once")
      ->default_val(4)
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--timeout", args.timeout_s, "Seconds one request may take before it is retried")
      ->default_val(300)
      ->check(CLI::Range(0.001, 7 * 86400.0).description("from 0.001 (1 ms) to 604800 (a week)"));
  cmd->add_option("--max-reply-mb", args.max_reply_mb,
                  "Largest reply body accepted, in MiB after decompression; a larger one stops the run")
      ->default_val(512)
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-attempts", args.max_attempts,
                  "Tries per request (connection errors, timeouts, truncated or malformed replies, 408, 429, 5xx "
                  "are retried; other 4xx stop the run)")
      ->default_val(8)
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--backoff", args.backoff_s,
                  "Initial retry delay in seconds; doubled each retry (up to 60 s) with full jitter, and never "
                  "shorter than the server's Retry-After")
      ->default_val(1.0)
      ->check(CLI::NonNegativeNumber);
}

}  // namespace chexgen::cli
