// report.html in a real browser: headless Chromium parses the page, and the test fails on duplicate ids
// (the bug that drew every plot after the first with the first plot's glyphs), on any console message
// (the page has no scripts, so every message is the browser complaining), on a screenshot that is blank
// or of the wrong size, and on an inlined plot that the browser draws differently from its PNG.
// Without Chromium the tests are skipped with the reason.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "analysis/constructed_lab.h"
#include "quantlab/report/report.h"
#include "quantlab/report/svg_ids.h"
#include "report/headless_chromium.h"
#include "support/paths.h"

namespace quantlab::report {
namespace {

namespace fs = std::filesystem;
using testing::BrowserPage;
using testing::Image;

constexpr int kPageWidth = 1280, kPageHeight = 9000;
// Of a plot's pixels, at most this fraction may differ from its PNG (see FarFromShot). Measured with
// Chromium 156: at most 0.07% when the plot is drawn right, 0.23-0.34% with another plot's glyphs.
constexpr double kMostDifferingPixels = 0.0012;

#define SKIP_WITHOUT_CHROMIUM(var)                                                                \
  const auto var = testing::FindChromium();                                                       \
  if (!var) {                                                                                     \
    GTEST_SKIP() << "chromium not found (set QUANTLAB_CHROMIUM or install Debian's chromium, as " \
                    "scripts/install-deps.sh does): report.html was NOT checked in a browser";    \
  }

std::vector<std::string> Duplicates(const std::vector<std::string>& ids) {
  std::map<std::string, int> count;
  for (const auto& id : ids) ++count[id];
  std::vector<std::string> dup;
  for (const auto& [id, n] : count) {
    if (n > 1) dup.push_back(id + " x" + std::to_string(n));
  }
  return dup;
}

std::string Joined(const std::vector<std::string>& v, size_t most = 8) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < most; ++i) s += (i ? "\n  " : "  ") + v[i];
  if (v.size() > most) s += "\n  ... " + std::to_string(v.size() - most) + " more";
  return s;
}

// The figures of report.html: stem (from <figure id="plot-STEM">) -> the figure's markup.
std::vector<std::pair<std::string, std::string>> Figures(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> figures;
  const std::string open = "<figure id=\"plot-";
  for (size_t pos = html.find(open); pos != std::string::npos; pos = html.find(open, pos + 1)) {
    const size_t stem_end = html.find('"', pos + open.size());
    const size_t end = html.find("</figure>", pos);
    if (stem_end == std::string::npos || end == std::string::npos) break;
    figures.emplace_back(html.substr(pos + open.size(), stem_end - pos - open.size()),
                         html.substr(pos, end + 9 - pos));
  }
  return figures;
}

// Checks the whole page as a reader sees it.
void CheckPage(const fs::path& chromium, const fs::path& report, const fs::path& work) {
  const BrowserPage page = testing::RenderInChromium(chromium, report, kPageWidth, kPageHeight, work);
  ASSERT_EQ(page.exit_code, 0) << "chromium failed on " << report << ":\n" << page.log;
  ASSERT_NE(page.dom.find("</html>"), std::string::npos) << "no DOM from " << report << ":\n" << page.log;
  const auto ids = ElementIds(page.dom);
  EXPECT_GT(ids.size(), 10u) << "the plots' ids are missing from the DOM";
  EXPECT_TRUE(Duplicates(ids).empty()) << report << ": ids used more than once:\n" << Joined(Duplicates(ids));
  EXPECT_TRUE(page.console.empty()) << report << ": console messages:\n" << Joined(page.console);

  const auto shot = testing::ReadPng(page.screenshot);
  ASSERT_TRUE(shot) << "no screenshot at " << page.screenshot;
  EXPECT_EQ(shot->width, kPageWidth);
  EXPECT_EQ(shot->height, kPageHeight);
  std::set<uint32_t> colours;
  size_t ink = 0;
  for (uint32_t p : shot->pixels) {
    colours.insert(p);
    if (testing::ChannelDifference(p, 0xffffffffu) > 40) ++ink;
  }
  // A page of text, tables and four plots: many colours and a few percent of dark pixels.
  EXPECT_GT(colours.size(), 200u) << "the screenshot is nearly uniform";
  EXPECT_GT(static_cast<double>(ink) / shot->pixels.size(), 0.01) << "the screenshot is nearly blank";
}

