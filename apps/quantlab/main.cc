// quantlab: which quantization of my model should I ship? One executable, one subcommand per step.
#include <fmt/core.h>

#include <algorithm>
#include <exception>
#include <map>

#include "command_registry.h"

namespace quantlab::cli {
std::vector<CommandSpec>& Commands() {
  static std::vector<CommandSpec> commands;
  return commands;
}
}  // namespace quantlab::cli

namespace {

// An exception escaping a command (e.g. std::bad_alloc) becomes an error like any other.
quantlab::Status RunCatching(const quantlab::cli::CommandRunner& run) {
  try {
    return run();
  } catch (const std::exception& e) {
    return quantlab::Error{e.what()};
  }
}

// The one place a command's outcome becomes the process's: the message, and 0, 1 or 2.
int ExitCode(const std::string& command, const quantlab::Status& status) {
  if (status.ok()) return 0;
  fmt::print(stderr, "quantlab {}: error: {}\n", command, status.error().message);
  return status.error().kind == quantlab::ErrorKind::kUsage ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace quantlab::cli;
  CLI::App app{"quantlab — measure which quantization of an LLM to ship"};
  app.set_version_flag("--version", std::string("quantlab ") + QUANTLAB_VERSION);
  app.require_subcommand(1);

  auto& commands = Commands();
  std::sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, CommandRunner> runners;
  for (auto& spec : commands) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners[sub] = spec.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return ExitCode(sub->get_name(), RunCatching(run));
  }
  return 1;
}
