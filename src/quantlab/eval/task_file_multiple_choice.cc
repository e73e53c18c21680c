// The multiple-choice binary file (task_files.h): a little-endian reader that checks every length
// against the bytes left, so a truncated or corrupt file is an error naming the task and offset.
#include <cstring>

#include "quantlab/eval/task_files.h"

namespace quantlab {
namespace {

constexpr uint32_t kMaxAnswers = 100;  // the reference's limit on one answer set

class ByteCursor {
 public:
  ByteCursor(std::string_view bytes, uint64_t offset) : bytes_(bytes), offset_(offset) {}

  uint64_t offset() const { return offset_; }

  bool ReadU32(uint32_t& value) {
    if (offset_ > bytes_.size() || bytes_.size() - offset_ < 4) return false;
    std::memcpy(&value, bytes_.data() + offset_, 4);  // x86-64 and the files are little-endian
    offset_ += 4;
    return true;
  }
  bool ReadString(std::string& value) {
    uint32_t size = 0;
    if (!ReadU32(size) || bytes_.size() - offset_ < size) return false;
    value.assign(bytes_.data() + offset_, size);
    offset_ += size;
    return true;
  }

 private:
  std::string_view bytes_;
  uint64_t offset_;
};

// One answer set; `what` names it in errors.
Status ReadAnswers(ByteCursor& in, std::string_view what, std::vector<std::string>& answers,
                   std::vector<int32_t>& labels) {
  const uint64_t start = in.offset();
  uint32_t n = 0;
  if (!in.ReadU32(n)) return MakeError("{} (byte {}) is truncated", what, start);
  if (n > kMaxAnswers)
    return MakeError("{} (byte {}) has {} answers, more than {}", what, start, n, kMaxAnswers);
  answers.resize(n);
  labels.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (!in.ReadString(answers[i]))
      return MakeError("{}: answer {} (byte {}) is truncated", what, i + 1, in.offset());
  }
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t label = 0;
    if (!in.ReadU32(label)) return MakeError("{}: the labels (byte {}) are truncated", what, in.offset());
    labels[i] = static_cast<int32_t>(label);
  }
  return Ok();
}

Result<MultipleChoiceTask> ReadTask(std::string_view content, uint64_t offset, uint64_t& end) {
  ByteCursor in(content, offset);
  MultipleChoiceTask task;
  task.offset = offset;
  if (!in.ReadString(task.question)) return MakeError("the question is truncated");
  QL_RETURN_IF_ERROR(ReadAnswers(in, "the answers", task.answers, task.labels));
  std::vector<std::string> unused_answers;
  std::vector<int32_t> unused_labels;
  QL_RETURN_IF_ERROR(ReadAnswers(in, "the second answer set", unused_answers, unused_labels));
  // The reference refuses these before scoring (multiple_choice_prepare_one_task).
  if (task.question.empty()) return MakeError("the question is empty");
  if (task.answers.empty()) return MakeError("there is no answer");
  for (size_t i = 0; i < task.answers.size(); ++i) {
    if (task.answers[i].empty()) return MakeError("answer {} is empty", i + 1);
  }
  end = in.offset();
  return task;
}

}  // namespace

Result<MultipleChoiceHeader> ParseMultipleChoiceHeader(std::string_view content, std::string_view name) {
  ByteCursor in(content, 0);
  MultipleChoiceHeader header;
  if (!in.ReadU32(header.n_tasks) || header.n_tasks == 0) {
    return MakeError("{}: no multiple-choice task (the file does not start with a task count above 0)", name);
  }
  if ((content.size() - 4) / 4 < header.n_tasks) {
    return MakeError("{}: the table of {} task offsets is truncated (the file has {} bytes)", name,
                     header.n_tasks, content.size());
  }
  header.offsets.resize(header.n_tasks);
  for (uint32_t& offset : header.offsets) (void)in.ReadU32(offset);
  return header;
}

Result<std::vector<MultipleChoiceTask>> ParseMultipleChoiceTasks(std::string_view content,
                                                                 std::string_view name,
                                                                 const MultipleChoiceHeader& header,
                                                                 const std::vector<size_t>& selected,
                                                                 bool at_offsets) {
  std::vector<MultipleChoiceTask> tasks;
  tasks.reserve(selected.size());
  uint64_t next = 4 + 4 * uint64_t{header.n_tasks};
  for (size_t index : selected) {
    const uint64_t offset = at_offsets ? header.offsets.at(index) : next;
    if (offset >= content.size()) {
      return MakeError("{}: task {}: its offset {} is outside the file ({} bytes)", name, index + 1, offset,
                       content.size());
    }
    uint64_t end = 0;
    auto task = ReadTask(content, offset, end);
    if (!task.ok())
      return MakeError("{}: task {} (byte {}): {}", name, index + 1, offset, task.error().message);
    task->index = index;
    tasks.push_back(std::move(*task));
    next = end;
  }
  return tasks;
}

}  // namespace quantlab
