// The residency planner (which formats are loaded together under --mem-limit) and the base
// log-probability cache on their own: exact round trip, a partial record cut off, a mismatched header
// rebuilt, a damaged record refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "quantlab/lab/base_cache.h"
#include "quantlab/lab/residency.h"
#include "support/paths.h"

namespace quantlab::lab {
namespace {
namespace fs = std::filesystem;

std::vector<std::vector<size_t>> Groups(const ResidencyPlan& plan) {
  std::vector<std::vector<size_t>> groups;
  for (const auto& p : plan.passes) groups.push_back(p.candidates);
  return groups;
}

TEST(ResidencyTest, EverythingThatFitsIsOnePass) {
  const uint64_t bytes[] = {100, 50, 40, 30};
  const ResidencyPlan plan = PlanResidency(bytes, 0, 220, true);
  EXPECT_EQ(plan.mode, Residency::kAllResident);
  ASSERT_EQ(plan.passes.size(), 1u);
  EXPECT_TRUE(plan.passes[0].base_session);
  EXPECT_FALSE(plan.passes[0].writes_cache);
  EXPECT_EQ(plan.passes[0].candidates, (std::vector<size_t>{1, 2, 3}));
}

TEST(ResidencyTest, OverTheLimitTheBaseGoesFirstThenGroupsThatFit) {
  const uint64_t bytes[] = {50, 100, 40, 30, 95};  // the base is index 1
  const ResidencyPlan plan = PlanResidency(bytes, 1, 100, true);
  EXPECT_EQ(plan.mode, Residency::kFormatByFormat);
  ASSERT_EQ(plan.passes.size(), 4u);
  EXPECT_TRUE(plan.passes[0].base_session && plan.passes[0].writes_cache);
  EXPECT_TRUE(plan.passes[0].candidates.empty());
  EXPECT_EQ(Groups(plan)[1], (std::vector<size_t>{0, 2}));  // 90 <= 100; adding 30 would not fit
  EXPECT_EQ(Groups(plan)[2], (std::vector<size_t>{3}));     // 30 + 95 > 100
  EXPECT_EQ(Groups(plan)[3], (std::vector<size_t>{4}));
  for (size_t p = 1; p < plan.passes.size(); ++p) {
    EXPECT_TRUE(plan.passes[p].reads_cache && !plan.passes[p].base_session);
  }
  const uint64_t one_big[] = {10, 500};
  EXPECT_EQ(Groups(PlanResidency(one_big, 0, 100, true))[1], (std::vector<size_t>{1}));  // at least one
}

TEST(ResidencyTest, WithoutRoomForTheCacheEachGroupSitsNextToTheBase) {
  const uint64_t bytes[] = {60, 30, 30, 30};
  const ResidencyPlan plan = PlanResidency(bytes, 0, 100, false);
  EXPECT_EQ(plan.mode, Residency::kBaseWithEachGroup);
  ASSERT_EQ(plan.passes.size(), 3u);
  for (const auto& p : plan.passes) {
    EXPECT_TRUE(p.base_session);
    EXPECT_FALSE(p.writes_cache || p.reads_cache);
    EXPECT_EQ(p.candidates.size(), 1u);  // 60 + 30 fits, 60 + 60 does not
  }
}

TEST(ResidencyTest, DefaultLimitLeavesAMargin) {
  EXPECT_EQ(DefaultMemLimit(16ull << 30), (16ull << 30) - (16ull << 30) / 10);
  EXPECT_EQ(DefaultMemLimit(2ull << 30), (2ull << 30) - (512ull << 20));
  EXPECT_EQ(DefaultMemLimit(100), 0u);
}

BaseCacheIdentity Identity() {
  return {.model_hash = std::string(64, 'a'),
          .data_hash = std::string(64, 'b'),
          .tokens_hash = std::string(64, 'c'),
          .n_ctx = 8,
          .n_scored = 3,
          .n_vocab = 5};
}

BaseChunkLogProbs Chunk(int index) {
  BaseChunkLogProbs b;
  b.index = index;
  b.n_vocab = 5;
  for (int i = 0; i < 15; ++i) b.log_probs.push_back(-0.1f * static_cast<float>(i + index) - 1e-7f * i);
  b.targets = {index, 1, 4};
  b.base_nll.Add(0.25 + index);
  b.base_nll.Add(1.0 / 3);
  b.base_nll.Add(2.0);
  return b;
}

void ExpectSame(const BaseChunkLogProbs& a, const BaseChunkLogProbs& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.n_vocab, b.n_vocab);
  EXPECT_EQ(a.log_probs, b.log_probs);  // exact
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.base_nll.count, b.base_nll.count);
  EXPECT_EQ(a.base_nll.sum, b.base_nll.sum);
  EXPECT_EQ(a.base_nll.sum_sq, b.base_nll.sum_sq);
}

