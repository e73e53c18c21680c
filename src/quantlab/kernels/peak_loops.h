// Compute-peak loops for the roofline of `quantlab bench`: each runs `iterations` steps of independent
// multiply-adds of one instruction kind entirely in registers (no memory traffic) and returns how many
// arithmetic operations it did (a multiply-add counts as 2), so ops / seconds is the kind's peak on one
// core. The kinds are those the batched kernels run on: float FMA (F16/BF16 weights), int8 dot products
// (the quantized formats: vpdpbusd with VNNI, else maddubs + madd) and bf16 pair dots (vdpbf16ps).
// A null loop: the ISA (or this CPU) has no such instruction.
#pragma once

#include <cstdint>

#include "quantlab/kernels/kernels.h"

namespace quantlab {

struct PeakLoops {
  double (*f32_fma)(int64_t iterations) = nullptr;
  double (*int8_dot)(int64_t iterations) = nullptr;
  double (*bf16_dot)(int64_t iterations) = nullptr;
};

const PeakLoops& PeakLoopsFor();  // at the detected ISA
const PeakLoops& PeakLoopsFor(CpuIsa isa);

// The peak that bounds the batched kernel of weights of `type` at the detected ISA: "f32_fma" (F32,
// F16, BF16 converted to float), "bf16_dot" (BF16 with the vdpbf16ps kernel) or "int8_dot" (the
// quantized formats).
const char* ComputeKindFor(GgmlType type);

}  // namespace quantlab
