// `quantlab report DIR`: re-renders a lab's report from its results database, measuring nothing.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "command_registry.h"
#include "quantlab/lab/lab.h"

namespace quantlab::cli {
namespace {

Status Report(const std::string& dir) {
  analysis::Analysis a;
  QL_ASSIGN_OR_RETURN(const auto files, lab::RenderLabReport(dir, std::nullopt, true, &a));
  for (const auto& f : files) fmt::print("wrote {}\n", f);
  fmt::print("Recommendation: {}\n", a.recommendation);
  return Ok();
}

CommandRegistration reg{"report", "Re-render a lab's report from its results database", [](CLI::App& app) {
                          auto dir = std::make_shared<std::string>();
                          app.add_option("dir", *dir, "The lab's output folder")->required();
                          return [dir] { return Report(*dir); };
                        }};

}  // namespace
}  // namespace quantlab::cli
