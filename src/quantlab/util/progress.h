// A progress display on stderr (or any FILE*): "label  i/N  rate unit/s  ETA". On a terminal it redraws
// one line in place (at most every 100 ms); otherwise (logs, CI) it prints a line at most every few
// seconds plus a final one, so logs stay short. Update/Add may be called from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace quantlab {

class ProgressBar {
 public:
  // `total` 0 means unknown (no ETA). `unit` names what is counted, e.g. "tensors", "tok".
  ProgressBar(std::string label, uint64_t total, std::string unit = "", std::FILE* out = stderr);
  ~ProgressBar();  // calls Finish() if not yet finished
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Sets the number done so far.
  void Update(uint64_t done);
  // For a resumed job: `done` items were finished before this bar started. They count towards i/N but
  // not towards the rate, so the rate and ETA describe the work actually being done now.
  void SetAlreadyDone(uint64_t done);
  // Adds `n` to the number done.
  void Add(uint64_t n = 1);
  // Prints the final line (once).
  void Finish();

  // Forces the in-place (terminal) or line-by-line style; by default chosen by isatty.
  void SetInteractive(bool interactive);

  // The text of the current line, without control characters (for tests and logs).
  std::string StatusLine() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string StatusLineLocked(Clock::time_point now) const;
  void MaybeDrawLocked(bool force);

  mutable std::mutex mutex_;
  std::string label_;
  uint64_t total_;
  std::string unit_;
  std::FILE* out_;
  bool interactive_;
  bool finished_ = false;
  uint64_t done_ = 0;
  uint64_t already_done_ = 0;  // done before start_ (excluded from the rate)
  Clock::time_point start_;
  Clock::time_point last_draw_;
  bool drawn_ = false;
  uint64_t last_drawn_done_ = 0;
};

}  // namespace quantlab
