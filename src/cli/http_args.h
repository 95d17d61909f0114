// The options every command that drives an OpenAI-compatible server shares (chexgen generate, chexgen filter):
// where the server is, which model, the API key's variable, and the retry policy.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "chexgen/curation/http_client.h"

namespace chexgen::cli {

struct HttpArgs {
  std::string base_url;
  std::string model;
  std::string api_key_env;
  int concurrency = 4;
  double timeout_s = 300;
  int max_attempts = 8;
  double backoff_s = 1.0;
  int max_reply_mb = 512;
  std::uint64_t jitter_seed = 0;

  RetryPolicy policy() const;
  // A client for --base-url with the key from --api-key-env; retries are reported on stderr unless `quiet`.
  std::unique_ptr<ApiClient> client(bool quiet) const;
};

// Adds --base-url, --model, --api-key-env, --concurrency, --timeout, --max-attempts, --backoff. `required` makes
// --base-url and --model required (filter); generate requires them only for its images backend.
void add_http_options(CLI::App* cmd, HttpArgs& args, bool required);

}  // namespace chexgen::cli
