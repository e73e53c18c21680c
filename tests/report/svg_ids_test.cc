#include "quantlab/report/svg_ids.h"

#include <gtest/gtest.h>

#include <set>

#include "quantlab/report/canvas.h"
#include "quantlab/report/report.h"

namespace quantlab::report {
namespace {

// Every "#name" that an attribute refers to: href="#x", xlink:href="#x", url(#x).
std::vector<std::string> References(const std::string& svg) {
  std::vector<std::string> refs;
  for (const std::string& lead : {std::string("href=\"#"), std::string("url(#")}) {
    for (size_t pos = svg.find(lead); pos != std::string::npos; pos = svg.find(lead, pos + 1)) {
      const size_t begin = pos + lead.size();
      const size_t end = svg.find_first_of("\")", begin);
      refs.push_back(svg.substr(begin, end - begin));
    }
  }
  return refs;
}

std::string TextSvg(const std::string& text) {
  auto svg = RenderSvg(200, 60, [&](cairo_t* cr, double, double) {
    SetFont(cr, 14);
    DrawText(cr, 10, 30, text);
    cairo_rectangle(cr, 5, 5, 50, 50);
    cairo_clip(cr);
    cairo_paint(cr);
  });
  EXPECT_TRUE(svg.ok());
  return svg.ok() ? *svg : "";
}

TEST(SvgIdsTest, PrefixesIdsAndEveryKindOfReference) {
  const std::string svg =
      "<svg><!-- id=\"c\" --><symbol id=\"glyph0-0\"/><use xlink:href=\"#glyph0-0\" x=\"1\"/>"
      "<a href=\"#s\">id=\"text\"</a><a href=\"https://example.org/#x\"/>"
      "<g clip-path=\"url(#clip1)\" style=\"fill:url('#p');stroke:url(&quot;#q&quot;)\"/></svg>";
  EXPECT_EQ(
      PrefixSvgIds(svg, "kld-"),
      "<svg><!-- id=\"c\" --><symbol id=\"kld-glyph0-0\"/><use xlink:href=\"#kld-glyph0-0\" x=\"1\"/>"
      "<a href=\"#kld-s\">id=\"text\"</a><a href=\"https://example.org/#x\"/>"
      "<g clip-path=\"url(#kld-clip1)\" style=\"fill:url('#kld-p');stroke:url(&quot;#q&quot;)\"/></svg>");
  EXPECT_EQ(ElementIds(svg), (std::vector<std::string>{"glyph0-0"}));
}

TEST(SvgIdsTest, TwoCairoSvgsClashUntilPrefixed) {
  const std::string a = TextSvg("Size vs speed"), b = TextSvg("perplexity");
  auto ids = ElementIds(a + b);
  ASSERT_FALSE(ids.empty());
  EXPECT_LT(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size())
      << "cairo's ids no longer clash";

  const std::string pa = PrefixSvgIds(a, "a-"), pb = PrefixSvgIds(b, "b-");
  ids = ElementIds(pa + pb);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  // Every reference still finds its element, in its own plot.
  for (const auto& [svg, prefix] : {std::pair{pa, std::string("a-")}, std::pair{pb, std::string("b-")}}) {
    const auto own = ElementIds(svg);
    const auto refs = References(svg);
    ASSERT_FALSE(refs.empty());
    for (const auto& ref : refs) {
      EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
      EXPECT_NE(std::find(own.begin(), own.end(), ref), own.end()) << ref << " points nowhere";
    }
  }
}

TEST(SvgIdsTest, HtmlReportInlinesPlotsWithUniqueIds) {
  analysis::LabResults lab;
  lab.model_name = "m";
  const std::string svg = TextSvg("same glyphs in both");
  const std::string html = RenderHtml(lab, analysis::Analysis{}, {{"one", "One", svg}, {"two", "Two", svg}});
  const auto ids = ElementIds(html);
  EXPECT_GT(ids.size(), 4u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_NE(html.find("<figure id=\"plot-two\">"), std::string::npos);
}

}  // namespace
}  // namespace quantlab::report
