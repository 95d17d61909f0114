// The neural-network stage (LibTorch) and the two programs that make up the chexgen command.
//
// Loading LibTorch costs ~0.6 s before main runs, so `chexgen` is built without it and starts at once. Its commands
// that need a network (extract --model, fidelity/privacy/utility probe --model, --text-model, --reid-model, reports
// score --chexbert, utility train and evaluate) stop where they would load one, and the program runs
// `chexgen-torch`, the same program built with the stage, in its place with the same arguments (see main.cpp). A
// user only ever types `chexgen`.
//
// The files that differ between the two programs are compiled twice, with CHEXGEN_NEURAL 0 (chexgen) and 1
// (chexgen-torch); they test it with #if at the few places that call into the stage.
#pragma once

#include <string>

namespace chexgen::cli {

// Thrown (not a std::exception, so that no handler mistakes it for an error) where `chexgen` would need the stage.
struct NeedsNeuralStage {
  std::string what;  // what asked for it, e.g. "extract --model"
};

[[noreturn]] inline void needs_neural_stage(std::string what) { throw NeedsNeuralStage{std::move(what)}; }

// Replaces this process by chexgen-torch from the folder this program lies in, with the same arguments. Returns only
// when it cannot (not found, not executable): then it prints why, and the caller exits with ExitCode::internal.
void run_neural_program(char** argv, const std::string& what);

}  // namespace chexgen::cli
