#include "support/run_quantlab.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "support/paths.h"

namespace quantlab::testing {

CommandOutcome RunQuantlab(const std::string& args, Stderr stderr_mode) {
  const std::string command =
      QuantlabBinary().string() + " " + args + (stderr_mode == Stderr::kCapture ? " 2>&1" : " 2>/dev/null");
  CommandOutcome outcome;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) outcome.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace quantlab::testing
