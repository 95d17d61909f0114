// `chexgen generate` end to end against a real HTTP server on 127.0.0.1 (tests/support/fake_openai_server.h) and
// against command templates run through /bin/sh. Every image the fake generators make carries, in its pixels, the
// seed and prompt it was made from ("seed=S;prompt=P"), so the tests check that each file got its own job, not
// just that a file exists. Faults (5xx, 429, bad base64, non-images, truncated and malformed bodies, 400, wrong
// sizes, timeouts, failing and forgetful commands, SIGKILL) are scripted per request.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/data/manifest.h"
#include "chexgen/image/decode.h"
#include "run_command.h"
#include "support/fake_openai_server.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// A gray PNG whose first pixel is the tag's length and whose next pixels are its bytes.
std::string tagged_png(int width, int height, const std::string& tag) {
  Image8 image(width, height, 1);
  image.data.at(0) = static_cast<std::uint8_t>(tag.size());
  std::copy(tag.begin(), tag.end(), image.data.begin() + 1);
  return encode_png(image);
}

std::string read_tag(const fs::path& png) {
  const Image8 image = read_image_u8(png, ColorMode::gray);
  const std::size_t n = image.data.at(0);
  return std::string(image.data.begin() + 1, image.data.begin() + 1 + static_cast<std::ptrdiff_t>(n));
}

std::string tag(const nlohmann::json& seed, const std::string& prompt) {
  return "seed=" + (seed.is_null() ? std::string("none") : seed.dump()) + ";prompt=" + prompt;
}

// What a well-behaved images server answers: an image of the size asked for, tagged with the request's own seed
// (the "seed" field) and prompt.
FakeReply good_image(const LoggedRequest& r, int force_side = 0) {
  const std::string size = r.body.value("size", "");
  const int w = force_side > 0 ? force_side : std::stoi(size.substr(0, size.find('x')));
  const int h = force_side > 0 ? force_side : std::stoi(size.substr(size.find('x') + 1));
  const nlohmann::json seed = r.body.contains("seed") ? r.body["seed"] : nlohmann::json();
  return FakeOpenAiServer::images_reply({tagged_png(w, h, tag(seed, r.body.value("prompt", "")))});
}

struct Row {
  std::string image, prompt, labels, patient;
};

const std::vector<Row> kRows = {
    {"images/00000013_005.png", "Small left pleural effusion.", "{'Pleural Effusion': 1.0}", "p13"},
    {"images/00000042_000.png", "Mild \"cardiomegaly\", no edema.", "{'Cardiomegaly': 1, 'Edema': 0}", "p42"},
    {"other/00000099_001.jpg", "No acute findings.", "{'No Finding': 1}", "p99"},
    {"images/00000100_002.png", "Right upper lobe consolidation.", "{'Consolidation': 1.0, 'Pneumonia': -1}", ""},
};

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A CheXGenBench real-style prompt manifest (the images need not exist: only prompts, ids and labels are used).
fs::path write_manifest(const fs::path& dir, const std::vector<Row>& rows) {
  std::ofstream out(dir / "prompts.csv");
  out << "path,annotated_prompt,chexpert_labels,patient_id\n";
  for (const auto& r : rows) {
    out << r.image << "," << csv_quote(r.prompt) << "," << csv_quote(r.labels) << "," << r.patient << "\n";
  }
  return dir / "prompts.csv";
}

std::string stem(const Row& r) { return fs::path(r.image).stem().string(); }

