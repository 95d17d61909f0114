// chexgen generate: a prompt manifest in, synthetic images out, through an OpenAI-compatible images endpoint or the
// user's own command, with deterministic seeds and file names, a journal for resuming, and the manifests the other
// suites read (docs/generate.md).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/curation/generate.h"
#include "chexgen/curation/http_client.h"
#include "cli/commands.h"
#include "cli/http_args.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct GenerateArgs {
  std::string manifest;
  std::string out;
  std::string command, seed_field;
  int per_prompt = 0;
  std::vector<std::int64_t> seeds;
  std::int64_t seed = 0;
  std::string size = "512x512";
  int batch_size = 8;
  HttpArgs http;
  ManifestArgs manifest_args;
};

// Options that only one backend reads; giving them to the other is a mistake worth saying.
void check_backend_options(const CLI::App& cmd, const GenerateArgs& a) {
  const bool api = !a.http.base_url.empty();
  if (api == !a.command.empty()) throw UsageError("give either --base-url (an images API) or --command (a script)");
  if (api && a.http.model.empty()) throw UsageError("--base-url needs --model (the model name the server serves)");
  const std::vector<std::string> api_only{"--seed-field", "--concurrency",  "--api-key-env",
                                          "--timeout",    "--max-attempts", "--backoff"};
  const std::vector<std::string> command_only{"--batch-size"};
  for (const std::string& name : api ? command_only : api_only) {
    if (cmd.count(name) > 0) {
      throw UsageError(fmt::format("{} applies to the {} backend only, not with {}", name,
                                   api ? "command (--command)" : "images API (--base-url)",
                                   api ? "--base-url" : "--command"));
    }
  }
}

// Images per prompt: far beyond any benchmark (SynthCheX-75K has one), small enough that a plan always fits in memory.
constexpr int kMaxPerPrompt = 10000;

