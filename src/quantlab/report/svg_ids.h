// Element ids in inlined SVG. cairo names the pieces of every SVG it writes the same way (glyph0-0,
// clip1, surface5, ...), so two cairo SVGs inlined in one HTML page share ids, and a browser resolves
// every reference to the first element with that id: each plot after the first is drawn with the first
// plot's glyphs. Prefixing every id and every reference to it with a name unique on the page keeps each
// plot self-contained.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quantlab::report {

// Returns `svg` with `prefix` put in front of every id="..." value and of every reference to an id in an
// attribute: href="#x" / xlink:href="#x" and url(#x) (as in clip-path, mask, fill, filter). Text
// content, comments and other attributes are copied unchanged.
std::string PrefixSvgIds(std::string_view svg, std::string_view prefix);

// The values of every id attribute in `markup` (HTML or XML), in document order, duplicates included.
std::vector<std::string> ElementIds(std::string_view markup);

}  // namespace quantlab::report
