// Winogrande's CSV file (task_files.h), split into fields the way llama-perplexity splits it: the
// first four commas outside double quotes end the first four fields; the answer is the rest of the line.
#include <array>
#include <charconv>

#include "quantlab/eval/task_file_lines.h"
#include "quantlab/eval/task_files.h"

namespace quantlab {
namespace {

// Parses one line; on failure says why (without file or line, added by the caller).
Result<WinograndeTask> ParseLine(std::string_view line) {
  std::array<size_t, 4> comma{};
  int n_commas = 0;
  bool quoted = false;
  for (size_t i = 0; i < line.size() && n_commas < 4; ++i) {
    if (line[i] == '"') {
      quoted = !quoted;
    } else if (line[i] == ',' && !quoted) {
      comma[n_commas++] = i;
    }
  }
  if (n_commas != 4) {
    return MakeError("{} separating comma(s) outside quotes, need 4 (index,sentence,choice1,choice2,answer)",
                     n_commas);
  }
  std::string_view sentence = line.substr(comma[0] + 1, comma[1] - comma[0] - 1);
  if (!sentence.empty() && sentence.front() == '"') {
    // The reference drops the first and the last character of a quoted sentence.
    if (sentence.size() < 2) return MakeError("the quoted sentence is not closed");
    sentence = sentence.substr(1, sentence.size() - 2);
  }
  const size_t blank = sentence.find('_');
  if (blank == std::string_view::npos) return MakeError("the sentence has no '_' for the choices to fill");
  std::string_view answer = line.substr(comma[3] + 1);
  // Read like `istringstream >> int`: leading blanks, an integer, anything after it ignored.
  while (!answer.empty() && (answer.front() == ' ' || answer.front() == '\t')) answer.remove_prefix(1);
  WinograndeTask task;
  const auto [end, ec] = std::from_chars(answer.data(), answer.data() + answer.size(), task.answer);
  if (ec != std::errc() || task.answer < 1 || task.answer > 2) {
    return MakeError("the answer '{}' is not 1 or 2", line.substr(comma[3] + 1));
  }
  task.first = sentence.substr(0, blank);
  task.second = sentence.substr(blank + 1);
  task.choices[0] = line.substr(comma[1] + 1, comma[2] - comma[1] - 1);
  task.choices[1] = line.substr(comma[2] + 1, comma[3] - comma[2] - 1);
  return task;
}

bool AnswerIsNumber(std::string_view line) {
  const size_t last_comma = line.rfind(',');
  if (last_comma == std::string_view::npos) return false;
  std::string_view answer = line.substr(last_comma + 1);
  while (!answer.empty() && (answer.front() == ' ' || answer.front() == '\t')) answer.remove_prefix(1);
  int value = 0;
  return std::from_chars(answer.data(), answer.data() + answer.size(), value).ec == std::errc();
}

}  // namespace

Result<WinograndeFile> ParseWinogrande(std::string_view content, std::string_view name) {
  const TaskFileLines split = SplitTaskFileLines(content);
  WinograndeFile file;
  size_t n_read = split.lines.size();
  if (n_read > 0 && !split.last_has_newline) {
    file.ignored_last_line = static_cast<int>(n_read);
    --n_read;
  }
  for (size_t i = 0; i < n_read; ++i) {
    const int line_number = static_cast<int>(i + 1);
    if (i == 0 && !AnswerIsNumber(split.lines[0])) {
      file.header_line = 1;
      continue;
    }
    auto task = ParseLine(split.lines[i]);
    if (!task.ok()) {
      return MakeError("{}: task {} (line {}): {}", name, file.tasks.size() + 1, line_number,
                       task.error().message);
    }
    task->index = file.tasks.size();
    task->line = line_number;
    file.tasks.push_back(std::move(*task));
  }
  if (file.tasks.empty()) {
    return MakeError("{}: no Winogrande task{}", name,
                     file.ignored_last_line ? " (llama-perplexity never reads a last line that ends without "
                                              "a second newline; end the file with an empty line)"
                                            : "");
  }
  return file;
}

}  // namespace quantlab
