// Whether a calibration text overlaps an evaluation text. An importance matrix computed on the text a
// format is then evaluated on flatters that format (the quantizer spent its precision where the test
// looks), so `quantlab imatrix` warns when the two share text. The measure is simple on purpose:
// the fraction of the calibration's 64-token windows (every start position) that also occur somewhere
// in the evaluation text. Unrelated natural text shares essentially no 64-token run; a copied document
// shares all of its windows. Identical files are reported as such.
#pragma once

#include <cstdint>
#include <span>

namespace quantlab {

inline constexpr int kOverlapWindow = 64;             // tokens per compared window
inline constexpr double kOverlapWarnFraction = 0.01;  // warn from 1% of the calibration's windows

struct TextOverlap {
  int64_t windows = 0;  // 64-token windows of the calibration text
  int64_t shared = 0;   // of them, also in the evaluation text
  double fraction() const { return windows > 0 ? static_cast<double>(shared) / windows : 0.0; }
  bool worth_a_warning() const { return fraction() >= kOverlapWarnFraction; }
};

// Compares two token sequences (the same tokenizer's ids). Windows are compared by a 64-bit hash of
// their ids; a false match needs a hash collision (about n^2 / 2^64).
TextOverlap MeasureOverlap(std::span<const int32_t> calibration, std::span<const int32_t> evaluation);

}  // namespace quantlab
