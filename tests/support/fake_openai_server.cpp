// The scripted OpenAI-compatible server (see the header), on cpp-httplib. Each request is logged on arrival and its
// status filled in once the test's handler has answered; replies can be delayed (in small steps, so that stopping
// the server never waits long for a sleeping handler) or cut short after half the announced body.
#include "support/fake_openai_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <sys/socket.h>

#include <fmt/format.h>
#include <httplib.h>

namespace chexgen::testing {

namespace {

constexpr std::size_t kServerThreads = 32;  // concurrency tests run up to 16 requests at once
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Test support keeps its own base64 rather than the library's, so that tests of chexgen's encoder and decoder
// meet an independent implementation on the other end of the wire.
std::string to_base64(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Strict decoding (whitespace skipped); "" for anything that is not base64.
std::string from_base64(const std::string& text) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (int k = 0; k < 64; ++k) value[static_cast<unsigned char>(kAlphabet[k])] = k;
  std::string symbols;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') symbols.push_back(c);
  }
  if (symbols.size() % 4 != 0) return "";
  std::string out;
  for (std::size_t i = 0; i < symbols.size(); i += 4) {
    const bool last = i + 4 == symbols.size();
    int pad = 0;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = symbols[i + k];
      if (c == '=') {
        if (!last || k < 2) return "";
        ++pad;
        v <<= 6;
        continue;
      }
      if (pad > 0) return "";  // data after padding
      const int d = value[static_cast<unsigned char>(c)];
      if (d < 0) return "";
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

// The text of a message's content: a string, or the "text" parts of a content array joined by newlines.
std::string content_text(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      continue;
    }
    if (!out.empty()) out += "\n";
    out += part["text"].get<std::string>();
  }
  return out;
}

// The first message with this role, or null.
const nlohmann::json* find_message(const nlohmann::json& request, const std::string& role) {
  if (!request.is_object() || !request.contains("messages") || !request["messages"].is_array()) return nullptr;
  for (const auto& m : request["messages"]) {
    if (m.is_object() && m.value("role", "") == role) return &m;
  }
  return nullptr;
}

std::atomic<std::uint64_t> reply_counter{0};

}  // namespace

struct FakeOpenAiServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  int listen_fd = -1;  // the listening socket, to raise httplib's listen backlog
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;  // guards everything below
  Handler chat;
  Handler images;
  std::vector<LoggedRequest> log;
  std::uint64_t log_generation = 0;  // bumped by clear_requests, so a late status lands nowhere

  void serve(const httplib::Request& req, httplib::Response& res, Handler FakeOpenAiServer::Impl::*which) {
    LoggedRequest entry;
    entry.path = req.path;
    entry.raw_body = req.body;
    entry.body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (entry.body.is_discarded()) entry.body = nullptr;
    entry.authorization = req.get_header_value("Authorization");

    Handler handler;
    std::size_t index = 0;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex);
      if (which != nullptr) handler = this->*which;
      log.push_back(entry);
      index = log.size() - 1;
      generation = log_generation;
    }

    FakeReply reply;
    if (handler) {
      try {
        reply = handler(entry);
      } catch (const std::exception& e) {
        reply = error_reply(500, fmt::format("the test's handler threw: {}", e.what()));
      }
    } else {
      reply = error_reply(404, fmt::format("no handler for {} {}", req.method, req.path));
    }

    // Sleep in small steps so that the destructor does not wait for a long delay to run out.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, reply.delay_s));
    while (!stopping.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (stopping.load()) reply = error_reply(503, "the fake server is shutting down");

    {
      std::lock_guard lock(mutex);
      if (generation == log_generation && index < log.size()) log[index].status = reply.status;
    }

    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    if (!reply.truncate) {
      res.set_content(reply.body, reply.content_type);
      return;
    }
    // Content-Length announces the whole body; the provider writes the first half and then fails, which makes
    // httplib abandon the response and close the connection.
    auto body = std::make_shared<std::string>(std::move(reply.body));
    res.set_content_provider(body->size(), reply.content_type,
                             [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               const std::size_t half = body->size() / 2;
                               if (offset < half) sink.write(body->data() + offset, half - offset);
                               return false;
                             });
  }
};

