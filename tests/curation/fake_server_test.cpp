// The scripted OpenAI-compatible test server itself, seen from real HTTP clients (httplib's client and the curl
// program): replies, statuses and headers, the request log, the chat-request helpers, truncated bodies, delays,
// shutdown while a reply is delayed, and concurrent requests.
#include "support/fake_openai_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/base64.h"

namespace chexgen::testing {
namespace {

using nlohmann::json;

json chat_request(const std::string& system, const std::string& question, const std::string& png_bytes) {
  return {
      {"model", "fake-vlm"},
      {"temperature", 0},
      {"max_tokens", 32},
      {"messages",
       {{{"role", "system"}, {"content", system}},
        {{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", question}},
           {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + base64_encode(png_bytes)}}}}}}}}}};
}

// Runs a shell command and returns its exit status (-1 if it did not exit normally).
int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FakeServer, AnswersChatRequestsAndLogsThem) {
  FakeOpenAiServer server;
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()));
  server.on_chat([](const LoggedRequest& r) {
    return FakeOpenAiServer::chat_reply("Graded: " + FakeOpenAiServer::user_text(r.body));
  });

  httplib::Client client("127.0.0.1", server.port());
  const std::string body = chat_request("meta", "Given the prompt X, classify", "\x89PNG bytes").dump();
  const auto res = client.Post("/v1/chat/completions", {{"Authorization", "Bearer sk-test"}}, body, "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json reply = json::parse(res->body);
  EXPECT_EQ(reply["object"], "chat.completion");
  EXPECT_EQ(reply["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "Graded: Given the prompt X, classify");
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "stop");

  const auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].path, "/v1/chat/completions");
  EXPECT_EQ(log[0].raw_body, body);
  EXPECT_EQ(log[0].body, json::parse(body));
  EXPECT_EQ(log[0].authorization, "Bearer sk-test");
  EXPECT_EQ(log[0].status, 200);

  server.clear_requests();
  EXPECT_TRUE(server.requests().empty());
}

TEST(FakeServer, DefaultHandlersAndUnknownRoutesAnswer404WithAnOpenAiError) {
  FakeOpenAiServer server;
  httplib::Client client("127.0.0.1", server.port());
  for (const std::string path : {"/v1/chat/completions", "/v1/images/generations", "/v1/embeddings"}) {
    const auto res = client.Post(path, "{}", "application/json");
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    const json error = json::parse(res->body);
    EXPECT_EQ(error["error"]["type"], "invalid_request_error");
    EXPECT_NE(error["error"]["message"].get<std::string>().find(path), std::string::npos) << res->body;
  }
  const auto get = client.Get("/v1/models");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404);

  const auto log = server.requests();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[2].path, "/v1/embeddings");
  EXPECT_EQ(log[3].path, "/v1/models");
  for (const auto& r : log) {
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.authorization, "");
  }
}

TEST(FakeServer, BodiesThatAreNotJsonAreLoggedAsNull) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::chat_reply("Low Quality"); });
  httplib::Client client("127.0.0.1", server.port());
  ASSERT_TRUE(client.Post("/v1/chat/completions", "{\"model\": ", "application/json"));
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].body.is_null());
  EXPECT_EQ(log[0].raw_body, "{\"model\": ");
}

TEST(FakeServer, StatusesHeadersAndRawBodiesAreSentAsScripted) {
  FakeOpenAiServer server;
  std::atomic<int> calls{0};
  server.on_chat([&](const LoggedRequest&) {
    switch (calls++) {
      case 0: {
        auto r = FakeOpenAiServer::error_reply(429, "rate limited");
        r.headers = {{"Retry-After", "1"}};
        return r;
      }
      case 1: return FakeOpenAiServer::error_reply(500, "overloaded");
      case 2: {
        FakeReply r;
        r.body = "{\"choices\": [";  // malformed JSON with a 200
        return r;
      }
      default: {
        FakeReply r;
        r.status = 200;
        r.body = "plain words";
        r.content_type = "text/plain";
        return r;
      }
    }
  });
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(res->body)["error"]["message"], "rate limited");

  res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_FALSE(res->has_header("Retry-After"));
  EXPECT_EQ(json::parse(res->body)["error"]["message"], "overloaded");

  res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "{\"choices\": [");

  res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "plain words");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain");

  const auto log = server.requests();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].status, 429);
  EXPECT_EQ(log[1].status, 500);
  EXPECT_EQ(log[2].status, 200);
}

