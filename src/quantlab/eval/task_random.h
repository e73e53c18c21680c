// The two ways llama-perplexity (llama.cpp c392e50) draws a subset of tasks, reproduced so that the same
// N tasks are scored in the same order. Both start from std::mt19937 seeded with 1 (a fixed seed in
// llama-perplexity):
// - HellaSwag always draws its tasks in random order, without replacement, with
//   std::uniform_int_distribution<size_t> over the tasks left. That distribution's algorithm is not
//   fixed by the C++ standard; the reference binary was built with GCC 12, whose libstdc++ uses
//   Lemire's nearly divisionless method for a 32-bit generator, spelled out here so quantlab draws the
//   same indices with any standard library.
// - Winogrande and multiple choice (only when fewer tasks than the file holds are asked for) take
//   int(2^-32 * rng() * n_left) in float arithmetic and swap the last index into the drawn slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace quantlab {

class TaskRandom {
 public:
  // libstdc++ 12's std::uniform_int_distribution<size_t>(0, n - 1)(rng) for n in [1, 2^32].
  size_t UniformBelow(size_t n);
  // llama-perplexity's float-scaled draw: int(scale * float(rng()) * float(n)), scale = 1 / 2^32.
  size_t ScaledBelow(size_t n);

 private:
  std::mt19937 rng_{1};
};

// The order in which llama-perplexity --hellaswag takes `n_select` of `n_total` tasks (0-based indices
// into the file).
std::vector<size_t> HellaswagSelection(size_t n_total, size_t n_select);

// The tasks llama-perplexity --winogrande-tasks / --multiple-choice-tasks N takes: all of them in file
// order when n_select is 0 or not below n_total, else n_select drawn ones in drawing order.
std::vector<size_t> ScaledSelection(size_t n_total, size_t n_select);

}  // namespace quantlab