// A pixel of `png` that no pixel of `shot` within one pixel of the same place (offset by `top` rows)
// comes close to: anti-aliasing and glyph hinting differ between Skia and cairo along every edge by a
// pixel at most, while a wrong glyph or a missing line is a run of such pixels.
bool FarFromShot(const Image& png, const Image& shot, int x, int y, int top) {
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const int sx = x + dx, sy = y + dy;
      if (sx < 0 || sy < 0 || sx >= png.width || sy >= png.height) continue;
      if (testing::ChannelDifference(png.At(x, y), shot.At(sx, top + sy)) <= 128) return false;
    }
  }
  return true;
}

// Renders every inlined plot of `html` (a report.html), with its markup exactly as there, on one page
// at the size of its PNG in `report_dir`/plots, and returns per plot the fraction of pixels that differ
// from the PNG cairo wrote. Writes <stem>-diff.png (the differing pixels in red) into `work`.
std::vector<std::pair<std::string, double>> PlotDifferences(const fs::path& chromium, const std::string& html,
                                                            const fs::path& report_dir,
                                                            const fs::path& work) {
  std::vector<std::pair<std::string, double>> result;
  const auto figures = Figures(html);
  if (figures.size() < 2) {
    ADD_FAILURE() << "fewer than two <figure id=\"plot-...\"> in the report";
    return result;
  }
  std::string css = "body{margin:0;background:#fff}figure{margin:0}svg{display:block;border:0;margin:0}";
  std::string body;
  std::vector<std::pair<std::string, Image>> pngs;
  int width = 0, height = 0;
  for (const auto& [stem, markup] : figures) {
    auto png = testing::ReadPng(report_dir / "plots" / (stem + ".png"));
    if (!png) {
      ADD_FAILURE() << "plots/" << stem << ".png cannot be read";
      return result;
    }
    css += "#plot-" + stem + " svg{width:" + std::to_string(png->width) +
           "px;height:" + std::to_string(png->height) + "px;max-width:none}";
    body += markup + "\n";
    width = std::max(width, png->width);
    height += png->height;
    pngs.emplace_back(stem, std::move(*png));
  }
  fs::create_directories(work);
  const fs::path page_path = work / "plots.html";
  std::ofstream(page_path) << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>" << css
                           << "</style></head><body>\n"
                           << body << "</body></html>\n";
  const BrowserPage page = testing::RenderInChromium(chromium, page_path, width, height, work / "plots");
  EXPECT_EQ(page.exit_code, 0) << page.log;
  EXPECT_TRUE(page.console.empty()) << Joined(page.console);
  const auto shot = testing::ReadPng(page.screenshot);
  if (!shot || shot->width != width || shot->height != height) {
    ADD_FAILURE() << "no screenshot of the plots of " << width << " x " << height << " pixels";
    return result;
  }
  int top = 0;
  for (const auto& [stem, png] : pngs) {
    size_t far = 0;
    Image diff = png;  // the PNG faded, with the differing pixels in red
    for (int y = 0; y < png.height; ++y) {
      for (int x = 0; x < png.width; ++x) {
        const bool differs = FarFromShot(png, *shot, x, y, top);
        far += differs;
        diff.pixels[static_cast<size_t>(y) * png.width + x] =
            differs ? 0xffff0000u : (png.At(x, y) & 0x3fffffffu);
      }
    }
    testing::WritePng(diff, work / (stem + "-diff.png"));
    result.emplace_back(stem, static_cast<double>(far) / (static_cast<double>(png.width) * png.height));
    top += png.height;
  }
  return result;
}

