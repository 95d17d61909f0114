// libFuzzer target: arbitrary bytes as the JSON that reaches chexgen from outside — the bounded parser, a JSONL
// manifest, and the replies of a chat-completions and an images server (the validators the HTTP client runs on each
// reply, base64 image decoding included). Model sidecars go through the same parse_json; their field checks live in
// the deep stage, which the fuzz build leaves out (LibTorch). A bad input must end in InputError or UsageError (files)
// or MalformedReply (replies); anything else (a crash, a stack overflow, another exception type) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "chexgen/core/base64.h"
#include "chexgen/core/error.h"
#include "chexgen/core/json.h"
#include "chexgen/curation/filter.h"
#include "chexgen/curation/generate_pvt.h"
#include "chexgen/curation/http_client.h"
#include "chexgen/data/manifest.h"
#include "fuzz_files.h"

namespace {

namespace fs = std::filesystem;

// A folder of this process for the manifest the reader takes.
const fs::path& scratch() { return chexgen::fuzz::scratch_dir("json-fuzz"); }
void write(const fs::path& p, std::string_view text) { chexgen::fuzz::write_file(p, text); }

void check_reply(const nlohmann::json& reply) {
  try {
    (void)chexgen::reply_content(reply);
  } catch (const chexgen::MalformedReply&) {
  }
  // The images API validator's steps: data[0].b64_json, base64, then a whole PNG or JPEG within the pixel limit.
  if (reply.is_object() && reply.contains("data") && reply["data"].is_array() && !reply["data"].empty()) {
    const auto& item = reply["data"][0];
    if (item.is_object() && item.contains("b64_json") && item["b64_json"].is_string()) {
      if (auto bytes = chexgen::base64_decode(item["b64_json"].get_ref<const std::string&>())) {
        try {
          (void)chexgen::generate_detail::check_image(std::move(*bytes), "data[0].b64_json");
        } catch (const chexgen::InputError&) {
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)chexgen::printable_text(text);
  try {
    const nlohmann::json j = chexgen::parse_json(text, chexgen::Location{"fuzz.json"});
    (void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // printing it back must not overflow
    check_reply(j);
  } catch (const chexgen::InputError&) {
  }
  try {
    write(scratch() / "metadata.jsonl", text);
    chexgen::ErrorReport errors;
    chexgen::ManifestOptions options;
    options.skip_bad = true;
    (void)chexgen::read_manifest(scratch() / "metadata.jsonl", options, errors);
  } catch (const chexgen::InputError&) {
  } catch (const chexgen::UsageError&) {
  }
  return 0;
}
