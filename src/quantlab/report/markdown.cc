#include <fmt/format.h>

#include <map>

#include "quantlab/report/report.h"
#include "quantlab/report/text_formats.h"

namespace quantlab::report {

std::string MachineLine(const analysis::LabResults& r) {
  const auto& m = r.machine;
  return fmt::format("Machine: {} ({} SIMD), {} threads used of {} logical CPUs, {} RAM, {}. quantlab {}.",
                     m.cpu_model.empty() ? "unknown CPU" : m.cpu_model, m.simd.empty() ? "unknown" : m.simd,
                     m.threads, m.logical_cpus, analysis::FormatBytes(static_cast<double>(m.ram_bytes)), m.os,
                     r.tool_version);
}

std::string RenderMarkdown(const analysis::LabResults& r, const analysis::Analysis& a,
                           const std::vector<RenderedPlot>& plots) {
  std::string md = fmt::format("# quantlab report: {}\n\n", r.model_name);
  md += fmt::format(
      "{} · formats: {} · data: {} · context {} tokens · {} tokens per sample ({}).\n\n", r.ReferenceText(),
      [&] {
        std::string s;
        for (const auto& f : r.formats) s += (s.empty() ? "" : ", ") + f.name;
        return s;
      }(),
      [&] {
        std::string s;
        for (const auto& d : r.datasets) s += (s.empty() ? "" : ", ") + d;
        return s;
      }(),
      r.context, r.generated_tokens, r.sampling);
  md += MachineLine(r) + "\n\n";
  md += fmt::format("## Recommendation: {}\n\n{}\n\n", a.recommendation.empty() ? "none" : a.recommendation,
                    a.reasoning);
  md += "Caveats:\n\n";
  for (const auto& c : a.caveats) md += "- " + c + "\n";
  md += "\n## In plain words\n\n" + a.summary + "\n\n## The lab's questions\n\n";
  for (const auto& ans : a.answers) {
    if (ans.id == "summary") continue;
    md += fmt::format("### {}\n\n{}\n\n*Based on:* {}\n\n", ans.question, ans.answer, ans.basis);
  }
  if (!a.finding_texts.empty()) {
    md += "### All findings\n\n";
    for (const auto& f : a.finding_texts) md += "- " + f + "\n";
    md += "\n";
  }
  md += "## Plots\n\n";
  for (const auto& p : plots) md += fmt::format("![{}](plots/{}.png)\n\n", p.title, p.stem);
  md += "## Tables\n\n";
  for (const auto& t : a.tables) {
    md += fmt::format("### {}\n\n{}\n\n{}\n(CSV: `tables/{}.csv`, JSON: `tables/{}.json`)\n\n", t.title,
                      t.note, TableToMarkdown(t), t.id, t.id);
  }
  md += "## Samples\n\n";
  std::map<int, std::string> prompts;
  for (const auto& s : r.samples) prompts[s.prompt_index] = s.prompt;
  for (const auto& [index, prompt] : prompts) {
    md += fmt::format("### Prompt {}: \"{}\"\n\n", index + 1, prompt);
    for (const auto& f : r.formats) {
      const auto* s = r.Sample(f.name, index);
      if (!s) continue;
      md += fmt::format("- **{}** (sampled): {}\n", f.name, s->sampled_text);
      md += fmt::format("  - greedy: {}\n", s->greedy_text);
    }
    md += "\n";
  }
  return md;
}

}  // namespace quantlab::report
