#include "quantlab/util/thread_pool.h"

#include <chrono>

#include "quantlab/util/check.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QL_CPU_RELAX() _mm_pause()
#else
#define QL_CPU_RELAX() ((void)0)
#endif

namespace quantlab {
namespace {

// How long an idle worker spins before it sleeps (a pause is ~40-140 cycles, so this is ~0.1 ms).
// Between the ~10 calls per layer of a generated token the gap is microseconds, so spinning keeps a
// call cheap; a pool idle for longer sleeps and leaves the cores to others.
constexpr int kSpinIterations = 2048;

// How long the calling thread spins for the workers to finish a job before it sleeps: longer than the
// usual imbalance between threads (work is shared out in small chunks), shorter than a scheduler tick.
constexpr std::chrono::microseconds kWaitSpinTime{50};

}  // namespace

int ThreadPool::DefaultThreadCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : DefaultThreadCount()) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::Dispatch(Task task, void* ctx) {
  if (n_threads_ == 1) {
    task(ctx, 0, 1);
    return;
  }
  task_ = task;
  task_ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    // Publishing under the mutex pairs with the sleepers' predicate check, so no wake-up is lost.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();

  task(ctx, 0, n_threads_);

  // Wait for the workers. On a quiet machine they finish within microseconds of this thread, so spin
  // for a bounded time; then sleep on the counter (a futex) so that on a busy machine this thread gives
  // its core to the workers it is waiting for instead of competing with them.
  const auto spin_until = std::chrono::steady_clock::now() + kWaitSpinTime;
  for (int spin = 1; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    QL_CPU_RELAX();
    if (spin % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
      for (int left; (left = pending_.load(std::memory_order_acquire)) != 0;) {
        pending_.wait(left, std::memory_order_acquire);
      }
      return;
    }
  }
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  while (true) {
    uint64_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      QL_CPU_RELAX();
      if (spin % 256 == 255) std::this_thread::yield();  // oversubscribed machines: let others run
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1, std::memory_order_acq_rel);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    if (stop_.load(std::memory_order_acquire)) return;
    task_(task_ctx_, index, n_threads_);
    // The last worker wakes a caller asleep in Dispatch (cheap when nobody waits: no system call).
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace quantlab
