// The three task files llama-perplexity (llama.cpp c392e50) scores, read exactly as it reads them, so
// that the same file gives the same tasks:
//
// - HellaSwag (--hellaswag): text, 6 lines per task: the context, the index of the right ending (0-3),
//   then the 4 endings. Lines are split at '\n' only (a '\r' stays part of the line).
// - Winogrande (--winogrande): CSV, one task per line: index,sentence,choice1,choice2,answer where the
//   sentence holds one '_' (the blank the choices fill) and may be quoted ("..." with commas inside),
//   the answer is 1 or 2. The choices are taken as they stand (never unquoted).
// - Multiple choice (--multiple-choice): binary, little-endian: uint32 n_tasks, uint32 byte offset of
//   each task, then the tasks; a task is a string (uint32 length + bytes) question, then two answer
//   sets, each uint32 n (at most 100), n strings and n int32 labels (1 = a right answer). Only the
//   first set is scored (the second, "several right answers", is read and skipped, as llama does).
//
// llama-perplexity reads text files with -f, which drops one trailing '\n'. Its Winogrande reader then
// never reads a last line that ends without '\n' (std::getline sets eof on it and the loop stops), so a
// CSV file whose last line ends in a single newline loses that line; ParseWinogrande does the same, says
// so in `ignored_last_line`, and a file that ends in an empty line keeps every task.
//
// Where llama-perplexity skips a malformed line with a log message (Winogrande) or crashes (HellaSwag's
// std::stoi), these readers refuse the file with an error that names it, the task and the line or byte
// offset. One exception keeps real Winogrande files readable: a first line whose answer is not a number
// is a header and is skipped, as the reference does.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab {

struct HellaswagTask {
  size_t index = 0;  // 0-based task number in the file
  int line = 0;      // 1-based line of the context
  std::string context;
  int gold = 0;  // 0..3
  std::array<std::string, 4> endings;
};

struct WinograndeTask {
  size_t index = 0;    // 0-based task number in the file (header excluded)
  int line = 0;        // 1-based line
  std::string first;   // the sentence before '_'
  std::string second;  // the sentence after '_'
  std::array<std::string, 2> choices;
  int answer = 1;  // 1 or 2
};

struct WinograndeFile {
  std::vector<WinograndeTask> tasks;
  int header_line = 0;        // 1 when the first line was a header and was skipped, else 0
  int ignored_last_line = 0;  // the line llama-perplexity does not read (see above), 0 if none
};

struct MultipleChoiceTask {
  size_t index = 0;     // 0-based task number in the file
  uint64_t offset = 0;  // byte offset of the task
  std::string question;
  std::vector<std::string> answers;  // the first answer set: one of them is right
  std::vector<int32_t> labels;       // 1 = right
};

// `name` is the file's name for messages. Errors: no task; a line count that is not a multiple of 6; a
// right-ending index that is not 0, 1, 2 or 3.
Result<std::vector<HellaswagTask>> ParseHellaswag(std::string_view content, std::string_view name);

// Errors: no task; a line without 4 separating commas, without '_' in the sentence, or with an answer
// other than 1 or 2 (the first line excepted when it is a header).
Result<WinograndeFile> ParseWinogrande(std::string_view content, std::string_view name);

// Reads the tasks `selected` (0-based task numbers) in that order: from the offsets table when
// `at_offsets`, else the file's tasks one after another from the end of the table (llama-perplexity
// reads every task sequentially and only a random subset at the offsets). Errors: no task; a truncated
// table or task; more than 100 answers; an empty question, answer list or answer; an offset outside
// the file.
struct MultipleChoiceHeader {
  uint32_t n_tasks = 0;
  std::vector<uint32_t> offsets;
};
Result<MultipleChoiceHeader> ParseMultipleChoiceHeader(std::string_view content, std::string_view name);
Result<std::vector<MultipleChoiceTask>> ParseMultipleChoiceTasks(std::string_view content,
                                                                 std::string_view name,
                                                                 const MultipleChoiceHeader& header,
                                                                 const std::vector<size_t>& selected,
                                                                 bool at_offsets);

}  // namespace quantlab