std::vector<std::string> api_args(const fs::path& manifest, const fs::path& out, const FakeOpenAiServer& server,
                                  std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "generate",  manifest.string(), "--out", out.string(), "--base-url", server.base_url(), "--model",
      "fake-sana", "--size",          "16x16", "--timeout",  "2",          "--backoff",       "0.05"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The (prompt, seed) of every request the server saw.
std::multiset<std::string> requested(const FakeOpenAiServer& server) {
  std::multiset<std::string> out;
  for (const auto& r : server.requests()) {
    out.insert(tag(r.body.contains("seed") ? r.body["seed"] : nlohmann::json(), r.body.value("prompt", "")));
  }
  return out;
}

TEST(GenerateCli, ImagesApiMakesKImagesPerPromptEachWithItsOwnSeed) {
  FakeOpenAiServer server;
  server.on_images([](const LoggedRequest& r) { return good_image(r); });
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[1], kRows[2]});
  const fs::path out = dir / "gen";
  const auto r =
      run_chexgen(api_args(manifest, out, server,
                           {"--per-prompt", "3", "--seeds", "639,25,7", "--seed-field", "seed", "--concurrency", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("generated 9 image(s) for 3 prompt(s) x 3 seed(s)"));

  // Every request: the images API's fields, its prompt and its seed.
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 9u);
  for (const auto& q : requests) {
    EXPECT_EQ(q.path, "/v1/images/generations");
    EXPECT_EQ(q.body["model"], "fake-sana");
    EXPECT_EQ(q.body["n"], 1);
    EXPECT_EQ(q.body["size"], "16x16");
    EXPECT_EQ(q.body["response_format"], "b64_json");
    EXPECT_TRUE(q.body["seed"].is_number_integer()) << q.raw_body;
  }
  const std::vector<int> seeds = {639, 25, 7};
  for (int row = 0; row < 3; ++row) {
    for (int k = 0; k < 3; ++k) {
      const fs::path image = out / "images" / ("SyntheticImg_" + stem(kRows[row]) + "_" + std::to_string(k) + ".png");
      ASSERT_TRUE(fs::exists(image)) << image;
      EXPECT_EQ(read_tag(image), tag(seeds[k], kRows[row].prompt)) << image;
    }
  }
  EXPECT_EQ(requested(server).count(tag(25, kRows[1].prompt)), 1u);

  // generations.csv, read back by chexgen's own reader: prompts, labels, patients, ids, k and seeds.
  ManifestOptions mo;
  mo.format = ManifestFormat::chexgenbench_synthetic;
  ErrorReport errors;
  const Dataset back = read_manifest(out / "generations.csv", mo, errors);
  ASSERT_EQ(back.samples.size(), 9u);
  const Sample& s = back.samples[4];
  EXPECT_EQ(s.image_ref, "images/SyntheticImg_00000042_000_1.png");
  EXPECT_EQ(s.prompt, kRows[1].prompt);
  EXPECT_EQ(s.patient_id, "p42");
  EXPECT_EQ(back.label(4, "Cardiomegaly"), LabelValue::positive);
  EXPECT_EQ(back.label(4, "Edema"), LabelValue::negative);
  EXPECT_EQ(back.label(4, "Fracture"), LabelValue::missing);
  const std::vector<std::pair<std::string, std::string>> extra = {
      {"sample_id", "00000042_000"}, {"k", "1"}, {"seed", "25"}};
  EXPECT_EQ(s.extra, extra);
  EXPECT_TRUE(fs::exists(s.image_path)) << s.image_path;
  // CheXGenBench's prompt_INFO.csv beside the images: prompt, bare file name.
  const std::string info = read_text(out / "images/prompt_INFO.csv");
  EXPECT_EQ(info.substr(0, info.find('\n')), "prompt,img_savename");
  EXPECT_THAT(info, HasSubstr("\"Mild \"\"cardiomegaly\"\", no edema.\",SyntheticImg_00000042_000_2.png\n"));
  EXPECT_THAT(info, HasSubstr("Small left pleural effusion.,SyntheticImg_00000013_005_0.png\n"));

  const auto gen = nlohmann::json::parse(read_text(out / "generation.json"));
  EXPECT_EQ(gen["backend"], "images-api");
  EXPECT_EQ(gen["model"], "fake-sana");
  EXPECT_EQ(gen["base_url"], server.base_url());
  EXPECT_EQ(gen["seeds"], nlohmann::json({639, 25, 7}));
  EXPECT_EQ(gen["per_prompt"], 3);
  EXPECT_EQ(gen["size"], "16x16");
  EXPECT_EQ(gen["n_prompts"], 3);
  EXPECT_EQ(gen["n_images"], 9);
  EXPECT_EQ(gen["requests"], 9);
  EXPECT_EQ(gen["retries"], 0);
  EXPECT_EQ(read_jsonl(out / "journal.jsonl").size(), 9u);
}

