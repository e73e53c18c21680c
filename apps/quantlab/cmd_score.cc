// `quantlab score DIR --weights ...`: re-scores a finished lab with other weights, measuring nothing.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "command_registry.h"
#include "quantlab/lab/lab.h"
#include "quantlab/report/text_formats.h"

namespace quantlab::cli {
namespace {

struct ScoreArgs {
  std::string dir;
  std::string weights;
  bool write = false;
};

Status Score(const ScoreArgs& args) {
  std::optional<analysis::ScoreWeights> weights;
  if (!args.weights.empty()) {
    auto w = lab::ParseWeights(args.weights);
    if (!w.ok()) return UsageError("--weights", w.error());
    weights = *w;
  }
  analysis::Analysis a;
  QL_ASSIGN_OR_RETURN(const auto files, lab::RenderLabReport(args.dir, weights, args.write, &a));
  for (const char* id : {"score", "winner_map"}) {
    if (const auto* t = a.FindTable(id))
      fmt::print("{}\n{}\n{}\n", t->title, t->note, report::TableToMarkdown(*t));
  }
  for (const auto& ans : a.answers) {
    if (ans.id == "score") fmt::print("{}\n", ans.answer);
  }
  fmt::print("Winner: {}\nRecommendation: {}\n", a.winner, a.recommendation);
  for (const auto& f : files) fmt::print("wrote {}\n", f);
  return Ok();
}

CommandRegistration reg{
    "score", "Re-score a finished lab with other weights (no measuring)", [](CLI::App& app) {
      auto args = std::make_shared<ScoreArgs>();
      app.add_option("dir", args->dir, "The lab's output folder")->required();
      app.add_option("--weights", args->weights, "e.g. size=0.2,quality=0.3,speed=0.5");
      app.add_flag("--write", args->write, "Also re-render the report with these weights");
      return [args] { return Score(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
