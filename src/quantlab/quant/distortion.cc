#include "quantlab/quant/distortion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "quantlab/quant/quantize.h"
#include "quantlab/util/check.h"

namespace quantlab {

void DistortionAccumulator::Add(std::span<const float> source, std::span<const float> approx) {
  QL_CHECK_MSG(source.size() == approx.size(), "distortion: source and approximation differ in length");
  // Eight independent partial sums per statistic (one running sum would be a chain of dependent
  // additions the compiler may not reorder), kept in float over a run of kRun values and only then
  // added into double: converting every value to double made measuring the error cost as much as
  // quantizing. A float sum of kRun / kLanes = 8 terms keeps the statistics to ~1e-8 relative.
  constexpr size_t kLanes = 8;
  constexpr size_t kRun = 64;
  double sum_sq_err[kLanes] = {}, sum_sq_src[kLanes] = {}, sum_sq_approx[kLanes] = {}, dot[kLanes] = {};
  float max_abs[kLanes] = {};
  const size_t n = source.size();
  const size_t n_whole = n - n % kLanes;
  for (size_t run = 0; run < n_whole; run += kRun) {
    const size_t run_end = std::min(n_whole, run + kRun);
    float err[kLanes] = {}, src[kLanes] = {}, app[kLanes] = {}, ab[kLanes] = {};
    for (size_t i = run; i < run_end; i += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) {
        const float a = source[i + l];
        const float b = approx[i + l];
        const float e = a - b;
        err[l] += e * e;
        src[l] += a * a;
        app[l] += b * b;
        ab[l] += a * b;
        max_abs[l] = std::max(max_abs[l], std::fabs(e));
      }
    }
    for (size_t l = 0; l < kLanes; ++l) {
      sum_sq_err[l] += err[l];
      sum_sq_src[l] += src[l];
      sum_sq_approx[l] += app[l];
      dot[l] += ab[l];
    }
  }
  for (size_t i = n_whole; i < n; ++i) {
    const double a = source[i];
    const double b = approx[i];
    const double e = a - b;
    sum_sq_err[0] += e * e;
    sum_sq_src[0] += a * a;
    sum_sq_approx[0] += b * b;
    dot[0] += a * b;
    max_abs[0] = std::max(max_abs[0], static_cast<float>(std::fabs(e)));
  }
  count_ += static_cast<int64_t>(n);
  for (size_t l = 0; l < kLanes; ++l) {
    sum_sq_err_ += sum_sq_err[l];
    sum_sq_src_ += sum_sq_src[l];
    sum_sq_approx_ += sum_sq_approx[l];
    dot_ += dot[l];
    max_abs_ = std::max(max_abs_, static_cast<double>(max_abs[l]));
  }
}

void DistortionAccumulator::Merge(const DistortionAccumulator& other) {
  count_ += other.count_;
  sum_sq_err_ += other.sum_sq_err_;
  sum_sq_src_ += other.sum_sq_src_;
  sum_sq_approx_ += other.sum_sq_approx_;
  dot_ += other.dot_;
  max_abs_ = std::max(max_abs_, other.max_abs_);
}

Distortion DistortionAccumulator::Summary() const {
  Distortion d;
  d.count = count_;
  if (count_ == 0) return d;
  d.rmse = std::sqrt(sum_sq_err_ / static_cast<double>(count_));
  d.max_abs_error = max_abs_;
  if (sum_sq_src_ == 0 && sum_sq_approx_ == 0) {
    d.cosine = 1;
  } else if (sum_sq_src_ == 0 || sum_sq_approx_ == 0) {
    d.cosine = 0;
  } else {
    d.cosine = dot_ / (std::sqrt(sum_sq_src_) * std::sqrt(sum_sq_approx_));
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (sum_sq_err_ == 0) {
    d.snr_db = kInf;
  } else if (sum_sq_src_ == 0) {
    d.snr_db = -kInf;
  } else {
    d.snr_db = 10.0 * std::log10(sum_sq_src_ / sum_sq_err_);
  }
  return d;
}

Distortion MeasureDistortion(std::span<const float> source, std::span<const float> approx) {
  DistortionAccumulator acc;
  acc.Add(source, approx);
  return acc.Summary();
}

Distortion MeasureRoundTrip(GgmlType type, std::span<const float> source, int64_t n_per_row,
                            const float* importance) {
  QL_CHECK_MSG(n_per_row > 0 && source.size() % static_cast<size_t>(n_per_row) == 0,
               "distortion: source is not a whole number of rows");
  const int64_t n_rows = static_cast<int64_t>(source.size()) / n_per_row;
  // One row at a time keeps the scratch small for big tensors.
  std::vector<uint8_t> packed(RowBytes(type, n_per_row));
  std::vector<float> restored(n_per_row);
  DistortionAccumulator acc;
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* row = source.data() + r * n_per_row;
    if (CanQuantizeRows(type)) {
      QuantizeRows(type, row, packed.data(), 1, n_per_row, importance);
    } else {
      QuantizeRowReference(type, std::span<const float>(row, n_per_row), packed.data());
    }
    DequantizeRow(type, packed.data(), restored.data(), n_per_row);
    acc.Add(std::span<const float>(row, n_per_row), restored);
  }
  return acc.Summary();
}

}  // namespace quantlab