FakeOpenAiServer::FakeOpenAiServer() : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // One request per connection ("Connection: close" on every reply). httplib 0.11 lets an idle keep-alive
  // connection hold its worker, and so stop(), for the whole keep-alive timeout; clients that keep connections
  // open (libcurl) would make every server's shutdown take seconds.
  impl.server.set_keep_alive_max_count(1);
  impl.server.Post("/v1/chat/completions",
                   [&impl](const httplib::Request& req, httplib::Response& res) { impl.serve(req, res, &Impl::chat); });
  impl.server.Post("/v1/images/generations", [&impl](const httplib::Request& req, httplib::Response& res) {
    impl.serve(req, res, &Impl::images);
  });
  // Anything else is logged too, and answered like an OpenAI server answers an unknown route.
  const auto unknown = [&impl](const httplib::Request& req, httplib::Response& res) { impl.serve(req, res, nullptr); };
  impl.server.Post(".*", unknown);
  impl.server.Get(".*", unknown);
  impl.server.Put(".*", unknown);
  impl.server.Delete(".*", unknown);

  // httplib 0.11 listens with a backlog of 5: under load the kernel drops further connection attempts, and a
  // dropped client's request can arrive after the server has stopped waiting for it. Tests open more connections
  // than that at once, so the backlog is raised to 128 once the socket listens (listen() again only resizes it).
  impl.server.set_socket_options([&impl](socket_t sock) {
    httplib::default_socket_options(sock);
    impl.listen_fd = sock;
  });
  impl.port = impl.server.bind_to_any_port("127.0.0.1");
  if (impl.port <= 0) throw std::runtime_error("FakeOpenAiServer: cannot bind a port on 127.0.0.1");
  if (impl.listen_fd < 0 || ::listen(impl.listen_fd, 128) != 0) {
    throw std::runtime_error("FakeOpenAiServer: cannot raise the listen backlog");
  }
  impl.thread = std::thread([&impl] { impl.server.listen_after_bind(); });
}

FakeOpenAiServer::~FakeOpenAiServer() {
  impl_->stopping = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string FakeOpenAiServer::base_url() const { return fmt::format("http://127.0.0.1:{}", impl_->port); }

int FakeOpenAiServer::port() const { return impl_->port; }

void FakeOpenAiServer::on_chat(Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->chat = std::move(handler);
}

void FakeOpenAiServer::on_images(Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->images = std::move(handler);
}

std::vector<LoggedRequest> FakeOpenAiServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

void FakeOpenAiServer::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->log.clear();
  ++impl_->log_generation;
}

FakeReply FakeOpenAiServer::chat_reply(const std::string& content) {
  const nlohmann::json body = {
      {"id", fmt::format("chatcmpl-fake-{}", reply_counter.fetch_add(1))},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "fake-vlm"},
      {"choices",
       nlohmann::json::array(
           {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}})},
      {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 1}, {"total_tokens", 2}}}};
  FakeReply reply;
  reply.body = body.dump();
  return reply;
}

FakeReply FakeOpenAiServer::images_reply(const std::vector<std::string>& image_bytes) {
  nlohmann::json data = nlohmann::json::array();
  for (const std::string& bytes : image_bytes) data.push_back({{"b64_json", to_base64(bytes)}});
  FakeReply reply;
  reply.body = nlohmann::json{{"created", 1700000000}, {"data", std::move(data)}}.dump();
  return reply;
}

FakeReply FakeOpenAiServer::error_reply(int status, const std::string& message) {
  FakeReply reply;
  reply.status = status;
  reply.body =
      nlohmann::json{
          {"error", {{"message", message}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", nullptr}}}}
          .dump();
  return reply;
}

std::string FakeOpenAiServer::user_text(const nlohmann::json& chat_request) {
  const nlohmann::json* m = find_message(chat_request, "user");
  return m != nullptr && m->contains("content") ? content_text((*m)["content"]) : std::string();
}

std::string FakeOpenAiServer::system_text(const nlohmann::json& chat_request) {
  const nlohmann::json* m = find_message(chat_request, "system");
  return m != nullptr && m->contains("content") ? content_text((*m)["content"]) : std::string();
}

std::string FakeOpenAiServer::image_bytes(const nlohmann::json& chat_request) {
  const nlohmann::json* m = find_message(chat_request, "user");
  if (m == nullptr || !m->contains("content") || !(*m)["content"].is_array()) return "";
  for (const auto& part : (*m)["content"]) {
    if (!part.is_object() || part.value("type", "") != "image_url" || !part.contains("image_url")) continue;
    const auto& image_url = part["image_url"];
    std::string url;
    if (image_url.is_string())
      url = image_url.get<std::string>();
    else if (image_url.is_object() && image_url.contains("url") && image_url["url"].is_string())
      url = image_url["url"].get<std::string>();
    const std::string marker = ";base64,";
    const std::size_t at = url.find(marker);
    if (url.rfind("data:", 0) != 0 || at == std::string::npos) return "";
    return from_base64(url.substr(at + marker.size()));
  }
  return "";
}

}  // namespace chexgen::testing
