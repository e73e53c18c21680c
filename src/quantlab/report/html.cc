#include <fmt/format.h>

#include <map>

#include "quantlab/report/report.h"
#include "quantlab/report/svg_ids.h"
#include "quantlab/report/text_formats.h"

namespace quantlab::report {
namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555;font-size:.92em}
.rec{background:#eef6ee;border-left:6px solid #2a8a2a;padding:.8em 1.2em;margin:1em 0}
.rec h2{border:none;margin:.2em 0}
table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.88em}
.answer{margin:1em 0 1.4em}.basis{color:#555;font-size:.88em}
.plots svg{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.8em}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;font-size:.9em}
.sample h4{margin:.1em 0 .4em}.sample .label{color:#777;font-size:.85em}
mark{background:#ffe08a;padding:0 .1em}
)";

std::string StripXmlHeader(const std::string& svg) {
  const size_t start = svg.find("<svg");
  return start == std::string::npos ? svg : svg.substr(start);
}

}  // namespace

std::string RenderHtml(const analysis::LabResults& r, const analysis::Analysis& a,
                       const std::vector<RenderedPlot>& plots) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += fmt::format("<title>quantlab report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                   HtmlEscape(r.model_name), kStyle);
  h += fmt::format("<h1>quantlab report: {}</h1>\n", HtmlEscape(r.model_name));
  std::string formats, datasets;
  for (const auto& f : r.formats) formats += (formats.empty() ? "" : ", ") + f.name;
  for (const auto& d : r.datasets) datasets += (datasets.empty() ? "" : ", ") + d;
  h += fmt::format(
      "<p class=\"meta\">{} &middot; formats: {} &middot; data: {} &middot; context {} tokens "
      "&middot; {} tokens per sample ({})<br>{}</p>\n",
      HtmlEscape(r.ReferenceText()), HtmlEscape(formats), HtmlEscape(datasets), r.context, r.generated_tokens,
      HtmlEscape(r.sampling), HtmlEscape(MachineLine(r)));
  h += fmt::format(
      "<div class=\"rec\">\n<h2>Recommendation: {}</h2>\n<p>{}</p>\n<p><b>Caveats</b></p>\n<ul>\n",
      HtmlEscape(a.recommendation.empty() ? "none" : a.recommendation), HtmlEscape(a.reasoning));
  for (const auto& c : a.caveats) h += "<li>" + HtmlEscape(c) + "</li>\n";
  h += "</ul>\n</div>\n";
  h += "<h2>In plain words</h2>\n<p>" + HtmlEscape(a.summary) + "</p>\n";
  h += "<h2>The lab's questions</h2>\n";
  for (const auto& ans : a.answers) {
    if (ans.id == "summary") continue;
    h += fmt::format(
        "<div class=\"answer\" id=\"q-{}\">\n<h3>{}</h3>\n<p>{}</p>\n<p class=\"basis\">Based on: {}</p>\n",
        HtmlEscape(ans.id), HtmlEscape(ans.question), HtmlEscape(ans.answer), HtmlEscape(ans.basis));
    if (ans.id == "findings" && a.finding_texts.size() > 1) {
      h += "<ul>\n";
      for (const auto& f : a.finding_texts) h += "<li>" + HtmlEscape(f) + "</li>\n";
      h += "</ul>\n";
    }
    h += "</div>\n";
  }
  h += "<h2>Plots</h2>\n<div class=\"plots\">\n";
  // Each plot's ids get its stem as a prefix: cairo gives every SVG the same ids (see svg_ids.h).
  for (const auto& p : plots) {
    h += fmt::format("<figure id=\"plot-{}\">\n{}\n</figure>\n", p.stem,
                     StripXmlHeader(PrefixSvgIds(p.svg, p.stem + "-")));
  }
  h += "</div>\n<h2>Tables</h2>\n";
  for (const auto& t : a.tables) {
    h += fmt::format("<h3 id=\"t-{}\">{}</h3>\n<p class=\"note\">{}</p>\n{}", HtmlEscape(t.id),
                     HtmlEscape(t.title), HtmlEscape(t.note), TableToHtml(t));
  }
  h += "<h2>Samples</h2>\n<p class=\"note\">Words that differ from the base's text for the same prompt are "
       "<mark>highlighted</mark>. Sampled: " +
       HtmlEscape(r.sampling) + "; greedy: arg-max decoding, compared token by token.</p>\n";
  std::map<int, std::string> prompts;
  for (const auto& s : r.samples) prompts[s.prompt_index] = s.prompt;
  const analysis::FormatInfo* base = r.Base();
  for (const auto& [index, prompt] : prompts) {
    h += fmt::format("<h3>Prompt {}: &ldquo;{}&rdquo;</h3>\n<div class=\"samples\">\n", index + 1,
                     HtmlEscape(prompt));
    const auto* b = base ? r.Sample(base->name, index) : nullptr;
    for (const auto& f : r.formats) {
      const auto* s = r.Sample(f.name, index);
      if (!s) continue;
      const bool is_base = b == s;
      std::string agreement;
      for (const auto& row : a.FindTable("generation") ? a.FindTable("generation")->rows
                                                       : std::vector<std::vector<analysis::Cell>>{}) {
        if (row[0].text == f.name && row[1].value == index + 1) {
          agreement = fmt::format(" &middot; greedy agrees for {} tokens", row[2].text);
        }
      }
      h += fmt::format(
          "<div class=\"sample\"><h4>{}{}</h4><div class=\"label\">sampled{}</div><p>{}</p>"
          "<div class=\"label\">greedy</div><p>{}</p></div>\n",
          HtmlEscape(f.name), is_base ? " (base)" : "", agreement,
          is_base || !b ? HtmlEscape(s->sampled_text)
                        : HighlightDifferences(b->sampled_text, s->sampled_text),
          is_base || !b ? HtmlEscape(s->greedy_text) : HighlightDifferences(b->greedy_text, s->greedy_text));
    }
    h += "</div>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace quantlab::report
