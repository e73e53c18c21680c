// Rendering a page in headless Chromium for the report's browser tests: the DOM as the browser parsed
// it, every message the page wrote to the console, and a screenshot of a window of a given size.
#pragma once

#include <cairo.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "report/report_checks.h"

namespace quantlab::testing {

// $QUANTLAB_CHROMIUM, else `chromium` (Debian's package) or `chromium-browser` on the PATH.
inline std::optional<std::filesystem::path> FindChromium() {
  if (const char* env = std::getenv("QUANTLAB_CHROMIUM"); env && *env) {
    if (std::filesystem::exists(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const auto candidate = std::filesystem::path(dir) / name;
      if (std::filesystem::exists(candidate)) return candidate;
    }
  }
  return std::nullopt;
}

struct BrowserPage {
  int exit_code = -1;
  std::string dom;                   // document.documentElement.outerHTML after loading
  std::vector<std::string> console;  // console messages: errors, warnings and logs alike
  std::filesystem::path screenshot;  // PNG of the window
  std::string log;                   // Chromium's whole stderr, for failure messages
};

// Loads `page` in a `width` x `height` window. `work` holds the profile, the outputs and the screenshot.
inline BrowserPage RenderInChromium(const std::filesystem::path& chromium, const std::filesystem::path& page,
                                    int width, int height, const std::filesystem::path& work) {
  namespace fs = std::filesystem;
  fs::create_directories(work);
  BrowserPage out;
  out.screenshot = work / "screenshot.png";
  auto quote = [](const fs::path& p) { return "'" + p.string() + "'"; };
  // --enable-logging=stderr --v=0 makes Chromium print each console message as a line with ":CONSOLE";
  // a private profile keeps parallel runs apart; timeout ends a browser that hangs.
  const std::string command = "timeout 120 " + quote(chromium) +
                              " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
                              " --enable-logging=stderr --v=0 --user-data-dir=" +
                              quote(work / "profile") + " --window-size=" + std::to_string(width) + "," +
                              std::to_string(height) + " --screenshot=" + quote(out.screenshot) +
                              " --dump-dom " + quote("file://" + fs::absolute(page).string()) + " > " +
                              quote(work / "dom.html") + " 2> " + quote(work / "stderr.txt");
  const int status = std::system(command.c_str());
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.dom = ReadAll(work / "dom.html");
  out.log = ReadAll(work / "stderr.txt");
  std::stringstream lines(out.log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(":CONSOLE") != std::string::npos) out.console.push_back(line);
  }
  return out;
}

// A decoded PNG as 0xAARRGGBB pixels (cairo's layout), or nothing when it cannot be read.
struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;
  uint32_t At(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

inline std::optional<Image> ReadPng(const std::filesystem::path& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return std::nullopt;
  }
  cairo_surface_flush(s);
  Image img;
  img.width = cairo_image_surface_get_width(s);
  img.height = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  const bool opaque = cairo_image_surface_get_format(s) == CAIRO_FORMAT_RGB24;
  for (int y = 0; y < img.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
    for (int x = 0; x < img.width; ++x) img.pixels.push_back(opaque ? (row[x] | 0xff000000u) : row[x]);
  }
  cairo_surface_destroy(s);
  return img;
}

inline bool WritePng(const Image& img, const std::filesystem::path& path) {
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, img.width, img.height);
  const int stride = cairo_image_surface_get_stride(s);
  unsigned char* data = cairo_image_surface_get_data(s);
  for (int y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
    for (int x = 0; x < img.width; ++x) row[x] = img.At(x, y);
  }
  cairo_surface_mark_dirty(s);
  const bool ok = cairo_surface_write_to_png(s, path.c_str()) == CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(s);
  return ok;
}

// The largest difference of one colour channel between two pixels (0..255).
inline int ChannelDifference(uint32_t a, uint32_t b) {
  int most = 0;
  for (int shift : {0, 8, 16}) {
    const int d = static_cast<int>((a >> shift) & 0xff) - static_cast<int>((b >> shift) & 0xff);
    most = std::max(most, d < 0 ? -d : d);
  }
  return most;
}

}  // namespace quantlab::testing
