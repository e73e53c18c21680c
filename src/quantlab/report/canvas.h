// Rendering a drawing function to PNG, SVG or PDF bytes with cairo. Charts draw onto a cairo_t in a
// given rectangle and do not know which surface they end up on, so the same chart goes into a PNG file,
// an SVG file (inlined in the HTML report) and the one-page PDF.
#pragma once

#include <cairo.h>

#include <functional>
#include <string>

#include "quantlab/util/result.h"

namespace quantlab::report {

using DrawFn = std::function<void(cairo_t* cr, double width, double height)>;

Result<std::string> RenderPng(double width, double height, const DrawFn& draw);
Result<std::string> RenderSvg(double width, double height, const DrawFn& draw);
// A PDF of one page of `width` x `height` points.
Result<std::string> RenderPdf(double width, double height, const DrawFn& draw);

// Writes `bytes` to `path` atomically (temporary file + rename).
Status WriteAtomically(const std::string& path, const std::string& bytes);

// Text helpers on cairo's toy font API (DejaVu Sans where installed, the system sans otherwise).
void SetFont(cairo_t* cr, double size, bool bold = false);
double TextWidth(cairo_t* cr, const std::string& text);
enum class Align { kLeft, kCenter, kRight };
void DrawText(cairo_t* cr, double x, double y, const std::string& text, Align align = Align::kLeft);
// Draws `text` wrapped to `width`, starting with its first baseline at y; returns the y after the last line.
double DrawWrapped(cairo_t* cr, double x, double y, double width, const std::string& text,
                   double line_height);

struct Rgb {
  double r, g, b;
};
// A fixed palette so that a format has the same colour in every chart.
Rgb PaletteColor(size_t index);

}  // namespace quantlab::report
