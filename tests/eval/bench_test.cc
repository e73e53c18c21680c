// quantlab bench's measurements and the memory model, on small synthetic models.
#include <gtest/gtest.h>

#include "quantlab/eval/bench.h"
#include "quantlab/eval/memory_model.h"
#include "quantlab/kernels/kernels.h"
#include "quantlab/model/model.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"

namespace quantlab {
namespace {

// Writes the model and returns its path; a failed write is the caller's fatal setup error.
Result<std::string> WriteModel(const testing::TempDir& dir, const SynthModelSpec& spec) {
  const std::string path = (dir / "model.gguf").string();
  QL_RETURN_IF_ERROR(WriteSynthModel(spec, path));
  return path;
}

TEST(SummarizeRuns, MeanAndSampleStddevOfRates) {
  // 10 tokens in 1 s and in 0.5 s: 10 and 20 tok/s.
  RateStats stats = SummarizeRuns({1.0, 0.5}, 10);
  ASSERT_EQ(stats.samples_ts.size(), 2u);
  EXPECT_DOUBLE_EQ(stats.avg_ts, 15.0);
  EXPECT_NEAR(stats.stddev_ts, 7.0710678, 1e-6);
  EXPECT_DOUBLE_EQ(stats.avg_ns, 0.75e9);
}

TEST(MemoryModel, KvCacheAndScratchMatchWhatTheEngineAllocates) {
  testing::TempDir dir;
  SynthModelSpec spec;
  spec.n_layer = 3;
  spec.n_embd = 256;
  spec.n_head = 8;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.n_vocab = 700;
  const Result<std::string> written = WriteModel(dir, spec);
  ASSERT_TRUE(written.ok()) << written.error().message;
  const std::string& path = *written;

  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  SessionOptions options;
  options.n_ctx = 192;
  options.n_batch = 64;
  options.n_threads = 2;
  auto session = Session::Create(**model, options);
  ASSERT_TRUE(session.ok()) << session.error().message;

  MemoryModelOptions memory;
  memory.n_ctx = 192;
  memory.n_batch = 64;
  memory.n_threads = 2;
  const MemoryEstimate estimate = EstimateMemory((*model)->config(), (*model)->file().file_size(), memory);
  // K and V: 3 layers x 192 positions x (2 heads x 32) x 2 bytes each.
  EXPECT_EQ(estimate.kv_cache_bytes, 2ull * 3 * 192 * 64 * 2);
  EXPECT_EQ(estimate.kv_cache_bytes, (*session)->kv_cache_bytes());
  // The scratch formula mirrors ForwardScratch; it must stay within 10% of what is really allocated.
  const double allocated = static_cast<double>((*session)->scratch_bytes());
  EXPECT_NEAR(static_cast<double>(estimate.scratch_bytes), allocated, 0.10 * allocated);
  EXPECT_EQ(estimate.weights_bytes, (*model)->file().file_size());
}

TEST(MemoryModel, EstimateForFileNamesTheProblemWithABadFile) {
  testing::TempDir dir;
  const auto path = dir / "missing.gguf";
  auto estimate = EstimateMemoryForFile(path.string(), {});
  ASSERT_FALSE(estimate.ok());
  EXPECT_NE(estimate.error().message.find("missing.gguf"), std::string::npos) << estimate.error().message;
}

TEST(RunBench, MeasuresBothTestsAndReportsMemory) {
  testing::TempDir dir;
  SynthModelSpec spec;
  spec.n_layer = 2;
  spec.n_vocab = 512;
  const Result<std::string> written = WriteModel(dir, spec);
  ASSERT_TRUE(written.ok()) << written.error().message;
  const std::string& path = *written;

  BenchOptions options;
  options.n_prompt = 16;
  options.n_gen = 4;
  options.repetitions = 2;
  options.n_threads = 1;
  auto result = RunBench(path, options);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->pp.samples_ts.size(), 2u);
  EXPECT_EQ(result->tg.samples_ts.size(), 2u);
  EXPECT_GT(result->pp.avg_ts, 0);
  EXPECT_GT(result->tg.avg_ts, 0);
  EXPECT_EQ(result->n_threads, 1);
  EXPECT_GT(result->peak_rss_bytes, result->model_size / 2);
  EXPECT_GT(result->kv_cache_bytes, 0u);
  EXPECT_GT(result->tg_bandwidth_gbs, 0);
  EXPECT_EQ(result->bytes_per_token, result->model_size);
  // The roofline's numerator: the layers' 7 matrices (synth default: n_embd 256, n_ff 768, 4 heads of 64,
  // 2 KV heads), 2 ops per weight per prompt token.
  const uint64_t per_layer = 256 * 256 * 2 + 2 * (256 * 128) + 3 * (256 * 768);
  EXPECT_EQ(result->matmul_params, 2 * per_layer);
  EXPECT_DOUBLE_EQ(result->pp_ops_per_s,
                   2.0 * static_cast<double>(result->matmul_params) * result->pp.avg_ts);
  EXPECT_EQ(result->compute_kind, "f32_fma");  // an F16 model
}

// The peak loops run at the detected ISA: float FMA and int8 dots on every SIMD ISA, bf16 only where the
// CPU has vdpbf16ps; Of() reads them by the names compute_kind uses.
TEST(MeasureComputePeaks, MeasuresTheKindsTheIsaHas) {
  const ComputePeaks peaks = MeasureComputePeaks(1, 0.01);
  if (DetectedIsa() == CpuIsa::kScalar) {
    EXPECT_EQ(peaks.f32_fma, 0);
    return;
  }
  EXPECT_GT(peaks.f32_fma, 0);
  EXPECT_GT(peaks.int8_dot, 0);
  EXPECT_GE(peaks.bf16_dot, 0);
  EXPECT_EQ(peaks.Of("f32_fma"), peaks.f32_fma);
  EXPECT_EQ(peaks.Of("int8_dot"), peaks.int8_dot);
  EXPECT_EQ(peaks.Of("bf16_dot"), peaks.bf16_dot);
  EXPECT_EQ(peaks.Of("nonsense"), 0);
}

TEST(RunBench, RejectsNothingToMeasureAndOverlongContext) {
  testing::TempDir dir;
  SynthModelSpec spec;
  spec.n_ctx_train = 64;
  const Result<std::string> written = WriteModel(dir, spec);
  ASSERT_TRUE(written.ok()) << written.error().message;
  const std::string& path = *written;
  BenchOptions none;
  none.n_prompt = 0;
  none.n_gen = 0;
  EXPECT_FALSE(RunBench(path, none).ok());
  BenchOptions too_long;
  too_long.n_prompt = 128;
  auto result = RunBench(path, too_long);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("context"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace quantlab
