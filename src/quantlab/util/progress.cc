#include "quantlab/util/progress.h"

#include <algorithm>

#include <fmt/format.h>
#include <unistd.h>

#include "quantlab/util/format.h"

namespace quantlab {
namespace {

constexpr auto kTerminalInterval = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(5);

}  // namespace

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      out_(out),
      interactive_(out != nullptr && ::isatty(::fileno(out)) != 0),
      start_(Clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::SetInteractive(bool interactive) {
  std::lock_guard lock(mutex_);
  interactive_ = interactive;
}

void ProgressBar::Update(uint64_t done) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  done_ = done;
  MaybeDrawLocked(false);
}

void ProgressBar::SetAlreadyDone(uint64_t done) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  already_done_ = done;
  done_ = std::max(done_, done);
  MaybeDrawLocked(false);
}

void ProgressBar::Add(uint64_t n) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  done_ += n;
  MaybeDrawLocked(false);
}

void ProgressBar::Finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  MaybeDrawLocked(true);
  if (out_ != nullptr && interactive_) std::fputc('\n', out_);
  if (out_ != nullptr) std::fflush(out_);
  finished_ = true;
}

std::string ProgressBar::StatusLine() const {
  std::lock_guard lock(mutex_);
  return StatusLineLocked(Clock::now());
}

std::string ProgressBar::StatusLineLocked(Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const uint64_t done_now = done_ > already_done_ ? done_ - already_done_ : 0;
  const double rate = elapsed > 0 ? static_cast<double>(done_now) / elapsed : 0.0;
  const std::string unit = unit_.empty() ? "" : " " + unit_;
  std::string line;
  if (total_ > 0) {
    const double percent = 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
    line = fmt::format("{}  {}/{}{} ({:.0f}%)", label_, done_, total_, unit, percent);
  } else {
    line = fmt::format("{}  {}{}", label_, done_, unit);
  }
  if (elapsed > 0 && done_now > 0) line += fmt::format("  {}{}/s", HumanCount(rate), unit);
  if (total_ > 0 && done_ >= total_) {
    line += fmt::format("  done in {}", HumanDuration(elapsed));
  } else if (total_ > 0 && rate > 0) {
    line += fmt::format("  ETA {}", HumanDuration(static_cast<double>(total_ - done_) / rate));
  }
  return line;
}

void ProgressBar::MaybeDrawLocked(bool force) {
  if (out_ == nullptr) return;
  const auto now = Clock::now();
  const auto interval = interactive_ ? kTerminalInterval : kLogInterval;
  if (!force && drawn_ && now - last_draw_ < interval) return;
  // In a log, the final line is only worth printing if it says something new.
  if (force && !interactive_ && drawn_ && last_drawn_done_ == done_) return;
  const std::string line = StatusLineLocked(now);
  if (interactive_) {
    // Carriage return and clear-to-end-of-line redraw in place.
    fmt::print(out_, "\r{}\x1b[K", line);
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
  last_draw_ = now;
  last_drawn_done_ = done_;
  drawn_ = true;
}

}  // namespace quantlab