int run_generate(const CLI::App& cmd, const GenerateArgs& a, const GlobalOptions& global) {
  check_backend_options(cmd, a);
  const ImageSize size = parse_image_size(a.size);

  GenerationOptions options;
  options.size = size;
  if (!a.http.base_url.empty()) {
    ImagesApiBackend api;
    api.base_url = a.http.base_url;
    api.model = a.http.model;
    api.api_key = api_key_from_env(a.http.api_key_env);
    api.seed_field = a.seed_field;
    api.retry = a.http.policy();
    api.concurrency = a.http.concurrency;
    api.jitter_seed = a.http.jitter_seed;
    // Checks the URL and the retry options before the manifest is read (generate_images makes its own client).
    ApiClient probe(api.base_url, api.api_key, api.retry);
    options.backend = api;
  } else {
    if (a.batch_size < 1) throw UsageError(fmt::format("--batch-size must be at least 1, got {}", a.batch_size));
    options.backend = CommandBackend{a.command, a.batch_size, a.http.model};
  }

  GenerationPlanOptions plan_options;
  plan_options.per_prompt = a.per_prompt;
  plan_options.seeds = a.seeds;
  plan_options.base_seed = a.seed;
  plan_options.ids_from_column = !a.manifest_args.id_column.empty();
  if (cmd.count("--per-prompt") > 0 && (a.per_prompt < 1 || a.per_prompt > kMaxPerPrompt)) {
    throw UsageError(fmt::format("--per-prompt must be 1..{}, got {}", kMaxPerPrompt, a.per_prompt));
  }
  if (a.seeds.size() > static_cast<std::size_t>(kMaxPerPrompt))
    throw UsageError(fmt::format("--seeds: at most {} seeds (images per prompt), got {}", kMaxPerPrompt, a.seeds.size()));

  const ManifestOptions manifest_options = a.manifest_args.options();
  ErrorReport errors;
  const Dataset dataset = read_manifest_or_report(a.manifest, manifest_options, errors);
  GenerationPlan plan;
  try {
    plan = plan_generations(dataset, plan_options, errors);
  } catch (const InputError&) {
    if (errors.size() > 1) {
      print_errors(errors);
      fmt::print(stderr, "chexgen: {}: {} bad row(s); nothing was generated\n", a.manifest, errors.size());
    }
    throw;
  }

  std::unique_ptr<Progress> progress;
  options.callbacks.started = [&](std::size_t n_to_generate, std::size_t n_from_journal) {
    if (!global.quiet && n_from_journal > 0) {
      fmt::print(stderr, "generate: {} of {} image(s) are already in {} (journal.jsonl); {} to make\n", n_from_journal,
                 plan.jobs.size(), a.out, n_to_generate);
    }
    if (n_to_generate == 0) return;
    progress =
        std::make_unique<Progress>("generate: " + a.manifest, n_to_generate, ProgressOptions{.enabled = !global.quiet});
  };
  options.callbacks.image_done = [&] {
    if (progress) progress->advance();
  };
  options.callbacks.log = [&](const std::string& line) {
    if (!global.quiet) fmt::print(stderr, "{}\n", line);
  };

  GenerationRun run;
  try {
    run = generate_images(dataset, plan, a.out, options);
  } catch (const ServiceError&) {
    if (progress) progress->finish();
    fmt::print(stderr,
               "chexgen: the images finished so far are journaled in {}/journal.jsonl; rerunning the same "
               "command continues from there\n",
               a.out);
    throw;
  }
  if (progress) progress->finish();

  fmt::print(
      "generated {} image(s) for {} prompt(s) x {} seed(s) into {}/images ({} made now, {} from an earlier "
      "run)\n",
      run.n_images, run.n_prompts, plan.per_prompt, a.out, run.n_generated, run.n_from_journal);
  if (std::holds_alternative<ImagesApiBackend>(options.backend)) {
    fmt::print("{} request(s), {} retr{}, {:.1f} s\n", run.requests, run.retries, run.retries == 1 ? "y" : "ies",
               run.elapsed_s);
  } else {
    fmt::print("{} command run(s), {:.1f} s\n", run.commands_run, run.elapsed_s);
  }
  fmt::print("wrote {0}/generations.csv, {0}/images/prompt_INFO.csv and {0}/generation.json\n", a.out);
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd =
      app.add_subcommand("generate",
                         "Generate images from a prompt manifest through an OpenAI-compatible images API or your own "
                         "command, with deterministic seeds and file names; resumable (docs/generate.md)");
  cmd->add_option("manifest", args->manifest, "Prompt manifest (any manifest with a prompt per row)")->required();
  cmd->add_option("--out", args->out, "Output folder: images/, generations.csv, generation.json, journal.jsonl")
      ->required();
  // The images API backend, then the command backend, then what both share.
  add_http_options(cmd, args->http, /*required=*/false);
  cmd->add_option("--seed-field", args->seed_field,
                  "Images API: send the seed in this request field (e.g. seed); without it no seed is sent");
  cmd->add_option("--command", args->command,
                  "Command template run per batch through /bin/sh, with {prompts_file} {seeds_file} {names_file} "
                  "{jobs_file} {out_dir} {width} {height} replaced (paths quoted)");
  cmd->add_option("--batch-size", args->batch_size, "Images per command run (--command)")->default_val(8);
  cmd->add_option("--per-prompt", args->per_prompt, "Images per prompt, K (default: the number of --seeds, else 1)");
  auto* seeds =
      cmd->add_option("--seeds", args->seeds, "Seeds, comma-separated: seeds[k] for the k-th image of every prompt")
          ->delimiter(',');
  auto* seed =
      cmd->add_option("--seed", args->seed, "First seed: image k of every prompt gets seed S + k")->default_val(0);
  seeds->excludes(seed);
  cmd->add_option("--size", args->size, "Image size WIDTHxHEIGHT; an image of another size is an error")
      ->default_val("512x512");
  add_manifest_options(cmd, args->manifest_args);
  cmd->callback([cmd, args, &global, &exit_code] { exit_code = run_generate(*cmd, *args, global); });
}

}  // namespace chexgen::cli
