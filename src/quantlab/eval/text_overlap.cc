#include "quantlab/eval/text_overlap.h"

#include <unordered_set>

namespace quantlab {
namespace {

// FNV-1a over the window's ids, then a final mix so that nearby windows spread over the hash table.
uint64_t WindowHash(std::span<const int32_t> window) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const int32_t id : window) {
    h ^= static_cast<uint32_t>(id);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

TextOverlap MeasureOverlap(std::span<const int32_t> calibration, std::span<const int32_t> evaluation) {
  TextOverlap overlap;
  if (calibration.size() < kOverlapWindow) return overlap;
  overlap.windows = static_cast<int64_t>(calibration.size() - kOverlapWindow + 1);
  if (evaluation.size() < kOverlapWindow) return overlap;
  std::unordered_set<uint64_t> seen;
  seen.reserve(evaluation.size());
  for (size_t i = 0; i + kOverlapWindow <= evaluation.size(); ++i)
    seen.insert(WindowHash(evaluation.subspan(i, kOverlapWindow)));
  for (size_t i = 0; i + kOverlapWindow <= calibration.size(); ++i)
    overlap.shared += seen.contains(WindowHash(calibration.subspan(i, kOverlapWindow))) ? 1 : 0;
  return overlap;
}

}  // namespace quantlab
