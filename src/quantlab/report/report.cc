#include "quantlab/report/report.h"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "quantlab/report/canvas.h"
#include "quantlab/report/text_formats.h"

namespace quantlab::report {
namespace {

nlohmann::json AnalysisJson(const analysis::LabResults& r, const analysis::Analysis& a) {
  nlohmann::json answers = nlohmann::json::array();
  for (const auto& ans : a.answers) {
    answers.push_back(
        {{"id", ans.id}, {"question", ans.question}, {"answer", ans.answer}, {"basis", ans.basis}});
  }
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : a.tables) tables.push_back(TableToJson(t));
  return {{"model", r.model_name},
          {"model_hash", r.model_hash},
          {"tool_version", r.tool_version},
          {"weights", {{"size", r.weights.size}, {"quality", r.weights.quality}, {"speed", r.weights.speed}}},
          {"recommendation", a.recommendation},
          {"reasoning", a.reasoning},
          {"caveats", a.caveats},
          {"winner", a.winner},
          {"speed_first_winner", a.speed_first_winner},
          {"sweet_spot", a.sweet_spot},
          {"eliminate", a.eliminate.format},
          {"quality_front", a.quality_front},
          {"findings", a.finding_texts},
          {"summary", a.summary},
          {"answers", answers},
          {"tables", tables}};
}

}  // namespace

Result<std::vector<std::string>> WriteReport(const analysis::LabResults& results,
                                             const analysis::Analysis& analysis, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "plots", ec);
  fs::create_directories(fs::path(dir) / "tables", ec);
  if (ec) return MakeError("{}: cannot create the report folders: {}", dir, ec.message());
  std::vector<std::string> written;
  auto write = [&](const fs::path& path, const std::string& bytes) -> Status {
    QL_RETURN_IF_ERROR(WriteAtomically(path.string(), bytes));
    written.push_back(path.string());
    return Ok();
  };

  std::vector<RenderedPlot> rendered;
  for (const auto& plot : BuildPlots(results, analysis)) {
    QL_ASSIGN_OR_RETURN(std::string png, RenderPng(plot.width, plot.height, plot.draw));
    QL_ASSIGN_OR_RETURN(std::string svg, RenderSvg(plot.width, plot.height, plot.draw));
    QL_RETURN_IF_ERROR(write(fs::path(dir) / "plots" / (plot.stem + ".png"), png));
    QL_RETURN_IF_ERROR(write(fs::path(dir) / "plots" / (plot.stem + ".svg"), svg));
    rendered.push_back({plot.stem, plot.title, std::move(svg)});
  }
  for (const auto& t : analysis.tables) {
    QL_RETURN_IF_ERROR(write(fs::path(dir) / "tables" / (t.id + ".csv"), TableToCsv(t)));
    QL_RETURN_IF_ERROR(
        write(fs::path(dir) / "tables" / (t.id + ".json"),
              TableToJson(t).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  }
  QL_RETURN_IF_ERROR(write(
      fs::path(dir) / "analysis.json",
      AnalysisJson(results, analysis).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  QL_RETURN_IF_ERROR(write(fs::path(dir) / "report.md", RenderMarkdown(results, analysis, rendered)));
  QL_RETURN_IF_ERROR(write(fs::path(dir) / "report.html", RenderHtml(results, analysis, rendered)));
  QL_ASSIGN_OR_RETURN(std::string pdf, RenderRecommendationPdf(results, analysis));
  QL_RETURN_IF_ERROR(write(fs::path(dir) / "recommendation.pdf", pdf));
  return written;
}

}  // namespace quantlab::report
