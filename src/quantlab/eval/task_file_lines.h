// Splitting a task file into lines the way llama-perplexity sees them after -f: one trailing '\n'
// dropped, then std::getline on '\n' (no empty line after a final '\n').
#pragma once

#include <string_view>
#include <vector>

namespace quantlab {

struct TaskFileLines {
  std::vector<std::string_view> lines;
  bool last_has_newline = false;  // whether the last line is followed by '\n' (after the drop)
};

inline TaskFileLines SplitTaskFileLines(std::string_view content) {
  if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
  TaskFileLines result;
  size_t start = 0;
  while (start < content.size()) {
    const size_t end = content.find('\n', start);
    if (end == std::string_view::npos) {
      result.lines.push_back(content.substr(start));
      result.last_has_newline = false;
      return result;
    }
    result.lines.push_back(content.substr(start, end - start));
    result.last_has_newline = true;
    start = end + 1;
  }
  return result;
}

}  // namespace quantlab
