// Dispatch from GgmlType to the per-format functions of formats.h: one table, no switches elsewhere.

#include "quantlab/quant/quantize.h"

#include <array>

#include "quantlab/quant/formats.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {

using namespace quant_internal;  // NOLINT(build/namespaces): the table below names ~40 functions

// One row of the table: what ggml does for a type.
struct FormatFunctions {
  GgmlType type;
  QuantizeRowFn reference;  // quantize_row_<type>_ref; nullptr where ggml has none (IQ2_XXS, IQ2_XS)
  // quantize_row_<type>_impl for one row with importance weights; nullptr where ggml_quantize_chunk
  // ignores the weights (Q8_0, the float types) or cannot write the type (Q8_1, Q8_K).
  void (*weighted)(const float* x, void* y, int64_t n_per_row, const float* importance);
  DequantizeRowFn dequantize;
  bool chunk_writable;  // ggml_quantize_chunk accepts it
};

constexpr std::array<FormatFunctions, 24> kFormats = {{
    {GgmlType::kF32, QuantizeF32, nullptr, DequantizeF32, true},
    {GgmlType::kF16, QuantizeF16, nullptr, DequantizeF16, true},
    {GgmlType::kBF16, QuantizeBF16, nullptr, DequantizeBF16, true},
    {GgmlType::kQ4_0, QuantizeQ4_0Ref, QuantizeQ4_0Weighted, DequantizeQ4_0, true},
    {GgmlType::kQ4_1, QuantizeQ4_1Ref, QuantizeQ4_1Weighted, DequantizeQ4_1, true},
    {GgmlType::kQ5_0, QuantizeQ5_0Ref, QuantizeQ5_0Weighted, DequantizeQ5_0, true},
    {GgmlType::kQ5_1, QuantizeQ5_1Ref, QuantizeQ5_1Weighted, DequantizeQ5_1, true},
    {GgmlType::kQ8_0, QuantizeQ8_0Ref, nullptr, DequantizeQ8_0, true},
    {GgmlType::kQ8_1, QuantizeQ8_1Ref, nullptr, DequantizeQ8_1, false},
    {GgmlType::kQ2_K, QuantizeQ2_KRef, QuantizeQ2_KWeighted, DequantizeQ2_K, true},
    {GgmlType::kQ3_K, QuantizeQ3_KRef, QuantizeQ3_KWeighted, DequantizeQ3_K, true},
    {GgmlType::kQ4_K, QuantizeQ4_KRef, QuantizeQ4_KWeighted, DequantizeQ4_K, true},
    {GgmlType::kQ5_K, QuantizeQ5_KRef, QuantizeQ5_KWeighted, DequantizeQ5_K, true},
    {GgmlType::kQ6_K, QuantizeQ6_KRef, QuantizeQ6_KWeighted, DequantizeQ6_K, true},
    {GgmlType::kQ8_K, QuantizeQ8_KRef, nullptr, DequantizeQ8_K, false},
    {GgmlType::kIQ4_NL, QuantizeIQ4_NLRef, QuantizeIQ4_NLWeighted, DequantizeIQ4_NL, true},
    {GgmlType::kIQ4_XS, QuantizeIQ4_XSRef, QuantizeIQ4_XSWeighted, DequantizeIQ4_XS, true},
    {GgmlType::kIQ3_XXS, QuantizeIQ3_XXSRef, QuantizeIQ3_XXSWeighted, DequantizeIQ3_XXS, true},
    {GgmlType::kIQ3_S, QuantizeIQ3_SRef, QuantizeIQ3_SWeighted, DequantizeIQ3_S, true},
    {GgmlType::kIQ2_S, QuantizeIQ2_SRef, QuantizeIQ2_SWeighted, DequantizeIQ2_S, true},
    {GgmlType::kIQ2_XXS, nullptr, QuantizeIQ2_XXSWeighted, DequantizeIQ2_XXS, true},
    {GgmlType::kIQ2_XS, nullptr, QuantizeIQ2_XSWeighted, DequantizeIQ2_XS, true},
    {GgmlType::kIQ1_S, nullptr, QuantizeIQ1_SWeighted, DequantizeIQ1_S, true},
    {GgmlType::kIQ1_M, QuantizeIQ1_MRef, QuantizeIQ1_MWeighted, DequantizeIQ1_M, true},
}};