TEST(GenerateCli, SeedsDeriveFromSeedAndOneImagePerPromptHasTheShortName) {
  FakeOpenAiServer server;
  server.on_images([](const LoggedRequest& r) { return good_image(r); });
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[3]});

  auto r = run_chexgen(
      api_args(manifest, dir / "a", server, {"-q", "--seed", "100", "--per-prompt", "2", "--seed-field", "seed"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_tag(dir / "a/images/SyntheticImg_00000013_005_0.png"), tag(100, kRows[0].prompt));
  EXPECT_EQ(read_tag(dir / "a/images/SyntheticImg_00000013_005_1.png"), tag(101, kRows[0].prompt));
  EXPECT_EQ(read_tag(dir / "a/images/SyntheticImg_00000100_002_1.png"), tag(101, kRows[3].prompt));
  // No patient id on the last row: the column is still there (others have one), the cell empty.
  EXPECT_THAT(read_text(dir / "a/generations.csv"), HasSubstr(",00000100_002,1,101,\n"));

  // K = 1: SyntheticImg_<id>.png; without --seed-field no seed is sent, but the seed is still recorded.
  server.clear_requests();
  r = run_chexgen(api_args(manifest, dir / "b", server, {"-q"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(server.requests().size(), 2u);
  for (const auto& q : server.requests()) EXPECT_FALSE(q.body.contains("seed")) << q.raw_body;
  EXPECT_EQ(read_tag(dir / "b/images/SyntheticImg_00000013_005.png"), tag(nullptr, kRows[0].prompt));
  EXPECT_THAT(read_text(dir / "b/generations.csv"), HasSubstr("images/SyntheticImg_00000100_002.png,"));
  EXPECT_THAT(read_text(dir / "b/generations.csv"), HasSubstr(",00000100_002,0,0,\n"));
}

TEST(GenerateCli, TransientFaultsAreRetriedUntilEachImageArrives) {
  // The first attempt of each prompt meets a different fault; the second gets its image.
  const std::vector<std::string> prompts = {
      "500",           "429",        "bad base64", "not an image", "truncated body", "malformed json",
      "truncated png", "empty data", "too slow"};
  std::mutex mutex;
  std::map<std::string, int> attempts;
  FakeOpenAiServer server;
  server.on_images([&](const LoggedRequest& r) {
    const std::string p = r.body.value("prompt", "");
    {
      std::lock_guard lock(mutex);
      if (attempts[p]++ > 0) return good_image(r);
    }
    if (p == "500") return FakeOpenAiServer::error_reply(500, "CUDA error: an illegal memory access");
    if (p == "429") {
      FakeReply reply = FakeOpenAiServer::error_reply(429, "rate limited");
      reply.headers.push_back({"Retry-After", "0"});
      return reply;
    }
    FakeReply reply;
    if (p == "bad base64") reply.body = R"({"data": [{"b64_json": "iVBOR*not base64*"}]})";
    if (p == "not an image") return FakeOpenAiServer::images_reply({"{\"error\": \"this is not an image\"}"});
    if (p == "truncated body") {
      reply = good_image(r);
      reply.truncate = true;
    }
    if (p == "malformed json") reply.body = R"({"data": [{"b64_json": "iVBO)";
    if (p == "truncated png") {
      const std::string png = tagged_png(16, 16, "x");
      return FakeOpenAiServer::images_reply({png.substr(0, png.size() / 2)});
    }
    if (p == "empty data") reply.body = R"({"created": 1, "data": []})";
    if (p == "too slow") {
      reply = good_image(r);
      reply.delay_s = 4;  // past the client's --timeout 2
    }
    return reply;
  });
  const fs::path dir = make_temp_dir();
  std::vector<Row> rows;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    rows.push_back({"f" + std::to_string(i) + ".png", prompts[i], "{}", ""});
  }
  const fs::path manifest = write_manifest(dir, rows);
  const auto r = run_chexgen(api_args(manifest, dir / "gen", server, {"--concurrency", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(read_tag(dir / "gen/images" / ("SyntheticImg_f" + std::to_string(i) + ".png")), tag(nullptr, prompts[i]));
  }
  const auto gen = nlohmann::json::parse(read_text(dir / "gen/generation.json"));
  EXPECT_EQ(gen["requests"], 2 * prompts.size());
  EXPECT_EQ(gen["retries"], prompts.size());
  // Each retry is announced with the image it belongs to and what went wrong.
  EXPECT_THAT(r.err, HasSubstr("SyntheticImg_f0.png: POST "));
  EXPECT_THAT(r.err, HasSubstr("HTTP 500: CUDA error: an illegal memory access"));
  EXPECT_THAT(r.err, HasSubstr("HTTP 429: rate limited"));
  EXPECT_THAT(r.err, HasSubstr("not valid base64"));
  EXPECT_THAT(r.err, HasSubstr("not a PNG or JPEG image"));
  EXPECT_THAT(r.err, HasSubstr("timed out"));
}

TEST(GenerateCli, AClientErrorStopsTheRunWithExitCode5AndTheServersWords) {
  FakeOpenAiServer server;
  server.on_images(
      [](const LoggedRequest&) { return FakeOpenAiServer::error_reply(400, "The model 'fake-sana' does not exist"); });
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[1]});
  auto r = run_chexgen(api_args(manifest, dir / "gen", server, {"-q", "--concurrency", "1"}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("HTTP 400"));
  EXPECT_THAT(r.err, HasSubstr("The model 'fake-sana' does not exist"));
  EXPECT_THAT(r.err, HasSubstr("prompts.csv:2: SyntheticImg_00000013_005.png"));
  EXPECT_EQ(server.requests().size(), 1u);  // never retried, nothing more asked
  EXPECT_FALSE(fs::exists(dir / "gen/generations.csv"));

  // A request that fails on every attempt stops the run too, naming the row and the last fault.
  server.clear_requests();
  server.on_images([](const LoggedRequest&) { return FakeOpenAiServer::error_reply(503, "loading the model"); });
  r = run_chexgen(api_args(manifest, dir / "gen", server, {"-q", "--concurrency", "1", "--max-attempts", "2"}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("prompts.csv:2: SyntheticImg_00000013_005.png: POST "));
  EXPECT_THAT(r.err, HasSubstr("failed 2 time(s); last: HTTP 503: loading the model"));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(GenerateCli, AnImageOfTheWrongSizeIsAnErrorNamingTheRow) {
  FakeOpenAiServer server;
  server.on_images(
      [](const LoggedRequest& r) { return good_image(r, r.body.value("prompt", "") == kRows[1].prompt ? 8 : 0); });
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[1], kRows[2]});
  const auto r = run_chexgen(api_args(manifest, dir / "gen", server, {"-q", "--concurrency", "1"}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("prompts.csv:3: SyntheticImg_00000042_000.png: the server's image is 8x8, not the "
                               "16x16 asked for (--size)"));
  EXPECT_EQ(server.requests().size(), 2u);  // a wrong size is not retried, and the run stops there
  EXPECT_TRUE(fs::exists(dir / "gen/images/SyntheticImg_00000013_005.png"));  // the one before it is kept
  EXPECT_FALSE(fs::exists(dir / "gen/images/SyntheticImg_00000042_000.png"));
}

TEST(GenerateCli, ARerunMakesOnlyWhatIsMissing) {
  FakeOpenAiServer server;
  server.on_images([](const LoggedRequest& r) { return good_image(r); });
  const fs::path dir = make_temp_dir();
  std::vector<Row> rows = kRows;
  const fs::path manifest = write_manifest(dir, rows);
  const fs::path out = dir / "gen";
  const auto args = api_args(manifest, out, server, {"--seed-field", "seed", "--seed", "3"});
  auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(server.requests().size(), 4u);

  // Everything is there: nothing is asked again.
  server.clear_requests();
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.requests().size(), 0u);
  EXPECT_THAT(r.out, HasSubstr("(0 made now, 4 from an earlier run)"));

  // A deleted image is made again, and only that one.
  fs::remove(out / "images/SyntheticImg_00000042_000.png");
  server.clear_requests();
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(requested(server), std::multiset<std::string>{tag(3, kRows[1].prompt)});
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000042_000.png"), tag(3, kRows[1].prompt));

  EXPECT_THAT(read_text(out / "generations.csv"), HasSubstr(kRows[1].prompt.substr(0, 6)));

  // Issue 18: other settings (here the request field of the seed) make every image again instead of keeping images
  // that generation.json would then misdescribe.
  server.clear_requests();
  r = run_chexgen(api_args(manifest, out, server, {"--seed-field", "random_seed", "--seed", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_THAT(r.out, HasSubstr("(4 made now, 0 from an earlier run)"));
}

// Starts chexgen without waiting for it; its output goes to `log`.
pid_t spawn_chexgen(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> copy = args;
  std::string binary = CHEXGEN_BINARY;
  std::vector<char*> argv{binary.data()};
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

TEST(GenerateCli, AfterSigkillARerunCompletesWithoutAskingForAnyJournaledImageAgain) {
  // The server answers three requests, then holds every other one until the test opens the gate, so the kill
  // lands while requests are in flight and exactly three images are journaled.
  std::mutex mutex;
  std::condition_variable gate;
  bool open = false;
  int answered = 0;
  FakeOpenAiServer server;
  server.on_images([&](const LoggedRequest& r) {
    {
      std::unique_lock lock(mutex);
      if (!open && answered >= 3) gate.wait_for(lock, std::chrono::seconds(30), [&] { return open; });
      ++answered;
    }
    return good_image(r);
  });
  const fs::path dir = make_temp_dir();
  std::vector<Row> rows;
  for (int i = 0; i < 8; ++i) {
    rows.push_back({"img" + std::to_string(i) + ".png", "Prompt number " + std::to_string(i) + ".", "{}", ""});
  }
  const fs::path manifest = write_manifest(dir, rows);
  const fs::path out = dir / "gen";
  const auto args = api_args(manifest, out, server, {"-q", "--seed-field", "seed", "--concurrency", "2"});

  const pid_t pid = spawn_chexgen(args, dir / "first.log");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::size_t journaled = 0;
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    journaled = fs::exists(out / "journal.jsonl") ? read_jsonl(out / "journal.jsonl").size() : 0;
    if (journaled >= 3) break;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;  // it should be waiting on the server: something else went wrong
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  {
    std::lock_guard lock(mutex);
    open = true;
  }
  gate.notify_all();
  ASSERT_EQ(journaled, 3u) << read_text(dir / "first.log");
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(out / "generations.csv"));

  std::set<std::string> done_before;
  for (const auto& rec : read_jsonl(out / "journal.jsonl")) {
    const int i = std::stoi(rec["sample_id"].get<std::string>().substr(3));
    done_before.insert(tag(rec["seed"], rows[i].prompt));
  }
  ASSERT_EQ(done_before.size(), 3u);

  server.clear_requests();
  const auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto again = requested(server);
  EXPECT_EQ(again.size(), 5u);
  for (const auto& t : done_before) EXPECT_EQ(again.count(t), 0u) << t << " was asked for again";
  std::set<std::string> files;
  for (const auto& rec : read_jsonl(out / "journal.jsonl")) files.insert(rec["file_name"].get<std::string>());
  EXPECT_EQ(files.size(), 8u);
  EXPECT_EQ(read_jsonl(out / "journal.jsonl").size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(read_tag(out / "images" / ("SyntheticImg_img" + std::to_string(i) + ".png")), tag(0, rows[i].prompt));
  }
  const std::string csv = read_text(out / "generations.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);  // the header and 8 rows
}

// A stand-in for a user's diffusers script, reading jobs.jsonl and writing tagged PNGs with Pillow. `skip` is a
// file name it "forgets".
fs::path write_script(const fs::path& dir, const std::string& skip = "") {
  std::ofstream out(dir / "gen.py");
  out << "import json, os, sys\n"
         "from PIL import Image\n"
         "jobs, out, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
         "for line in open(jobs):\n"
         "    j = json.loads(line)\n"
         "    if j['file_name'] == '"
      << skip
      << "':\n"
         "        continue\n"
         "    tag = ('seed=%d;prompt=%s' % (j['seed'], j['prompt'])).encode()\n"
         "    data = bytes([len(tag)]) + tag\n"
         "    Image.frombytes('L', (w, h), data + bytes(w * h - len(data))).save(os.path.join(out, j['file_name']))\n"
         "    print('made', j['file_name'], file=sys.stderr)\n";
  return dir / "gen.py";
}

std::vector<std::string> command_args(const fs::path& manifest, const fs::path& out, const std::string& command,
                                      std::vector<std::string> extra) {
  std::vector<std::string> args = {"generate",  manifest.string(), "--out",  out.string(),
                                   "--command", command,           "--size", "16x16"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(GenerateCli, CommandBackendRunsTheTemplatePerBatchWithTheExpectedNames) {
  const fs::path dir = make_temp_dir();
  const fs::path script = write_script(dir);
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[1], kRows[2]});
  const fs::path out = dir / "gen";
  const std::string command = "/usr/bin/python3 '" + script.string() + "' {jobs_file} {out_dir} {width} {height}";
  const auto r =
      run_chexgen(command_args(manifest, out, command, {"--seeds", "5,6", "--batch-size", "4", "--model", "my-sana"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 command run(s)"));
  EXPECT_THAT(r.err, HasSubstr("made SyntheticImg_00000099_001_1.png"));  // the command's stderr, passed on
  for (int row = 0; row < 3; ++row) {
    for (int k = 0; k < 2; ++k) {
      const fs::path image = out / "images" / ("SyntheticImg_" + stem(kRows[row]) + "_" + std::to_string(k) + ".png");
      EXPECT_EQ(read_tag(image), tag(5 + k, kRows[row].prompt)) << image;
    }
  }
  const auto gen = nlohmann::json::parse(read_text(out / "generation.json"));
  EXPECT_EQ(gen["backend"], "command");
  EXPECT_EQ(gen["command"], command);
  EXPECT_EQ(gen["model"], "my-sana");
  EXPECT_EQ(gen["commands_run"], 2);
  EXPECT_FALSE(fs::exists(out / "staging"));
}

TEST(GenerateCli, AFailingCommandStopsWithItsExitStatusAndStderr) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0]});
  const auto r = run_chexgen(command_args(
      manifest, dir / "gen",
      "test -s {prompts_file} && echo 'RuntimeError: CUDA out of memory' >&2 && exit 3; echo {out_dir}", {"-q"}));
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--command failed on batch 1"));
  EXPECT_THAT(r.err, HasSubstr("exit status 3"));
  EXPECT_THAT(r.err, HasSubstr("RuntimeError: CUDA out of memory"));
  EXPECT_THAT(r.err, HasSubstr("prompts.csv"));
}

TEST(GenerateCli, AFileTheCommandForgotIsNamedAndARerunMakesOnlyThatOne) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], kRows[1], kRows[2]});
  const fs::path out = dir / "gen";
  const std::string command = "/usr/bin/python3 gen.py {jobs_file} {out_dir} {width} {height}";
  write_script(dir, "SyntheticImg_00000042_000_1.png");
  auto r = run_chexgen(command_args(manifest, out, command, {"-q", "--per-prompt", "2"}), dir.string());
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("prompts.csv:3: SyntheticImg_00000042_000_1.png: the command did not write "));
  EXPECT_EQ(read_jsonl(out / "journal.jsonl").size(), 5u);  // the five it did write are kept

  write_script(dir);
  r = run_chexgen(command_args(manifest, out, command, {"--per-prompt", "2"}), dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(1 made now, 5 from an earlier run)"));
  EXPECT_THAT(r.out, HasSubstr("1 command run(s)"));
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000042_000_1.png"), tag(1, kRows[1].prompt));
}

TEST(GenerateCli, UsageAndInputErrorsAreReportedBeforeAnyWork) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {kRows[0], {"b.png", "", "{}", ""}});
  auto r = run_chexgen({"generate", manifest.string(), "--out", (dir / "gen").string(), "--command",
                        "x {prompts_file} {out_dir}", "--seeds", "1,2", "--per-prompt", "3", "--concurrency", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--concurrency applies to the images API (--base-url) backend only"));

  r = run_chexgen(
      {"generate", manifest.string(), "--out", (dir / "gen").string(), "--command", "x {prompts_file} {out_dir}"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("prompts.csv:3: no prompt to generate from"));
  EXPECT_FALSE(fs::exists(dir / "gen"));
}

}  // namespace
}  // namespace chexgen::testing
