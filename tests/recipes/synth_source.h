// Rebuilds, bit for bit, the synthetic source models the recipe expectations were recorded on (the
// dev-time generator computes the same values): every value is an integer hash of (seed, tensor index,
// element index) on a grid that F16 represents exactly, with an occasional 16x outlier.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "quantlab/gguf/writer.h"
#include "quantlab/util/fp16.h"
#include "recipes/expectations.h"

namespace quantlab::testing {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline float SynthValue(uint64_t seed, uint64_t tensor_index, uint64_t element) {
  const uint64_t base = seed * 1000003ull + tensor_index * 1000000007ull;
  const uint64_t h = SplitMix64(element + base);
  float v = static_cast<float>(static_cast<int64_t>(h >> 53) - 1024) / 8192.0f;
  if (h % 97 == 0) v *= 16.0f;
  return v;
}

// Writes the shape's source model (F16 matrices, F32 vectors of 1 + value). `poison` names a tensor
// whose element 5 becomes NaN (empty: none).
inline Status WriteSynthSource(const ShapeExpectations& shape, const std::string& path,
                               const std::string& poison = "") {
  GgufWriter writer(shape.metadata);
  for (size_t ti = 0; ti < shape.tensors.size(); ++ti) {
    const GgufTensorInfo& t = shape.tensors[ti];
    writer.AddTensor({t.name, t.shape, t.type, [&shape, ti, t, poison](std::span<std::byte> dst) -> Status {
                        const int64_t n = t.n_elements();
                        for (int64_t i = 0; i < n; ++i) {
                          float v = SynthValue(shape.seed, ti, static_cast<uint64_t>(i));
                          if (t.name == poison && i == 5) v = std::numeric_limits<float>::quiet_NaN();
                          if (t.type == GgmlType::kF32) {
                            v += 1.0f;
                            std::memcpy(dst.data() + 4 * i, &v, 4);
                          } else {
                            const uint16_t h = Fp32ToFp16(v);
                            std::memcpy(dst.data() + 2 * i, &h, 2);
                          }
                        }
                        return Ok();
                      }});
  }
  return writer.WriteTo(path);
}

}  // namespace quantlab::testing
