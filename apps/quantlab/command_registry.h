// Subcommands register themselves: each apps/quantlab/cmd_<name>.cc defines a static
// `CommandRegistration` that adds its CLI11 subcommand and handler, so main.cc never changes when a
// subcommand is added.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace quantlab::cli {

// Adds the subcommand's options to `app` (a subcommand already named) and returns the function that
// runs it after parsing; the returned int is the process exit code.
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

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
