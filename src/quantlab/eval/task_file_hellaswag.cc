// HellaSwag's 6-lines-per-task text file (task_files.h).
#include <charconv>

#include "quantlab/eval/task_file_lines.h"
#include "quantlab/eval/task_files.h"

namespace quantlab {

Result<std::vector<HellaswagTask>> ParseHellaswag(std::string_view content, std::string_view name) {
  const std::vector<std::string_view> lines = SplitTaskFileLines(content).lines;
  if (lines.empty()) return MakeError("{}: no HellaSwag task (the file is empty)", name);
  if (lines.size() % 6 != 0) {
    return MakeError(
        "{}: {} lines, not a multiple of 6 (a HellaSwag task is 6 lines: context, right ending 0-3, 4 "
        "endings); task {} (from line {}) is incomplete",
        name, lines.size(), lines.size() / 6 + 1, lines.size() / 6 * 6 + 1);
  }
  std::vector<HellaswagTask> tasks(lines.size() / 6);
  for (size_t t = 0; t < tasks.size(); ++t) {
    HellaswagTask& task = tasks[t];
    task.index = t;
    task.line = static_cast<int>(6 * t + 1);
    task.context = lines[6 * t];
    // The reference reads the index with std::stoi: leading blanks, then digits; a '\r' may follow.
    std::string_view gold = lines[6 * t + 1];
    while (!gold.empty() && (gold.front() == ' ' || gold.front() == '\t')) gold.remove_prefix(1);
    while (!gold.empty() && (gold.back() == '\r' || gold.back() == ' ' || gold.back() == '\t'))
      gold.remove_suffix(1);
    const auto [end, ec] = std::from_chars(gold.data(), gold.data() + gold.size(), task.gold);
    if (ec != std::errc() || end != gold.data() + gold.size() || task.gold < 0 || task.gold > 3) {
      return MakeError("{}: task {} (line {}): the right ending's index '{}' is not 0, 1, 2 or 3", name,
                       t + 1, 6 * t + 2, lines[6 * t + 1]);
    }
    for (size_t e = 0; e < 4; ++e) task.endings[e] = lines[6 * t + 2 + e];
  }
  return tasks;
}

}  // namespace quantlab