// Every plot as the browser draws it matches its PNG.
void CheckPlotsMatchPngs(const fs::path& chromium, const fs::path& report_dir, const fs::path& work) {
  const auto differences =
      PlotDifferences(chromium, testing::ReadAll(report_dir / "report.html"), report_dir, work);
  EXPECT_GE(differences.size(), 2u);
  for (const auto& [stem, fraction] : differences) {
    EXPECT_LT(fraction, kMostDifferingPixels)
        << stem << ": " << fraction * 100 << "% of the browser's pixels differ from plots/" << stem << ".png";
  }
}

// QUANTLAB_TEST_BROWSER_DIR=/tmp/x keeps the screenshots and the plots' difference images there.
fs::path WorkDir(const quantlab::testing::TempDir& temp, const std::string& name) {
  const char* keep = std::getenv("QUANTLAB_TEST_BROWSER_DIR");
  return keep && *keep ? fs::path(keep) / name : temp / name;
}

TEST(BrowserTest, ReportHtmlRendersInChromium) {
  SKIP_WITHOUT_CHROMIUM(chromium);
  auto lab = analysis::MakeLab(analysis::Typical());
  analysis::AddSamples(lab);
  lab.tool_version = "test";
  const auto a = analysis::Analyze(lab);
  quantlab::testing::TempDir dir;
  auto written = WriteReport(lab, a, (dir / "report").string());
  ASSERT_TRUE(written.ok()) << written.error().message;
  CheckPage(*chromium, dir / "report" / "report.html", WorkDir(dir, "page"));
  CheckPlotsMatchPngs(*chromium, dir / "report", WorkDir(dir, "plots"));
}

// The comparison has teeth: with the ids as cairo wrote them (the old report.html), every plot after the
// first is drawn with the first plot's glyphs and differs from its PNG.
TEST(BrowserTest, PlotComparisonCatchesClashingIds) {
  SKIP_WITHOUT_CHROMIUM(chromium);
  auto lab = analysis::MakeLab(analysis::Typical());
  const auto a = analysis::Analyze(lab);
  quantlab::testing::TempDir dir;
  ASSERT_TRUE(WriteReport(lab, a, (dir / "report").string()).ok());
  std::string html = testing::ReadAll(dir / "report" / "report.html");
  for (const char* stem : {"size_vs_ppl", "size_vs_speed", "kld", "winner_map"}) {
    const std::string prefix = std::string(stem) + "-";
    for (size_t pos = html.find(prefix); pos != std::string::npos; pos = html.find(prefix, pos))
      html.erase(pos, prefix.size());
  }
  const auto ids = ElementIds(html);
  ASSERT_FALSE(Duplicates(ids).empty()) << "stripping the prefixes should bring the clash back";
  const auto differences = PlotDifferences(*chromium, html, dir / "report", WorkDir(dir, "clashing"));
  ASSERT_EQ(differences.size(), 4u);
  EXPECT_LT(differences[0].second, kMostDifferingPixels) << "the first plot owns the ids it uses";
  for (size_t i = 1; i < differences.size(); ++i) {
    EXPECT_GT(differences[i].second, kMostDifferingPixels)
        << differences[i].first << " drawn with wrong glyphs passed";
  }
}

// The committed example report (docs/report-example/), as a reader of the repository opens it.
TEST(BrowserTest, ExampleReportRendersInChromium) {
  SKIP_WITHOUT_CHROMIUM(chromium);
  const fs::path example =
      (testing::TestDataPath("") / ".." / ".." / "docs" / "report-example").lexically_normal();
  if (!fs::exists(example / "report.html")) {
    GTEST_SKIP() << example / "report.html"
                 << " is not committed: regenerate docs/report-example/";
  }
  quantlab::testing::TempDir dir;
  CheckPage(*chromium, example / "report.html", WorkDir(dir, "example-page"));
  CheckPlotsMatchPngs(*chromium, example, WorkDir(dir, "example-plots"));
}

}  // namespace
}  // namespace quantlab::report
