// Well-formedness checks for report files, shared by the report, lab and CLI tests.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace quantlab::testing {

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool IsPng(const std::string& bytes) {
  return bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0 && bytes.size() > 100;
}
inline bool IsSvg(const std::string& bytes) {
  return bytes.find("<svg") != std::string::npos && bytes.find("</svg>") != std::string::npos;
}

// Pages of a PDF: "/Type /Page" objects that are not "/Type /Pages".
inline int PdfPageCount(const std::string& bytes) {
  int pages = 0;
  for (size_t pos = bytes.find("/Type /Page"); pos != std::string::npos;
       pos = bytes.find("/Type /Page", pos + 1)) {
    if (bytes.compare(pos, 12, "/Type /Pages") != 0) ++pages;
  }
  return pages;
}

// Every opened tag is closed in order (void elements and self-closing tags excepted). Returns an empty
// string when balanced, else what went wrong.
inline std::string HtmlBalanceError(const std::string& html) {
  static const std::vector<std::string> kVoid = {"meta", "br",    "img",      "hr",
                                                 "link", "input", "!doctype", "?xml"};
  std::vector<std::string> stack;
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const size_t end = html.find('>', pos);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(pos);
    std::string tag = html.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.rfind("!--", 0) == 0) continue;
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    std::string name;
    for (size_t i = closing ? 1 : 0;
         i < tag.size() && !std::isspace(static_cast<unsigned char>(tag[i])) && tag[i] != '/'; ++i) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(tag[i])));
    }
    if (self_closing || std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end()) continue;
    if (name == "style" && !closing) {  // CSS may contain '>' selectors: skip to </style>.
      pos = html.find("</style>", pos);
      if (pos == std::string::npos) return "unclosed <style>";
      pos += 8;
      continue;
    }
    if (!closing) {
      stack.push_back(name);
    } else {
      if (stack.empty() || stack.back() != name) {
        return "</" + name + "> closes <" + (stack.empty() ? std::string("nothing") : stack.back()) + ">";
      }
      stack.pop_back();
    }
  }
  return stack.empty() ? "" : "<" + stack.back() + "> never closed";
}

inline int LineCount(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace quantlab::testing
