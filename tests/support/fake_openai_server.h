// A scripted OpenAI-compatible HTTP server for tests: it listens on 127.0.0.1 (a free port), serves
// POST /v1/chat/completions and POST /v1/images/generations on its own threads, and answers each request with
// whatever the test's handler returns — a correct reply, a noisy one, a 500, a 429 with Retry-After, a delay
// longer than the client's timeout, malformed JSON, or a body cut short. Every request is logged.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace chexgen::testing {

// What the server does with one request.
struct FakeReply {
  int status = 200;
  std::string body;  // sent as is
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Retry-After", "1"}
  double delay_s = 0;     // wait this long before answering (a client timeout shorter than this fires first)
  bool truncate = false;  // announce the full Content-Length, send only the first half of the body, close
};

// One request as the server saw it.
struct LoggedRequest {
  std::string path;  // "/v1/chat/completions"
  std::string raw_body;
  nlohmann::json body;        // parsed; null if the body was not JSON
  std::string authorization;  // the Authorization header, "" if none
  int status = 0;             // what was answered
};

class FakeOpenAiServer {
 public:
  // The handler for each endpoint; called concurrently from server threads (keep it thread-safe).
  using Handler = std::function<FakeReply(const LoggedRequest& request)>;

  FakeOpenAiServer();   // starts listening; throws std::runtime_error if it cannot
  ~FakeOpenAiServer();  // stops and joins
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  std::string base_url() const;  // "http://127.0.0.1:<port>"
  int port() const;

  void on_chat(Handler handler);    // default: 404 with an OpenAI-style error body
  void on_images(Handler handler);  // default: 404 with an OpenAI-style error body

  std::vector<LoggedRequest> requests() const;  // every request so far, in arrival order
  void clear_requests();

  // Reply builders.
  // {"id":..,"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":content},
  //  "finish_reason":"stop"}]}
  static FakeReply chat_reply(const std::string& content);
  // {"created":..,"data":[{"b64_json":<base64 of each>}, ...]}
  static FakeReply images_reply(const std::vector<std::string>& image_bytes);
  // {"error":{"message":message,"type":"invalid_request_error"}} with `status`.
  static FakeReply error_reply(int status, const std::string& message);

  // What a chat request asked: the text parts of the user message joined, the system message, and the decoded
  // bytes of the image in the user message's image_url data URL ("" if none or undecodable).
  static std::string user_text(const nlohmann::json& chat_request);
  static std::string system_text(const nlohmann::json& chat_request);
  static std::string image_bytes(const nlohmann::json& chat_request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chexgen::testing
