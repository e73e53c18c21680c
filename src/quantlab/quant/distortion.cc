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
  double sum_sq_err = 0, sum_sq_src = 0, sum_sq_approx = 0, dot = 0, max_abs = max_abs_;
  for (size_t i = 0; i < source.size(); ++i) {
    const double a = source[i];
    const double b = approx[i];
    const double e = a - b;
    sum_sq_err += e * e;
    sum_sq_src += a * a;
    sum_sq_approx += b * b;
    dot += a * b;
    max_abs = std::max(max_abs, std::fabs(e));
  }
  count_ += static_cast<int64_t>(source.size());
  sum_sq_err_ += sum_sq_err;
  sum_sq_src_ += sum_sq_src;
  sum_sq_approx_ += sum_sq_approx;
  dot_ += dot;
  max_abs_ = max_abs;
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
