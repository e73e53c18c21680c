// Deterministic, portable test inputs for the golden quantization tests. The same header is compiled
// into the (out-of-tree) harness that produced tests/data/golden/ with llama.cpp's ggml, so the test
// regenerates exactly the floats the golden bytes were made from.
//
// Portability: only integer arithmetic and IEEE-exact float/double operations (+ - * / sqrt) are used,
// never libm functions such as log or cos (whose last bit may differ between libraries). "Gaussian"
// values are therefore Irwin-Hall sums of 12 uniforms (mean 0, variance 1, tails cut at +-6).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace quantlab::golden {

// splitmix64: a tiny, well-mixed generator whose output depends only on the seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 24 random bits: exactly representable as float.
  float Uniform() { return static_cast<float>(Next() >> 40) * (1.0f / 16777216.0f); }
  // Uniform in [-1, 1).
  float Symmetric() { return 2.0f * Uniform() - 1.0f; }
  // Approximately standard normal: sum of 12 uniforms minus 6, summed exactly in double.
  float Gaussian() {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += static_cast<double>(Next() >> 40) * (1.0 / 16777216.0);
    return static_cast<float>(s - 6.0);
  }

 private:
  uint64_t state_;
};

inline constexpr int kGoldenRowLength = 512;  // two K-quant super-blocks, 16 legacy blocks

// One row per distribution; the golden tensor is all of them, in this order.
inline const std::vector<std::string>& GoldenCaseNames() {
  static const std::vector<std::string> names = {
      "gaussian",      "uniform",       "heavy_tailed",   "all_zero",        "constant",
      "huge_outlier",  "denormal",      "fp16_max_range", "float_max_range", "weight_like",
      "small_weights", "positive_only", "sparse",         "tiny_groups"};
  return names;
}

// Fills one row (kGoldenRowLength floats) of case `index` of GoldenCaseNames().
inline void FillGoldenRow(int index, float* row) {
  const int n = kGoldenRowLength;
  Rng rng(0x5155414E544C4142ull + static_cast<uint64_t>(index) * 7919);  // "QUANTLAB" + case
  switch (index) {
    case 0:  // gaussian
      for (int i = 0; i < n; ++i) row[i] = rng.Gaussian();
      break;
    case 1:  // uniform
      for (int i = 0; i < n; ++i) row[i] = rng.Symmetric();
      break;
    case 2:  // heavy tailed: gaussian over a small uniform (Cauchy-like)
      for (int i = 0; i < n; ++i) row[i] = 0.01f * rng.Gaussian() / (rng.Uniform() + 0.02f);
      break;
    case 3:  // all zero
      for (int i = 0; i < n; ++i) row[i] = 0.0f;
      break;
    case 4:  // constant, positive in the first half and negative in the second
      for (int i = 0; i < n; ++i) row[i] = i < n / 2 ? 0.37f : -2.5f;
      break;
    case 5:  // small gaussian with one huge outlier per 32 elements, alternating sign
      for (int i = 0; i < n; ++i) row[i] = 0.02f * rng.Gaussian();
      for (int b = 0; b < n / 32; ++b) row[32 * b + (b * 7) % 32] = (b % 2 ? -1.0f : 1.0f) * 300.0f;
      break;
    case 6:  // denormals (and a few normals near the denormal boundary)
      for (int i = 0; i < n; ++i) row[i] = rng.Symmetric() * 1e-39f;
      for (int i = 0; i < n; i += 61) row[i] = 3e-38f;
      break;
    case 7:  // near the fp16 limit (65504)
      for (int i = 0; i < n; ++i) row[i] = rng.Symmetric() * 65504.0f;
      break;
    case 8:  // near the float limit: sums of squares overflow
      for (int i = 0; i < n; ++i) row[i] = rng.Symmetric() * 3.0e38f;
      break;
    case 9: {  // weight-like: per-column scales with a few outlier channels, occasional spikes
      for (int i = 0; i < n; ++i) {
        const float col_scale = (i % 37 == 5) ? 0.15f : 0.02f + 0.01f * rng.Uniform();
        row[i] = col_scale * rng.Gaussian();
        if (rng.Uniform() < 0.004f) row[i] *= 12.0f;
      }
      break;
    }
    case 10:  // small weights, sigma 0.005
      for (int i = 0; i < n; ++i) row[i] = 0.005f * rng.Gaussian();
      break;
    case 11:  // positive only (min handling)
      for (int i = 0; i < n; ++i) row[i] = 0.5f + rng.Uniform();
      break;
    case 12:  // sparse: 90% zero
      for (int i = 0; i < n; ++i) row[i] = rng.Uniform() < 0.9f ? 0.0f : rng.Gaussian();
      break;
    default:  // tiny groups: each 16 elements share a magnitude spanning 1e-6 .. 1e2
      for (int i = 0; i < n; ++i) {
        const int group = i / 16;
        float scale = 1e-6f;
        for (int k = 0; k < group % 9; ++k) scale *= 10.0f;
        row[i] = scale * rng.Gaussian();
      }
      break;
  }
}

// All golden rows, row-major (GoldenCaseNames().size() x kGoldenRowLength).
inline std::vector<float> GoldenInput() {
  const int rows = static_cast<int>(GoldenCaseNames().size());
  std::vector<float> data(static_cast<size_t>(rows) * kGoldenRowLength);
  for (int r = 0; r < rows; ++r) FillGoldenRow(r, data.data() + static_cast<size_t>(r) * kGoldenRowLength);
  return data;
}

// Importance weights (one per column) like an imatrix: mean squared activations, a few dominant
// columns, and some exact zeros.
inline std::vector<float> GoldenImportance() {
  Rng rng(0x494D41545249584Full);  // "IMATRIX"
  std::vector<float> w(kGoldenRowLength);
  for (int i = 0; i < kGoldenRowLength; ++i) {
    const float a = rng.Gaussian();
    w[i] = 0.01f + a * a;
    if (i % 53 == 3) w[i] *= 100.0f;
    if (i % 97 == 11) w[i] = 0.0f;
  }
  return w;
}

// A larger weight-like tensor (rows x cols) for per-row hash comparisons.
inline constexpr int kBulkRows = 64;
inline constexpr int kBulkCols = 2048;
inline std::vector<float> BulkInput() {
  Rng rng(0x42554C4Bull);  // "BULK"
  std::vector<float> col_scale(kBulkCols);
  for (int c = 0; c < kBulkCols; ++c) col_scale[c] = (c % 131 == 7) ? 0.2f : 0.015f + 0.02f * rng.Uniform();
  std::vector<float> data(static_cast<size_t>(kBulkRows) * kBulkCols);
  for (int r = 0; r < kBulkRows; ++r) {
    const float row_scale = 0.5f + rng.Uniform();
    for (int c = 0; c < kBulkCols; ++c) {
      float v = row_scale * col_scale[c] * rng.Gaussian();
      if (rng.Uniform() < 0.001f) v *= 15.0f;
      data[static_cast<size_t>(r) * kBulkCols + c] = v;
    }
  }
  return data;
}

inline std::vector<float> BulkImportance() {
  Rng rng(0x42554C4B494D50ull);  // "BULKIMP"
  std::vector<float> w(kBulkCols);
  for (int c = 0; c < kBulkCols; ++c) {
    const float a = rng.Gaussian();
    w[c] = 0.001f + a * a * ((c % 131 == 7) ? 50.0f : 1.0f);
  }
  return w;
}

// FNV-1a 64 over bytes: row fingerprints of the bulk comparison.
inline uint64_t Fnv1a64(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace quantlab::golden