TEST(FakeServer, HandlerExceptionsBecome500s) {
  FakeOpenAiServer server;
  server.on_images([](const LoggedRequest&) -> FakeReply { throw std::runtime_error("scripted failure"); });
  httplib::Client client("127.0.0.1", server.port());
  const auto res = client.Post("/v1/images/generations", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("scripted failure"), std::string::npos);
}

TEST(FakeServer, ImagesReplyCarriesEachImageAsBase64) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::vector<std::string> images = {all_bytes, "", "a", "ab", "abc", std::string("\0\0\xff", 3)};

  FakeOpenAiServer server;
  server.on_images([&](const LoggedRequest&) { return FakeOpenAiServer::images_reply(images); });
  httplib::Client client("127.0.0.1", server.port());
  const auto res = client.Post("/v1/images/generations", R"({"model":"m","prompt":"p","n":1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json reply = json::parse(res->body);
  ASSERT_EQ(reply["data"].size(), images.size());
  EXPECT_TRUE(reply["created"].is_number());
  EXPECT_EQ(reply["data"][3]["b64_json"], "YWI=");
  EXPECT_EQ(reply["data"][4]["b64_json"], "YWJj");
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto decoded = base64_decode(reply["data"][i]["b64_json"].get<std::string>());
    ASSERT_TRUE(decoded) << i;
    EXPECT_EQ(*decoded, images[i]) << i;
  }
}

TEST(FakeServer, ChatHelpersReadTheRequestShape) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  for (int b = 0; b < 300; ++b) png.push_back(static_cast<char>(b * 7));
  const json request = chat_request("You are an expert radiologist.", "Given the prompt P, classify", png);
  EXPECT_EQ(FakeOpenAiServer::system_text(request), "You are an expert radiologist.");
  EXPECT_EQ(FakeOpenAiServer::user_text(request), "Given the prompt P, classify");
  EXPECT_EQ(FakeOpenAiServer::image_bytes(request), png);

  // A plain-string user message, several text parts, content parts as arrays for the system message.
  const json other = json::parse(R"({"messages": [
      {"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "user", "content": "just text"}]})");
  EXPECT_EQ(FakeOpenAiServer::system_text(other), "a\nb");
  EXPECT_EQ(FakeOpenAiServer::user_text(other), "just text");
  EXPECT_EQ(FakeOpenAiServer::image_bytes(other), "");

  // Shapes that are not chat requests, and image URLs that are not base64 data URLs.
  for (const json& bad :
       {json(nullptr), json("text"), json::array(), json{{"messages", 3}}, json{{"messages", {{{"role", "user"}}}}}}) {
    EXPECT_EQ(FakeOpenAiServer::user_text(bad), "") << bad;
    EXPECT_EQ(FakeOpenAiServer::system_text(bad), "") << bad;
    EXPECT_EQ(FakeOpenAiServer::image_bytes(bad), "") << bad;
  }
  for (const std::string url :
       {"https://example.org/x.png", "data:image/png;base64,@@@@", "data:image/png,raw", "data:image/png;base64,YWJ"}) {
    json r = chat_request("s", "q", "");
    r["messages"][1]["content"][1]["image_url"]["url"] = url;
    EXPECT_EQ(FakeOpenAiServer::image_bytes(r), "") << url;
  }
}

