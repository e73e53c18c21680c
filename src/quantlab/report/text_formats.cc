#include "quantlab/report/text_formats.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace quantlab::report {
namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvValue(const analysis::Cell& c) {
  if (std::isfinite(c.value)) return fmt::format("{}", c.value);
  return CsvField(c.text);
}

std::string MdEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

}  // namespace

std::string TableToCsv(const analysis::Table& table) {
  std::string out;
  for (size_t i = 0; i < table.columns.size(); ++i) out += (i ? "," : "") + CsvField(table.columns[i]);
  out += "\n";
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvValue(row[i]);
    out += "\n";
  }
  return out;
}

nlohmann::json TableToJson(const analysis::Table& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json r = nlohmann::json::object();
    for (size_t i = 0; i < row.size() && i < table.columns.size(); ++i) {
      if (std::isfinite(row[i].value)) {
        r[table.columns[i]] = row[i].value;
      } else {
        r[table.columns[i]] = row[i].text;
      }
    }
    rows.push_back(r);
  }
  return {{"id", table.id},
          {"title", table.title},
          {"note", table.note},
          {"columns", table.columns},
          {"rows", rows}};
}

std::string TableToMarkdown(const analysis::Table& table) {
  std::string out = "| ";
  for (const auto& c : table.columns) out += MdEscape(c) + " | ";
  out += "\n|";
  for (size_t i = 0; i < table.columns.size(); ++i) out += i == 0 ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "| ";
    for (const auto& c : row) out += MdEscape(c.text) + " | ";
    out += "\n";
  }
  return out;
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TableToHtml(const analysis::Table& table) {
  std::string out = "<table>\n<thead><tr>";
  for (const auto& c : table.columns) out += "<th>" + HtmlEscape(c) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      out += std::isfinite(row[i].value) ? "<td class=\"num\">" : "<td>";
      out += HtmlEscape(row[i].text) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::vector<DiffWord> WordDiff(const std::string& base, const std::string& text) {
  const auto a = SplitWords(base);
  const auto b = SplitWords(text);
  // lcs[i][j] = LCS length of a[i..] and b[j..].
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<DiffWord> out;
  size_t i = 0, j = 0;
  while (j < b.size()) {
    if (i < a.size() && a[i] == b[j]) {
      out.push_back({b[j], false});
      ++i;
      ++j;
    } else if (i < a.size() && lcs[i + 1][j] >= lcs[i][j + 1]) {
      ++i;
    } else {
      out.push_back({b[j], true});
      ++j;
    }
  }
  return out;
}

std::string HighlightDifferences(const std::string& base, const std::string& text) {
  std::string out;
  for (const auto& w : WordDiff(base, text)) {
    if (!out.empty()) out += ' ';
    out += w.changed ? "<mark>" + HtmlEscape(w.word) + "</mark>" : HtmlEscape(w.word);
  }
  return out;
}

}  // namespace quantlab::report
