#include "quantlab/eval/text_overlap.h"

#include <gtest/gtest.h>

#include <vector>

namespace quantlab {
namespace {

std::vector<int32_t> Sequence(int n, int32_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint32_t s = static_cast<uint32_t>(seed);
  for (auto& id : ids) {
    s = s * 1664525u + 1013904223u;
    id = static_cast<int32_t>(s >> 20);
  }
  return ids;
}

TEST(TextOverlap, UnrelatedTextsShareNothing) {
  const TextOverlap o = MeasureOverlap(Sequence(1000, 1), Sequence(5000, 2));
  EXPECT_EQ(o.windows, 1000 - kOverlapWindow + 1);
  EXPECT_EQ(o.shared, 0);
  EXPECT_FALSE(o.worth_a_warning());
}

TEST(TextOverlap, ACopiedPassageIsFound) {
  const std::vector<int32_t> eval = Sequence(5000, 2);
  std::vector<int32_t> calibration = Sequence(1000, 1);
  // 200 tokens of the evaluation text pasted into the middle: 200 - 64 + 1 windows lie inside it.
  calibration.insert(calibration.begin() + 500, eval.begin() + 1000, eval.begin() + 1200);
  const TextOverlap o = MeasureOverlap(calibration, eval);
  EXPECT_EQ(o.windows, 1200 - kOverlapWindow + 1);
  EXPECT_EQ(o.shared, 200 - kOverlapWindow + 1);
  EXPECT_TRUE(o.worth_a_warning());
}

TEST(TextOverlap, ShortTextsHaveNoWindows) {
  const TextOverlap o = MeasureOverlap(Sequence(10, 1), Sequence(10, 1));
  EXPECT_EQ(o.windows, 0);
  EXPECT_FALSE(o.worth_a_warning());
}

}  // namespace
}  // namespace quantlab
