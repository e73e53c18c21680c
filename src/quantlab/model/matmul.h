// y = W x for a batch of activation rows, directly on W's stored blocks: each activation row is first
// converted to the weight type's vec_dot_type (e.g. Q8_K for K-quants, as ggml does — this rounding is
// part of what llama.cpp computes), then every output element is one vec_dot.
//
// Threading: threads take chunks of weight rows from a shared counter rather than one fixed slice each,
// so a thread that the OS deschedules (a busy machine) does not hold up the others, and the uneven
// costs of different matrices even out. Several matrices that read the same input (Q, K, V; gate, up)
// go through one call: their input is converted once per vec_dot_type and all their rows are shared
// out in one pool dispatch, which saves the synchronisations that dominate small models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quantlab/model/activation_observer.h"
#include "quantlab/model/weights.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

// One product of a group: y (n_tokens, w->n_out) = w x.
struct MatMulTarget {
  const LinearWeight* w;
  float* y;
};

// x: (n_tokens, n_in) floats, the same input for every target (all must have the same n_in); writes
// each target's y. `act_scratch` is resized as needed. At most 4 targets. `observer`, when set, sees x
// once per distinct weight tensor among the targets (the parts of a fused tensor count once).
void MatMulShared(ThreadPool& pool, std::span<const MatMulTarget> targets, const float* x, int n_tokens,
                  std::vector<std::byte>& act_scratch, ActivationObserver* observer = nullptr);

// x: (n_tokens, w.n_in) floats; y: (n_tokens, w.n_out) floats. `act_scratch` is resized as needed.
void MatMul(ThreadPool& pool, const LinearWeight& w, const float* x, int n_tokens, float* y,
            std::vector<std::byte>& act_scratch, ActivationObserver* observer = nullptr);

// Converts n_tokens rows of n floats into `type` rows (the activation side of a vec_dot), in parallel,
// at `out` + `offset`. Returns the byte stride of one converted row.
size_t ConvertActivations(ThreadPool& pool, const TypeKernels& kernels, const float* x, int64_t n,
                          int n_tokens, std::vector<std::byte>& out, size_t offset = 0);

}  // namespace quantlab