TEST(FakeServer, TruncatedBodiesAnnounceTheFullLengthAndStopHalfway) {
  FakeOpenAiServer server;
  const std::string content(400, 'x');
  server.on_chat([&](const LoggedRequest&) {
    auto r = FakeOpenAiServer::chat_reply(content);
    r.truncate = true;
    return r;
  });
  // curl reports a transfer closed with bytes remaining as exit code 18 (CURLE_PARTIAL_FILE).
  const std::string out = ::testing::TempDir() + "/fake_server_truncated.txt";
  const int rc = run_shell("curl -s -o '" + out + "' -X POST -H 'Content-Type: application/json' -d '{}' " +
                           server.base_url() + "/v1/chat/completions");
  EXPECT_EQ(rc, 18);
  std::FILE* f = std::fopen(out.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string received;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) received.append(buffer, n);
  std::fclose(f);
  const std::string full = FakeOpenAiServer::chat_reply(content).body;  // same length; only the id differs
  EXPECT_EQ(received.size(), full.size() / 2);
  EXPECT_TRUE(json::parse(received, nullptr, false).is_discarded());

  // httplib's client sees a failed read, not a reply.
  httplib::Client client("127.0.0.1", server.port());
  const auto res = client.Post("/v1/chat/completions", "{}", "application/json");
  EXPECT_FALSE(res);

  const auto log = server.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status, 200);
}

TEST(FakeServer, DelayedRepliesOutlastAShortClientTimeout) {
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest& r) {
    auto reply = FakeOpenAiServer::chat_reply("Medium Quality");
    if (r.raw_body == "slow") reply.delay_s = 1.5;
    return reply;
  });
  httplib::Client impatient("127.0.0.1", server.port());
  impatient.set_read_timeout(0, 200000);  // 0.2 s
  const auto timed_out = impatient.Post("/v1/chat/completions", "slow", "application/json");
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error(), httplib::Error::Read);

  httplib::Client patient("127.0.0.1", server.port());
  patient.set_read_timeout(10, 0);
  const auto res = patient.Post("/v1/chat/completions", "slow", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], "Medium Quality");
  const auto fast = patient.Post("/v1/chat/completions", "fast", "application/json");
  ASSERT_TRUE(fast);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(FakeServer, StoppingDoesNotWaitForADelayedReply) {
  const auto start = std::chrono::steady_clock::now();
  std::thread caller;
  std::atomic<bool> arrived{false};
  {
    FakeOpenAiServer server;
    server.on_chat([&](const LoggedRequest&) {
      arrived = true;
      auto r = FakeOpenAiServer::chat_reply("High Quality");
      r.delay_s = 120;
      return r;
    });
    caller = std::thread([port = server.port()] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(300, 0);
      client.Post("/v1/chat/completions", "{}", "application/json");  // fails or gets the 503; either is fine
    });
    while (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }  // the destructor must return long before the 120 s delay runs out
  caller.join();
  // Generous bound (the machine is shared and slow under sanitizers); a server waiting out the delay takes 120 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(FakeServer, ServesSixteenRequestsAtOnce) {
  constexpr int kClients = 16;
  FakeOpenAiServer server;
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int most = 0;
  server.on_chat([&](const LoggedRequest& r) {
    std::unique_lock lock(mutex);
    most = std::max(most, ++in_flight);
    changed.notify_all();
    // Hold every reply until all clients are inside the handler at once (or give up after a while).
    changed.wait_for(lock, std::chrono::seconds(20), [&] { return most == kClients; });
    --in_flight;
    return FakeOpenAiServer::chat_reply(r.raw_body);
  });
  std::vector<std::thread> clients;
  std::vector<std::string> replies(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_read_timeout(60, 0);
      const auto res = client.Post("/v1/chat/completions", "client " + std::to_string(i), "application/json");
      if (res)
        replies[i] = json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>();
      else
        replies[i] = "error " + httplib::to_string(res.error());
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(most, kClients);
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(replies[i], "client " + std::to_string(i));
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kClients));
}

TEST(FakeServer, EveryReplyClosesItsConnection) {
  // So that a client keeping its connection open (libcurl does) never holds up the server's shutdown.
  FakeOpenAiServer server;
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::chat_reply("High Quality"); });
  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  for (int k = 0; k < 2; ++k) {
    const auto res = client.Post("/v1/chat/completions", "{}", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->get_header_value("Connection"), "close");
  }
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(FakeServer, HandlersCanBeReplacedBetweenRequests) {
  FakeOpenAiServer server;
  httplib::Client client("127.0.0.1", server.port());
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::chat_reply("one"); });
  auto res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("\"one\""), std::string::npos);
  server.on_chat([](const LoggedRequest&) { return FakeOpenAiServer::error_reply(401, "bad key"); });
  res = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

}  // namespace
}  // namespace chexgen::testing
