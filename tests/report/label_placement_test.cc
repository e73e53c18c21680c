#include "quantlab/report/label_placement.h"

#include <gtest/gtest.h>

#include <cmath>

#include "quantlab/report/axes.h"

namespace quantlab::report {
namespace {

TEST(LabelPlacementTest, LonelyPointGetsItsLabelBesideIt) {
  const auto placed = PlaceLabels({{100, 100, 40, 13}}, {}, {0, 0, 400, 300});
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_FALSE(placed[0].leader);
  EXPECT_TRUE(placed[0].free);
  EXPECT_GT(placed[0].box.x0, 100);  // to the right, centred on the point
  EXPECT_LT(placed[0].box.y0, 100);
  EXPECT_GT(placed[0].box.y1, 100);
}

TEST(LabelPlacementTest, CrowdedPointsGetLabelsThatNeverOverlap) {
  // Twelve formats within a few pixels of each other (the demo's size-speed cloud), their markers, a
  // vertical error bar through them and a legend in the corner.
  std::vector<LabelRequest> labels;
  std::vector<Box> obstacles = {{150, 40, 158, 260}, {300, 10, 395, 60}};
  for (int i = 0; i < 12; ++i) {
    const double x = 150 + (i % 4) * 3, y = 150 + (i / 4) * 2;
    labels.push_back({x, y, 44.0 + 3 * i, 13});
    obstacles.push_back({x - 6, y - 6, x + 6, y + 6});
  }
  const Box bounds{0, 0, 400, 300};
  const auto placed = PlaceLabels(labels, obstacles, bounds);
  ASSERT_EQ(placed.size(), labels.size());
  int leaders = 0;
  for (size_t i = 0; i < placed.size(); ++i) {
    const Box& b = placed[i].box;
    EXPECT_TRUE(placed[i].free) << i;
    EXPECT_TRUE(b.Inside(bounds)) << i;
    EXPECT_NEAR(b.x1 - b.x0, labels[i].width, 1e-9);
    for (const auto& o : obstacles) EXPECT_FALSE(b.Overlaps(o)) << "label " << i << " covers an obstacle";
    for (size_t j = 0; j < i; ++j) EXPECT_FALSE(b.Overlaps(placed[j].box)) << i << " overlaps " << j;
    // A label away from its point has a leader; one beside it does not need one.
    double ex, ey;
    NearestEdgePoint(b, labels[i].x, labels[i].y, &ex, &ey);
    const double distance = std::hypot(ex - labels[i].x, ey - labels[i].y);
    if (!placed[i].leader) {
      EXPECT_LT(distance, 10) << i;
    }
    leaders += placed[i].leader;
  }
  EXPECT_GE(leaders, 6);  // the cloud is far too dense for twelve labels beside their points
}

TEST(LabelPlacementTest, SaysSoWhenThereIsNoRoomLeft) {
  const auto placed = PlaceLabels({{10, 10, 30, 13}, {12, 10, 30, 13}}, {}, {0, 0, 40, 20});
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_TRUE(placed[0].free);
  EXPECT_FALSE(placed[1].free);
}

TEST(AxesTest, LogScaleOnlyWhereTheSpreadNeedsIt) {
  EXPECT_TRUE(SpreadNeedsLog({0.02, 0.3, 1.9}));
  EXPECT_FALSE(SpreadNeedsLog({0.5, 1.0, 2.0}));
  EXPECT_FALSE(SpreadNeedsLog({-0.01, 0.3, 1.9}));  // a log axis cannot show the negative one
  EXPECT_FALSE(SpreadNeedsLog({0.02}));
}

TEST(AxesTest, LogTicks) {
  EXPECT_EQ(LogTicks(0.03, 3), (std::vector<double>{0.05, 0.1, 0.2, 0.5, 1, 2}));
  EXPECT_EQ(LogTicks(2e-5, 20), (std::vector<double>{1e-4, 1e-3, 1e-2, 0.1, 1, 10}));
  EXPECT_TRUE(LogTicks(0, 1).empty());
  const Scale s = LogScale({0.01, 1});
  EXPECT_TRUE(s.log);
  EXPECT_NEAR(s.Fraction(0.1), 0.5, 1e-12);  // halfway in log space between the padded ends
}

}  // namespace
}  // namespace quantlab::report