TEST(BaseCacheTest, RoundTripsExactlyAndSurvivesReopening) {
  testing::TempDir dir;
  const std::string path = (dir / "c.bin").string();
  {
    auto cache = BaseLogProbCache::Open(path, Identity());
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    ASSERT_TRUE((*cache)->Put(Chunk(7)).ok());
    ASSERT_TRUE((*cache)->Put(Chunk(2)).ok());
    ASSERT_TRUE((*cache)->Put(Chunk(7)).ok());  // present: left as it is
  }
  std::string note;
  auto cache = BaseLogProbCache::Open(path, Identity(), &note);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(note, "");
  EXPECT_EQ((*cache)->size(), 2);
  EXPECT_TRUE((*cache)->Has(2) && (*cache)->Has(7) && !(*cache)->Has(0));
  auto seven = (*cache)->Get(7);
  ASSERT_TRUE(seven.ok()) << seven.error().message;
  ExpectSame(*seven, Chunk(7));
  EXPECT_FALSE((*cache)->Get(0).ok());
  BaseChunkLogProbs wrong = Chunk(3);
  wrong.n_vocab = 4;
  EXPECT_FALSE((*cache)->Put(wrong).ok());
}

TEST(BaseCacheTest, CutsAPartialRecordAndRebuildsAMismatchedFile) {
  testing::TempDir dir;
  const std::string path = (dir / "c.bin").string();
  {
    auto cache = BaseLogProbCache::Open(path, Identity());
    ASSERT_TRUE(cache.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*cache)->Put(Chunk(i)).ok());
  }
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 5);
  std::string note;
  {
    auto cache = BaseLogProbCache::Open(path, Identity(), &note);
    ASSERT_TRUE(cache.ok());
    EXPECT_NE(note.find("incomplete"), std::string::npos) << note;
    EXPECT_EQ((*cache)->size(), 2);
    EXPECT_EQ(fs::file_size(path), size - Identity().RecordBytes());
    auto one = (*cache)->Get(1);
    ASSERT_TRUE(one.ok());
    ExpectSame(*one, Chunk(1));
  }
  // Another base model: the file is not read, it starts afresh.
  BaseCacheIdentity other = Identity();
  other.model_hash[0] = 'f';
  note.clear();
  auto cache = BaseLogProbCache::Open(path, other, &note);
  ASSERT_TRUE(cache.ok());
  EXPECT_NE(note.find("another base model"), std::string::npos) << note;
  EXPECT_EQ((*cache)->size(), 0);
}

TEST(BaseCacheTest, ADamagedRecordIsRefusedNotMisread) {
  testing::TempDir dir;
  const std::string path = (dir / "c.bin").string();
  {
    auto cache = BaseLogProbCache::Open(path, Identity());
    ASSERT_TRUE(cache.ok());
    ASSERT_TRUE((*cache)->Put(Chunk(0)).ok());
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) - 20));  // a log-probability
    f.put('\x55');
  }
  auto cache = BaseLogProbCache::Open(path, Identity());
  ASSERT_TRUE(cache.ok());
  auto chunk = (*cache)->Get(0);
  ASSERT_FALSE(chunk.ok());
  EXPECT_NE(chunk.error().message.find("damaged"), std::string::npos) << chunk.error().message;
}

}  // namespace
}  // namespace quantlab::lab
