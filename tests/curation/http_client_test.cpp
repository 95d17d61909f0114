// The HTTP client against a real server on 127.0.0.1 that misbehaves on cue.
#include "chexgen/curation/http_client.h"

#include <atomic>
#include <chrono>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/fake_openai_server.h"

namespace chexgen {
namespace {

using testing::FakeOpenAiServer;
using testing::FakeReply;
using testing::LoggedRequest;

RetryPolicy fast_policy(int attempts = 5) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.initial_backoff_s = 0.01;
  p.max_backoff_s = 0.05;
  p.timeout_s = 2;
  p.connect_timeout_s = 1;
  return p;
}

const nlohmann::json kBody{{"model", "m"}, {"messages", nlohmann::json::array()}};

// A handler that gives `faults` in turn, then a good reply.
FakeOpenAiServer::Handler faults_then_ok(std::vector<FakeReply> faults) {
  auto calls = std::make_shared<std::atomic<std::size_t>>(0);
  return [faults, calls](const LoggedRequest&) {
    const std::size_t k = calls->fetch_add(1);
    return k < faults.size() ? faults[k] : FakeOpenAiServer::chat_reply("High Quality");
  };
}

TEST(ApiClient, SendsJsonWithTheKeyAndReturnsTheReply) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::chat_reply("Low Quality"); });
  ApiClient client(server.base_url() + "/", "secret", fast_policy());
  const nlohmann::json reply = client.post_json("/v1/chat/completions", kBody);
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "Low Quality");
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].path, "/v1/chat/completions");
  EXPECT_EQ(log[0].body, kBody);
  EXPECT_EQ(log[0].authorization, "Bearer secret");
  EXPECT_EQ(client.stats().requests.load(), 1u);
  EXPECT_EQ(client.stats().retries.load(), 0u);
}

TEST(ApiClient, RetriesServerErrorsMalformedAndTruncatedReplies) {
  FakeOpenAiServer server;
  FakeReply truncated = FakeOpenAiServer::chat_reply("High Quality");
  truncated.truncate = true;
  FakeReply not_json;
  not_json.body = "{\"choices\": [";
  FakeReply html;
  html.body = "<html>Bad gateway</html>";
  html.content_type = "text/html";
  server.on_chat(faults_then_ok({FakeOpenAiServer::error_reply(500, "boom"), FakeOpenAiServer::error_reply(503, "busy"),
                                 not_json, truncated, html}));
  ApiClient client(server.base_url(), "", fast_policy(6));
  std::vector<std::string> retry_lines;
  client.set_retry_log([&](const std::string& line) { retry_lines.push_back(line); });
  const nlohmann::json reply = client.post_json("/v1/chat/completions", kBody);
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "High Quality");
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_EQ(client.stats().retries.load(), 5u);
  ASSERT_EQ(retry_lines.size(), 5u);
  EXPECT_NE(retry_lines[0].find("HTTP 500: boom"), std::string::npos) << retry_lines[0];
  EXPECT_NE(retry_lines[1].find("HTTP 503: busy"), std::string::npos) << retry_lines[1];
  EXPECT_NE(retry_lines[2].find("not JSON"), std::string::npos) << retry_lines[2];
  EXPECT_NE(retry_lines[4].find("Bad gateway"), std::string::npos) << retry_lines[4];
}

TEST(ApiClient, ValidatorRejectionIsRetried) {
  FakeOpenAiServer server;
  FakeReply wrong_shape;
  wrong_shape.body = R"({"data": []})";
  server.on_chat(faults_then_ok({wrong_shape}));
  ApiClient client(server.base_url(), "", fast_policy());
  int validated = 0;
  const auto reply = client.post_json("/v1/chat/completions", kBody, [&](const nlohmann::json& r) {
    ++validated;
    if (!r.contains("choices")) throw MalformedReply("no choices");
  });
  EXPECT_EQ(validated, 2);
  EXPECT_TRUE(reply.contains("choices"));
}

TEST(ApiClient, HonoursRetryAfterOn429) {
  FakeOpenAiServer server;
  FakeReply limited = FakeOpenAiServer::error_reply(429, "slow down");
  limited.headers = {{"Retry-After", "1"}};
  server.on_chat(faults_then_ok({limited}));
  ApiClient client(server.base_url(), "", fast_policy());
  const auto start = std::chrono::steady_clock::now();
  client.post_json("/v1/chat/completions", kBody);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The backoff alone is at most 0.05 s; only Retry-After makes the client wait a second.
  EXPECT_GE(waited, 0.95);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ApiClient, AnAbsurdRetryAfterIsCappedNotFatal) {
  FakeOpenAiServer server;
  FakeReply limited = FakeOpenAiServer::error_reply(429, "slow down");
  limited.headers = {{"Retry-After", std::string(400, '9')}};
  server.on_chat(faults_then_ok({limited}));
  RetryPolicy policy = fast_policy();
  policy.max_retry_after_s = 0.2;
  ApiClient client(server.base_url(), "", policy);
  std::string line;
  client.set_retry_log([&](const std::string& l) { line = l; });
  EXPECT_EQ(client.post_json("/v1/chat/completions", kBody)["choices"][0]["message"]["content"], "High Quality");
  EXPECT_NE(line.find("retrying in 0.2 s"), std::string::npos) << line;
}

