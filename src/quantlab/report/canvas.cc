#include "quantlab/report/canvas.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <sstream>

#include "quantlab/util/atomic_file.h"

namespace quantlab::report {
namespace {

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

Result<std::string> Finish(cairo_surface_t* surface, const DrawFn& draw, double w, double h, std::string* out,
                           bool png) {
  cairo_t* cr = cairo_create(surface);
  draw(cr, w, h);
  cairo_show_page(cr);
  const cairo_status_t draw_status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_status_t status = draw_status;
  if (png && status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream(surface, AppendToString, out);
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) return MakeError("cairo: {}", cairo_status_to_string(status));
  return *out;
}

}  // namespace

Result<std::string> RenderPng(double width, double height, const DrawFn& draw) {
  std::string out;
  cairo_surface_t* s =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(width), static_cast<int>(height));
  return Finish(s, draw, width, height, &out, true);
}

Result<std::string> RenderSvg(double width, double height, const DrawFn& draw) {
  std::string out;
  cairo_surface_t* s = cairo_svg_surface_create_for_stream(AppendToString, &out, width, height);
  return Finish(s, draw, width, height, &out, false);
}

Result<std::string> RenderPdf(double width, double height, const DrawFn& draw) {
  std::string out;
  cairo_surface_t* s = cairo_pdf_surface_create_for_stream(AppendToString, &out, width, height);
  cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "quantlab");
  return Finish(s, draw, width, height, &out, false);
}

Status WriteAtomically(const std::string& path, const std::string& bytes) {
  return WriteFileAtomically(path, std::as_bytes(std::span(bytes.data(), bytes.size())));
}

void SetFont(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double TextWidth(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  return ext.x_advance;
}

void DrawText(cairo_t* cr, double x, double y, const std::string& text, Align align) {
  const double w = TextWidth(cr, text);
  if (align == Align::kCenter) x -= w / 2;
  if (align == Align::kRight) x -= w;
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
}

double DrawWrapped(cairo_t* cr, double x, double y, double width, const std::string& text,
                   double line_height) {
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    const std::string candidate = line.empty() ? word : line + " " + word;
    if (!line.empty() && TextWidth(cr, candidate) > width) {
      DrawText(cr, x, y, line);
      y += line_height;
      line = word;
    } else {
      line = candidate;
    }
  }
  if (!line.empty()) {
    DrawText(cr, x, y, line);
    y += line_height;
  }
  return y;
}

Rgb PaletteColor(size_t index) {
  static constexpr Rgb kColors[] = {
      {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74},
      {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}, {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}};
  return kColors[index % (sizeof(kColors) / sizeof(kColors[0]))];
}

}  // namespace quantlab::report
