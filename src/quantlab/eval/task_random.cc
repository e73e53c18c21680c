#include "quantlab/eval/task_random.h"

#include <algorithm>
#include <numeric>

#include "quantlab/util/check.h"

namespace quantlab {

size_t TaskRandom::UniformBelow(size_t n) {
  QL_CHECK(n >= 1 && n <= (uint64_t{1} << 32));
  if (n == (uint64_t{1} << 32)) return rng_();  // the generator's range is exactly the one asked for
  const auto range = static_cast<uint32_t>(n);
  uint64_t product = uint64_t{rng_()} * range;
  auto low = static_cast<uint32_t>(product);
  if (low < range) {
    const uint32_t threshold = static_cast<uint32_t>(-range) % range;
    while (low < threshold) {
      product = uint64_t{rng_()} * range;
      low = static_cast<uint32_t>(product);
    }
  }
  return static_cast<size_t>(product >> 32);
}

size_t TaskRandom::ScaledBelow(size_t n) {
  QL_CHECK(n >= 1);
  const float scale = 1.f / (1.f + static_cast<float>(std::mt19937::max()));
  // Each product is rounded to float, as in the reference's `scale * rng() * aux.size()`.
  const float drawn = scale * static_cast<float>(rng_());
  const auto j = static_cast<size_t>(drawn * static_cast<float>(n));
  // float rounding can give exactly n (the reference then reads past its array); keep it in range.
  return std::min(j, n - 1);
}

std::vector<size_t> HellaswagSelection(size_t n_total, size_t n_select) {
  n_select = std::min(n_select, n_total);
  std::vector<size_t> left(n_total);
  std::iota(left.begin(), left.end(), size_t{0});
  TaskRandom random;
  std::vector<size_t> order;
  order.reserve(n_select);
  for (size_t i = 0; i < n_select; ++i) {
    // The reference erases the drawn task's lines, so the draw is over the tasks left, in file order.
    const size_t j = random.UniformBelow(left.size());
    order.push_back(left[j]);
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(j));
  }
  return order;
}

std::vector<size_t> ScaledSelection(size_t n_total, size_t n_select) {
  std::vector<size_t> left(n_total);
  std::iota(left.begin(), left.end(), size_t{0});
  if (n_select == 0 || n_select >= n_total) return left;
  TaskRandom random;
  std::vector<size_t> order;
  order.reserve(n_select);
  for (size_t i = 0; i < n_select; ++i) {
    const size_t j = random.ScaledBelow(left.size());
    order.push_back(left[j]);
    left[j] = left.back();
    left.pop_back();
  }
  return order;
}

}  // namespace quantlab
