#include "quantlab/report/svg_ids.h"

#include <cctype>
#include <functional>

namespace quantlab::report {
namespace {

// One attribute of a start tag: its name, and where its value lies in the markup.
struct Attribute {
  std::string_view name;
  size_t value_begin = 0;
  size_t value_end = 0;
};

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
}

// Calls `on_attribute` for every quoted attribute of every start tag in `markup`, in order. Comments,
// CDATA sections, processing instructions and doctypes are skipped; unquoted values are left alone
// (neither cairo nor our HTML writes them).
void ForEachAttribute(std::string_view markup, const std::function<void(const Attribute&)>& on_attribute) {
  size_t pos = 0;
  while ((pos = markup.find('<', pos)) != std::string_view::npos) {
    if (markup.substr(pos, 4) == "<!--") {
      pos = markup.find("-->", pos);
      if (pos == std::string_view::npos) return;
      continue;
    }
    if (markup.substr(pos, 9) == "<![CDATA[") {
      pos = markup.find("]]>", pos);
      if (pos == std::string_view::npos) return;
      continue;
    }
    ++pos;
    if (pos < markup.size() && (markup[pos] == '/' || markup[pos] == '!' || markup[pos] == '?')) continue;
    while (pos < markup.size() && IsNameChar(markup[pos])) ++pos;  // the tag name
    // Attributes up to the closing '>' of the tag.
    while (pos < markup.size() && markup[pos] != '>') {
      if (!IsNameChar(markup[pos])) {
        ++pos;
        continue;
      }
      const size_t name_begin = pos;
      while (pos < markup.size() && IsNameChar(markup[pos])) ++pos;
      Attribute a{markup.substr(name_begin, pos - name_begin)};
      size_t p = pos;
      while (p < markup.size() && std::isspace(static_cast<unsigned char>(markup[p]))) ++p;
      if (p >= markup.size() || markup[p] != '=') continue;
      ++p;
      while (p < markup.size() && std::isspace(static_cast<unsigned char>(markup[p]))) ++p;
      if (p >= markup.size() || (markup[p] != '"' && markup[p] != '\'')) {
        pos = p;
        continue;
      }
      const size_t close = markup.find(markup[p], p + 1);
      if (close == std::string_view::npos) return;
      a.value_begin = p + 1;
      a.value_end = close;
      on_attribute(a);
      pos = close + 1;
    }
  }
}

bool IsHref(std::string_view name) {
  return name == "href" || (name.size() > 5 && name.substr(name.size() - 5) == ":href");
}

// `value` with the prefix inserted after every "url(#", "url('#" and "url(\"#".
std::string PrefixUrlReferences(std::string_view value, std::string_view prefix) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t url = value.find("url(", pos);
    if (url == std::string_view::npos) break;
    size_t hash = url + 4;
    if (hash < value.size() && (value[hash] == '\'' || value[hash] == '"')) ++hash;
    if (hash >= value.size() || value[hash] != '#') {
      out.append(value.substr(pos, hash - pos));
      pos = hash;
      continue;
    }
    out.append(value.substr(pos, hash + 1 - pos));
    out.append(prefix);
    pos = hash + 1;
  }
  out.append(value.substr(pos));
  return out;
}

}  // namespace

std::string PrefixSvgIds(std::string_view svg, std::string_view prefix) {
  std::string out;
  out.reserve(svg.size() + svg.size() / 8);
  size_t copied = 0;
  ForEachAttribute(svg, [&](const Attribute& a) {
    const std::string_view value = svg.substr(a.value_begin, a.value_end - a.value_begin);
    std::string rewritten;
    if (a.name == "id") {
      rewritten = std::string(prefix) + std::string(value);
    } else if (IsHref(a.name) && !value.empty() && value[0] == '#') {
      rewritten = "#" + std::string(prefix) + std::string(value.substr(1));
    } else if (value.find("url(") != std::string_view::npos) {
      rewritten = PrefixUrlReferences(value, prefix);
    } else {
      return;
    }
    out.append(svg.substr(copied, a.value_begin - copied));
    out.append(rewritten);
    copied = a.value_end;
  });
  out.append(svg.substr(copied));
  return out;
}

std::vector<std::string> ElementIds(std::string_view markup) {
  std::vector<std::string> ids;
  ForEachAttribute(markup, [&](const Attribute& a) {
    if (a.name == "id") ids.emplace_back(markup.substr(a.value_begin, a.value_end - a.value_begin));
  });
  return ids;
}

}  // namespace quantlab::report
