#include "quantlab/util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <vector>

namespace quantlab {
namespace {

TEST(ThreadPoolTest, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 7, 100, 1001}) {
      for (int64_t grain : {1, 16}) {
        std::vector<std::atomic<int>> hits(n);
        pool.ParallelFor(
            n,
            [&](int64_t begin, int64_t end) {
              EXPECT_LT(begin, end);
              for (int64_t i = begin; i < end; ++i) hits[i]++;
            },
            grain);
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
      }
    }
  }
}

TEST(ThreadPoolTest, RunOnAllRunsEachThreadOnceManyTimes) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> runs(4);
  for (int call = 0; call < 300; ++call) {
    pool.RunOnAll([&](int thread, int n_threads) {
      EXPECT_EQ(n_threads, 4);
      runs[thread]++;
    });
  }
  for (auto& r : runs) EXPECT_EQ(r.load(), 300);
}

TEST(ThreadPoolTest, ZeroMeansHardwareConcurrency) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), ThreadPool::DefaultThreadCount());
  EXPECT_GE(pool.size(), 1);
}

}  // namespace
}  // namespace quantlab
