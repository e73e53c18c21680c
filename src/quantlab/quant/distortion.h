// Quantization error as a first-class metric: how far a round trip (quantize, dequantize) lands from
// the source. The quantize command reports these per tensor; the lab stores them.
#pragma once

#include <cstdint>
#include <span>

#include "quantlab/gguf/types.h"

namespace quantlab {

struct Distortion {
  int64_t count = 0;         // elements compared
  double rmse = 0;           // sqrt(mean((a - b)^2))
  double max_abs_error = 0;  // max |a - b|
  double cosine = 1;         // <a,b> / (|a| |b|); 1 when both are all zero, 0 when only one is
  double snr_db = 0;         // 10 log10(sum a^2 / sum (a-b)^2); +inf when exact, -inf for a zero source
};

// Accumulates error statistics over any number of (source, approximation) pairs, in double precision;
// Merge combines partial accumulators (one per thread) in any order.
class DistortionAccumulator {
 public:
  void Add(std::span<const float> source, std::span<const float> approx);  // equal sizes (checked)
  void Merge(const DistortionAccumulator& other);
  Distortion Summary() const;

 private:
  int64_t count_ = 0;
  double sum_sq_err_ = 0;
  double sum_sq_src_ = 0;
  double sum_sq_approx_ = 0;
  double dot_ = 0;
  double max_abs_ = 0;
};

Distortion MeasureDistortion(std::span<const float> source, std::span<const float> approx);

// Quantizes `source` (rows of n_per_row) with QuantizeRows(type, ..., importance), dequantizes it, and
// measures the error against the source.
Distortion MeasureRoundTrip(GgmlType type, std::span<const float> source, int64_t n_per_row,
                            const float* importance);

}  // namespace quantlab
