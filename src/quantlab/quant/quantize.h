// Quantizing float rows into ggml's block formats and back, byte-identical to ggml (ggml-quants.c at
// llama.cpp c392e509).
//
// Two entry points produce blocks:
//  - QuantizeRowReference: ggml's `quantize_row_*_ref` (the plain scale search each format defines).
//    This is what activations are quantized with (Q8_0, Q8_1, Q8_K) and what model weights get when no
//    importance matrix is given for most types.
//  - QuantizeRows: what `ggml_quantize_chunk` writes, i.e. what llama-quantize puts in a file. Without
//    importance weights most types use the reference path (Q2_K.. Q6_K: exactly so; Q4_0..Q5_1 too);
//    with importance weights they run ggml's weighted searches (quantize_*_impl).
//
// All functions take rows whose length is a multiple of the type's block size (QL_CHECK'ed); F32, F16
// and BF16 are plain conversions (block size 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "quantlab/gguf/types.h"

namespace quantlab {

// Types with a quantizer and a dequantizer here: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K,
// Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS, IQ3_XXS, IQ3_S, IQ2_S, IQ2_XXS, IQ2_XS, IQ1_S, IQ1_M.
bool CanQuantize(GgmlType type);

// True for the types ggml only quantizes with importance weights (IQ2_XXS, IQ2_XS, IQ1_S:
// ggml_quantize_chunk aborts without them): they have no reference quantizer (QuantizeRowReference and
// ReferenceQuantizerFor do not take them) and QuantizeRows needs `importance`.
bool RequiresImportance(GgmlType type);

// True where QuantizeRows accepts the type (CanQuantize minus the activation-only formats Q8_1 and Q8_K,
// which ggml_quantize_chunk does not write either).
bool CanQuantizeRows(GgmlType type);

// Quantizes one row (src.size() elements, a multiple of the block size) into `dst`, which must hold
// RowBytes(type, src.size()) bytes. Same bytes as ggml's quantize_row_<type>_ref.
void QuantizeRowReference(GgmlType type, std::span<const float> src, void* dst);

// Quantizes `n_rows` rows of `n_per_row` floats (row-major, contiguous) into `dst` (n_rows *
// RowBytes(type, n_per_row) bytes), as ggml_quantize_chunk does. `importance` (nullable) holds
// n_per_row non-negative weights, one per column, shared by all rows (llama.cpp's imatrix entry for the
// tensor). Returns the number of bytes written. Thread-safe; allocation-free per block.
size_t QuantizeRows(GgmlType type, const float* src, void* dst, int64_t n_rows, int64_t n_per_row,
                    const float* importance);

// Turns `n` elements of `type` (a multiple of the block size) back into floats, as ggml's
// dequantize_row_<type>.
void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// Raw function pointers for hot loops (the kernels' from_float/to_float use these signatures);
// nullptr where CanQuantize(type) is false (and ReferenceQuantizerFor where RequiresImportance(type)).
// `n` is the element count.
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
QuantizeRowFn ReferenceQuantizerFor(GgmlType type);
DequantizeRowFn DequantizerFor(GgmlType type);

}  // namespace quantlab
