// Runs the built quantlab executable for end-to-end CLI tests.
#pragma once

#include <string>

namespace quantlab::testing {

struct CommandOutcome {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string output;  // stdout, and stderr too unless it was discarded
};

enum class Stderr { kCapture, kDiscard };

// Runs `quantlab <args>` through the shell (arguments are not quoted for you).
CommandOutcome RunQuantlab(const std::string& args, Stderr stderr_mode = Stderr::kCapture);

}  // namespace quantlab::testing