TEST(ApiClient, TimesOutASlowReplyAndRetries) {
  FakeOpenAiServer server;
  FakeReply slow = FakeOpenAiServer::chat_reply("Medium Quality");
  slow.delay_s = 1.5;
  server.on_chat(faults_then_ok({slow}));
  RetryPolicy policy = fast_policy();
  policy.timeout_s = 0.3;
  ApiClient client(server.base_url(), "", policy);
  std::string fault;
  client.set_retry_log([&](const std::string& line) { fault = line; });
  const auto reply = client.post_json("/v1/chat/completions", kBody);
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "High Quality");
  EXPECT_NE(fault.find("imed out"), std::string::npos) << fault;
}

TEST(ApiClient, ClientErrorsStopAtOnceWithTheServersMessage) {
  for (const int status : {400, 401, 404, 422}) {
    FakeOpenAiServer server;
    server.on_chat([status](const LoggedRequest&) {
      return FakeOpenAiServer::error_reply(status, "The model `nope` does not exist.");
    });
    ApiClient client(server.base_url(), "", fast_policy());
    try {
      client.post_json("/v1/chat/completions", kBody);
      FAIL() << "HTTP " << status << " was not an error";
    } catch (const ServiceError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("HTTP " + std::to_string(status)), std::string::npos) << what;
      EXPECT_NE(what.find("The model `nope` does not exist."), std::string::npos) << what;
      EXPECT_NE(what.find(server.base_url() + "/v1/chat/completions"), std::string::npos) << what;
    }
    EXPECT_EQ(server.requests().size(), 1u) << "HTTP " << status << " must not be retried";
  }
}

// Issue 18: a reply body is capped (after decompression) instead of growing without bound, and the cap stops the run
// at once (the same request would bring the same reply).
TEST(ApiClient, AReplyLargerThanTheCapStopsTheRunWithoutRetrying) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) {
    FakeReply r = FakeOpenAiServer::chat_reply(std::string(3 << 20, 'x'));  // 3 MiB of content
    return r;
  });
  RetryPolicy policy = fast_policy();
  policy.max_reply_bytes = std::size_t{1} << 20;
  ApiClient client(server.base_url(), "", policy);
  try {
    client.post_json("/v1/chat/completions", kBody);
    FAIL() << "a 3 MiB reply passed a 1 MiB cap";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("the reply is larger than 1 MiB, the limit (--max-reply-mb)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server.requests().size(), 1u);
  policy.max_reply_bytes = std::size_t{4} << 20;  // under the cap: read whole
  ApiClient roomy(server.base_url(), "", policy);
  EXPECT_EQ(roomy.post_json("/v1/chat/completions", kBody)["choices"][0]["message"]["content"].get<std::string>().size(),
            std::size_t{3} << 20);
}

// Issue 18: a server's error text reaches the terminal without its escape sequences, and an error body nested
// 200,000 deep is shown as text instead of crashing the client.
TEST(ApiClient, HostileErrorBodiesAreShownSafely) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) {
    return FakeOpenAiServer::error_reply(400, "bad \x1b]0;owned\x07\x1b[2J request");
  });
  ApiClient client(server.base_url(), "", fast_policy());
  try {
    client.post_json("/v1/chat/completions", kBody);
    FAIL() << "HTTP 400 was not an error";
  } catch (const ServiceError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
    EXPECT_NE(what.find("bad \\x1b]0;owned\\x07\\x1b[2J request"), std::string::npos) << what;
  }
  FakeOpenAiServer deep;
  deep.on_chat([](const LoggedRequest&) {
    FakeReply r;
    r.status = 400;
    r.body = "{\"detail\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
    return r;
  });
  ApiClient deep_client(deep.base_url(), "", fast_policy());
  try {
    deep_client.post_json("/v1/chat/completions", kBody);
    FAIL() << "HTTP 400 was not an error";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 400: {\"detail\": [[[["), std::string::npos);
  }
}

TEST(ApiClient, GivesUpAfterMaxAttemptsNamingTheLastFault) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::error_reply(502, "upstream down"); });
  ApiClient client(server.base_url(), "", fast_policy(3));
  try {
    client.post_json("/v1/chat/completions", kBody);
    FAIL() << "no error after every attempt failed";
  } catch (const RequestFailed& e) {
    EXPECT_NE(std::string(e.what()).find("failed 3 time(s); last: HTTP 502: upstream down"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ApiClient, ConnectionRefusedIsRetriedThenFails) {
  // A port that was free a moment ago and has nobody listening now.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  ::close(fd);
  ApiClient client("http://127.0.0.1:" + std::to_string(port), "", fast_policy(2));
  EXPECT_THROW(client.post_json("/v1/chat/completions", kBody), RequestFailed);
  EXPECT_EQ(client.stats().requests.load(), 2u);
}

TEST(ApiClient, BadBaseUrlAndMissingKeyAreUsageErrors) {
  EXPECT_THROW(ApiClient("127.0.0.1:8000", "", fast_policy()), UsageError);
  EXPECT_THROW(ApiClient("ftp://host", "", fast_policy()), UsageError);
  EXPECT_THROW(api_key_from_env("CHEXGEN_TEST_SURELY_UNSET_VARIABLE"), UsageError);
  EXPECT_EQ(api_key_from_env(""), "");
}

}  // namespace
}  // namespace chexgen
