// Speed and memory of one model, measured the way llama-bench measures: prompt processing (pp: n_prompt
// tokens decoded in batches from an empty cache) and text generation (tg: n_gen tokens decoded one at a
// time from an empty cache), each after a warm-up run and repeated, reported as mean ± standard
// deviation of tokens/second. Also load time, peak resident memory, KV-cache bytes, the predicted RAM,
// and the weight bytes read per generated token against the machine's measured memory bandwidth; for pp,
// the matrix operations per second (2 x the layers' matmul weights x tokens / time) against the
// machine's measured compute peak of the instruction the format's batched kernels run (the roofline).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quantlab/eval/memory_model.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct BenchOptions {
  int n_prompt = 512;  // 0 skips the pp test
  int n_gen = 128;     // 0 skips the tg test
  int n_batch = 512;
  int n_threads = 0;  // 0 = the thread pool's default
  int repetitions = 5;
  uint32_t seed = 1234;  // for the random prompt tokens
};

// Mean and sample standard deviation of a list of rates.
struct RateStats {
  std::vector<double> samples_ts;  // tokens/second per repetition
  std::vector<double> samples_ns;  // nanoseconds per repetition
  double avg_ts = 0;
  double stddev_ts = 0;
  double avg_ns = 0;
  double stddev_ns = 0;
};
RateStats SummarizeRuns(const std::vector<double>& seconds, int n_tokens);

struct BenchResult {
  std::string model_filename;
  std::string model_type;   // e.g. "llama 6L 256d q4_K"
  uint64_t model_size = 0;  // bytes of tensor data
  uint64_t model_n_params = 0;
  int n_prompt = 0;
  int n_gen = 0;
  int n_batch = 0;
  int n_threads = 0;
  std::string isa;  // SIMD level the kernels ran at
  RateStats pp;     // empty when n_prompt == 0
  RateStats tg;     // empty when n_gen == 0
  double load_seconds = 0;
  uint64_t peak_rss_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  MemoryEstimate predicted;          // at n_ctx = n_prompt + n_gen
  uint64_t bytes_per_token = 0;      // weight bytes read per generated token
  double tg_bandwidth_gbs = 0;       // bytes_per_token * tg.avg_ts
  double machine_bandwidth_gbs = 0;  // measured read bandwidth (0 when not measured)
  // The roofline of pp. matmul_params: weights a prompt token is multiplied with (the layers' linear
  // weights; the output matrix runs for the last token only). pp_ops_per_s = 2 * matmul_params *
  // pp.avg_ts. compute_kind: the peak that bounds the batched kernel of the model's dominant weight
  // type (kernels/peak_loops.h's ComputeKindFor).
  uint64_t matmul_params = 0;
  double pp_ops_per_s = 0;
  std::string compute_kind;
};

// Measured compute peaks in operations per second (a multiply-add = 2) at a thread count; 0 where the
// CPU (or the ISA the kernels run at) has no such instruction.
struct ComputePeaks {
  double f32_fma = 0;
  double int8_dot = 0;
  double bf16_dot = 0;
  double Of(const std::string& kind) const;  // by compute_kind name; 0 for an unknown one
};

// Each kernel kind's register-only peak loop (kernels/peak_loops.h) on `n_threads` threads at once for
// about `seconds`, best of three passes.
ComputePeaks MeasureComputePeaks(int n_threads, double seconds = 0.1);

// Runs the pp and tg tests on `path`. `on_progress` (optional) receives a short status line.
Result<BenchResult> RunBench(const std::string& path, const BenchOptions& options,
                             const std::function<void(const std::string&)>& on_progress = {});

// Read bandwidth of main memory in GB/s: `n_threads` threads summing a buffer far larger than the
// caches (`bytes`, default 512 MiB), best of a few passes.
double MeasureReadBandwidthGbs(int n_threads, uint64_t bytes = 512ull << 20);

}  // namespace quantlab
