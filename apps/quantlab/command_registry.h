// Subcommands register themselves: each apps/quantlab/cmd_<name>.cc defines a static
// `CommandRegistration` that adds its CLI11 subcommand and handler, so main.cc never changes when a
// subcommand is added.
#pragma once

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab::cli {

// Runs a parsed subcommand. Its error is printed and turned into the exit code in one place, main.cc:
// "quantlab NAME: error: MESSAGE", exit code 2 for ErrorKind::kUsage and 1 for any other error.
using CommandRunner = std::function<Status()>;

// Adds the subcommand's options to `app` (a subcommand already named) and returns its runner.
using CommandSetup = std::function<CommandRunner(CLI::App& app)>;

// A mistake in the command line itself (exit code 2), e.g. UsageError("unknown recipe '{}'", name).
template <typename... Args>
Error UsageError(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...), ErrorKind::kUsage};
}

// The same for an error from parsing an option's value, with the option named: "--weights: ...".
inline Error UsageError(std::string_view option, const Error& error) {
  return Error{fmt::format("{}: {}", option, error.message), ErrorKind::kUsage};
}

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandSpec>& Commands();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, CommandSetup setup) {
    Commands().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace quantlab::cli
