// A persistent pool of worker threads for data-parallel loops. Generation calls it about ten times per
// layer per token, so a call must cost microseconds: workers stay alive between calls, spin briefly on
// an atomic generation counter waiting for work and only then sleep on a condition variable; the
// calling thread takes a share of the work itself.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace quantlab {

class ThreadPool {
 public:
  // `n_threads` counts the calling thread: a pool of 1 runs everything inline. 0 means
  // DefaultThreadCount().
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on each of the size() threads (index 0 is the caller) and
  // returns when all have finished. Not reentrant: fn must not call back into the same pool.
  template <typename Fn>
  void RunOnAll(Fn&& fn) {
    auto* target = &fn;
    Dispatch([](void* ctx, int thread, int n) { (*static_cast<decltype(target)>(ctx))(thread, n); }, target);
  }

  // Splits [0, n) into at most size() contiguous ranges of whole `grain`s and runs fn(begin, end) on
  // each, one range per thread. Ranges are empty-free; small n runs on fewer threads.
  template <typename Fn>
  void ParallelFor(int64_t n, Fn&& fn, int64_t grain = 1) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    const int64_t n_grains = (n + grain - 1) / grain;
    if (n_threads_ == 1 || n_grains == 1) {
      fn(int64_t{0}, n);
      return;
    }
    RunOnAll([&](int thread, int n_threads) {
      const int64_t per = (n_grains + n_threads - 1) / n_threads;
      const int64_t begin = std::min(n, thread * per * grain);
      const int64_t end = std::min(n, (thread + 1) * per * grain);
      if (begin < end) fn(begin, end);
    });
  }

  // Hardware concurrency (at least 1).
  static int DefaultThreadCount();

 private:
  using Task = void (*)(void* ctx, int thread, int n_threads);
  void Dispatch(Task task, void* ctx);
  void WorkerLoop(int index);

  int n_threads_ = 1;
  std::vector<std::thread> workers_;

  // The job being run; published by bumping generation_.
  Task task_ = nullptr;
  void* task_ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // workers that have not finished the current job
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace quantlab