const FormatFunctions* Find(GgmlType type) {
  for (const auto& f : kFormats) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

const FormatFunctions& Require(GgmlType type) {
  const FormatFunctions* f = Find(type);
  QL_CHECK_MSG(f != nullptr, "quant: no quantizer for this type (ask CanQuantize first)");
  return *f;
}

void CheckLength(GgmlType type, int64_t n) {
  const int64_t block = TypeInfo(type).block_size;
  QL_CHECK_MSG(n >= 0 && n % block == 0, "quant: element count is not a multiple of the block size");
}

}  // namespace

bool CanQuantize(GgmlType type) { return Find(type) != nullptr; }

// ggml_quantize_requires_imatrix at c392e509 lists IQ2_XXS, IQ2_XS and IQ1_S (IQ1_M is commented out of
// it there): exactly the types without a reference quantizer here.
bool RequiresImportance(GgmlType type) {
  const FormatFunctions* f = Find(type);
  return f != nullptr && f->reference == nullptr;
}

bool CanQuantizeRows(GgmlType type) {
  const FormatFunctions* f = Find(type);
  return f != nullptr && f->chunk_writable;
}

void QuantizeRowReference(GgmlType type, std::span<const float> src, void* dst) {
  const FormatFunctions& f = Require(type);
  QL_CHECK_MSG(f.reference != nullptr, "quant: this type has no reference quantizer (RequiresImportance)");
  const auto n = static_cast<int64_t>(src.size());
  CheckLength(type, n);
  f.reference(src.data(), dst, n);
}

size_t QuantizeRows(GgmlType type, const float* src, void* dst, int64_t n_rows, int64_t n_per_row,
                    const float* importance) {
  const FormatFunctions& f = Require(type);
  QL_CHECK_MSG(f.chunk_writable, "quant: QuantizeRows got an activation-only format (Q8_1/Q8_K)");
  CheckLength(type, n_per_row);
  QL_CHECK(n_rows >= 0);
  QL_CHECK_MSG(importance != nullptr || f.reference != nullptr,
               "quant: IQ2_XXS, IQ2_XS and IQ1_S need importance weights, as in ggml (check "
               "RequiresImportance first)");
  const size_t row_bytes = RowBytes(type, n_per_row);
  // IQ1_M without importance: ggml's quantizer keeps per-block state across the super-blocks of a call
  // (see quantize_iq1.cc); quantlab starts it afresh for each row, so rows stay independent.
  if ((importance == nullptr && type != GgmlType::kIQ1_M) || f.weighted == nullptr) {
    // ggml runs the reference quantizer over all rows at once; rows are independent, so this is the same.
    f.reference(src, dst, n_rows * n_per_row);
  } else {
    auto* out = static_cast<uint8_t*>(dst);
    for (int64_t row = 0; row < n_rows; ++row) {
      f.weighted(src + row * n_per_row, out + row * row_bytes, n_per_row, importance);
    }
  }
  return static_cast<size_t>(n_rows) * row_bytes;
}

void DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  const FormatFunctions& f = Require(type);
  CheckLength(type, n);
  f.dequantize(src, dst, n);
}

QuantizeRowFn ReferenceQuantizerFor(GgmlType type) {
  const FormatFunctions* f = Find(type);
  return f ? f->reference : nullptr;
}

DequantizeRowFn DequantizerFor(GgmlType type) {
  const FormatFunctions* f = Find(type);
  return f ? f->dequantize : nullptr;
}

}  // namespace quantlab
