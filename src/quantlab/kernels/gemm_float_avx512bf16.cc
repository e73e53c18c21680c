// The batched BF16 kernel for CPUs with AVX512-BF16: the blocked product of gemm_float.inc.h with a
// unit of two bf16 values (a k pair, as vdpbf16ps reads them) instead of one converted float, so the
// packing is a plain transpose and one vdpbf16ps does 32 multiply-adds where an FMA does 16.
//
// Numerics: each product of two bf16 values is exact in float, as in the scalar reference; vdpbf16ps
// adds the pair's two products into the accumulator one after the other, rounding to nearest even, so
// only the order of the float additions differs, except that vdpbf16ps treats denormal inputs and
// results as zero (bf16 weights and activations of a model are far from the float denormal range).
//
// Only called where the CPU has AVX512-BF16, and only on request (QUANTLAB_BF16_DOT=1, see
// UseBf16DotKernel in registry.h): on the machine it was measured on it was slower than the F32-FMA
// kernel, vdpbf16ps running at about a quarter of the FMA instruction rate.
#include "quantlab/kernels/gemm_float.inc.h"

namespace quantlab::kernels_internal {
namespace {

struct BF16Pairs {
  static constexpr int kPerUnit = 2;
  static Vec Full(const uint16_t* p) { return _mm512_castsi512_ps(_mm512_loadu_si512(p)); }
};

struct Bf16DotMac {
  static Vec Apply(Vec acc, Vec w, Vec a) { return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)a); }
};

void BF16PairsBlocked(const void* w, size_t ws, int64_t rows, int64_t n, const void* a, size_t as,
                      int64_t tokens, float* out, size_t os, void* workspace) {
  BlockedMatMul<BF16Pairs, Bf16DotMac>(w, ws, rows, n, a, as, tokens, out, os, workspace);
}

}  // namespace

std::span<const TypeKernelEntry> GemmFloatAvx512Bf16() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kBF16,
       .vec_dot_type = GgmlType::kBF16,
       .gemm = {.workspace_bytes = BlockedWorkspaceBytes, .blocked = BF16PairsBlocked}},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
