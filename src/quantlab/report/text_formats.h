// Tables as CSV, JSON, Markdown and HTML; HTML escaping; a word-level diff for the samples.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quantlab/analysis/analysis.h"

namespace quantlab::report {

// RFC 4180 CSV: a header row, then one line per row; numeric cells as their full-precision value.
std::string TableToCsv(const analysis::Table& table);
// {"id", "title", "note", "columns", "rows": [{column: number or text}]}.
nlohmann::json TableToJson(const analysis::Table& table);
std::string TableToMarkdown(const analysis::Table& table);
std::string TableToHtml(const analysis::Table& table);

std::string HtmlEscape(const std::string& text);

// Words of `text` marked as equal to / different from `base`, by a longest common subsequence of words.
struct DiffWord {
  std::string word;
  bool changed = false;
};
std::vector<DiffWord> WordDiff(const std::string& base, const std::string& text);
// `text` as HTML with the words that differ from `base` inside <mark>.
std::string HighlightDifferences(const std::string& base, const std::string& text);

}  // namespace quantlab::report
