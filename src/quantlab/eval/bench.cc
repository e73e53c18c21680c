#include "quantlab/eval/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "quantlab/kernels/kernels.h"
#include "quantlab/kernels/peak_loops.h"
#include "quantlab/model/model.h"
#include "quantlab/model/weights.h"
#include "quantlab/util/system_info.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<int32_t> RandomTokens(int n, int n_vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (auto& t : tokens) t = dist(rng);
  return tokens;
}

// Prompt processing: n tokens from an empty cache, in batches (Decode splits by n_batch).
Result<double> TimePrompt(Session& session, std::span<const int32_t> tokens) {
  session.Reset();
  const auto start = Clock::now();
  QL_RETURN_IF_ERROR(session.Decode(tokens, 1));
  return SecondsSince(start);
}

// Generation: n tokens one at a time from an empty cache (what llama-bench's tg test does: the token
// fed back is not sampled, so the figure is the model's speed, not the sampler's).
Result<double> TimeGeneration(Session& session, std::span<const int32_t> tokens) {
  session.Reset();
  const auto start = Clock::now();
  for (int32_t token : tokens) {
    QL_RETURN_IF_ERROR(session.Decode(std::span<const int32_t>(&token, 1), 1));
  }
  return SecondsSince(start);
}

}  // namespace

namespace {

// The layers' linear weights, each visited once (phi3's fused matrices are bound as row ranges of one
// tensor, whose parts add up to the tensor).
template <typename F>
void ForEachLayerMatmul(const ModelWeights& w, F&& f) {
  for (const LayerWeights& layer : w.layers) {
    for (const LinearWeight* m :
         {&layer.wq, &layer.wk, &layer.wv, &layer.wo, &layer.ffn_gate, &layer.ffn_up, &layer.ffn_down}) {
      if (m->data != nullptr) f(*m);
    }
  }
}

uint64_t MatmulParams(const ModelWeights& w) {
  uint64_t n = 0;
  ForEachLayerMatmul(w, [&](const LinearWeight& m) { n += static_cast<uint64_t>(m.n_in) * m.n_out; });
  return n;
}

// The peak that bounds the batched kernels of the type holding most of the matmul weights.
std::string ComputeKindOf(const ModelWeights& w) {
  std::map<GgmlType, uint64_t> params;
  ForEachLayerMatmul(
      w, [&](const LinearWeight& m) { params[m.type] += static_cast<uint64_t>(m.n_in) * m.n_out; });
  if (params.empty()) return "f32_fma";
  const auto most = [](const auto& a, const auto& b) { return a.second < b.second; };
  return ComputeKindFor(std::max_element(params.begin(), params.end(), most)->first);
}

}  // namespace

RateStats SummarizeRuns(const std::vector<double>& seconds, int n_tokens) {
  RateStats stats;
  if (seconds.empty()) return stats;
  for (double s : seconds) {
    stats.samples_ns.push_back(s * 1e9);
    stats.samples_ts.push_back(s > 0 ? n_tokens / s : 0);
  }
  auto mean_and_stddev = [](const std::vector<double>& v, double& mean, double& stddev) {
    mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    double sum_sq = 0;
    for (double x : v) sum_sq += (x - mean) * (x - mean);
    stddev = v.size() > 1 ? std::sqrt(sum_sq / (v.size() - 1)) : 0;
  };
  mean_and_stddev(stats.samples_ts, stats.avg_ts, stats.stddev_ts);
  mean_and_stddev(stats.samples_ns, stats.avg_ns, stats.stddev_ns);
  return stats;
}

Result<BenchResult> RunBench(const std::string& path, const BenchOptions& options,
                             const std::function<void(const std::string&)>& on_progress) {
  if (options.n_prompt < 0 || options.n_gen < 0 || options.n_prompt + options.n_gen == 0) {
    return MakeError("bench: need a positive prompt (-p) or generation (-n) length");
  }
  if (options.repetitions < 1) return MakeError("bench: repetitions (-r) must be at least 1");
  auto note = [&](const std::string& s) {
    if (on_progress) on_progress(s);
  };

  BenchResult result;
  result.model_filename = path;
  result.n_prompt = options.n_prompt;
  result.n_gen = options.n_gen;
  result.n_batch = options.n_batch;
  result.isa = IsaName(DetectedIsa());

  const auto load_start = Clock::now();
  QL_ASSIGN_OR_RETURN(auto model, Model::Load(path));
  result.load_seconds = SecondsSince(load_start);
  const LlamaConfig& config = model->config();
  result.model_size = model->weight_bytes();
  result.model_n_params = model->n_params();
  result.bytes_per_token = model->weight_bytes();
  result.model_type = fmt::format("{} {}L {}d {}", config.arch_name, config.n_layer, config.n_embd,
                                  model->dominant_type_name());
  result.matmul_params = MatmulParams(model->weights());
  result.compute_kind = ComputeKindOf(model->weights());

  const int n_ctx = std::max(options.n_prompt, options.n_gen) + 1;
  if (n_ctx > config.n_ctx_train) {
    return MakeError("bench: {} tokens do not fit the model's context of {}", n_ctx - 1, config.n_ctx_train);
  }
  SessionOptions session_options;
  session_options.n_ctx = n_ctx;
  session_options.n_batch = std::max(1, std::min(options.n_batch, n_ctx));
  session_options.n_threads = options.n_threads;
  QL_ASSIGN_OR_RETURN(auto session, Session::Create(*model, session_options));
  result.n_threads = session->pool().size();
  result.kv_cache_bytes = session->kv_cache_bytes();

  std::mt19937 rng(options.seed);
  if (options.n_prompt > 0) {
    const auto tokens = RandomTokens(options.n_prompt, config.n_vocab, rng);
    note(fmt::format("pp{}: warm-up", options.n_prompt));
    QL_RETURN_IF_ERROR(TimePrompt(*session, tokens));
    std::vector<double> runs;
    for (int r = 0; r < options.repetitions; ++r) {
      note(fmt::format("pp{}: run {}/{}", options.n_prompt, r + 1, options.repetitions));
      QL_ASSIGN_OR_RETURN(double seconds, TimePrompt(*session, tokens));
      runs.push_back(seconds);
    }
    result.pp = SummarizeRuns(runs, options.n_prompt);
    result.pp_ops_per_s = 2.0 * static_cast<double>(result.matmul_params) * result.pp.avg_ts;
  }
  if (options.n_gen > 0) {
    const auto tokens = RandomTokens(options.n_gen, config.n_vocab, rng);
    note(fmt::format("tg{}: warm-up", options.n_gen));
    QL_RETURN_IF_ERROR(TimeGeneration(*session, std::span<const int32_t>(tokens).first(1)));
    std::vector<double> runs;
    for (int r = 0; r < options.repetitions; ++r) {
      note(fmt::format("tg{}: run {}/{}", options.n_gen, r + 1, options.repetitions));
      QL_ASSIGN_OR_RETURN(double seconds, TimeGeneration(*session, tokens));
      runs.push_back(seconds);
    }
    result.tg = SummarizeRuns(runs, options.n_gen);
    result.tg_bandwidth_gbs = static_cast<double>(result.bytes_per_token) * result.tg.avg_ts / 1e9;
  }
  result.peak_rss_bytes = PeakRssBytes();

  MemoryModelOptions memory_options;
  memory_options.n_ctx = n_ctx;
  memory_options.n_batch = session_options.n_batch;
  memory_options.n_threads = result.n_threads;
  memory_options.n_outputs = 1;
  result.predicted = EstimateMemory(config, model->file().file_size(), memory_options);
  return result;
}

double ComputePeaks::Of(const std::string& kind) const {
  if (kind == "f32_fma") return f32_fma;
  if (kind == "int8_dot") return int8_dot;
  if (kind == "bf16_dot") return bf16_dot;
  return 0;
}

ComputePeaks MeasureComputePeaks(int n_threads, double seconds) {
  n_threads = std::max(1, n_threads);
  const PeakLoops& loops = PeakLoopsFor();
  // ops/s of `loop` on every thread at once: calibrated on one thread to last about `seconds`.
  const auto measure = [&](double (*loop)(int64_t)) -> double {
    if (loop == nullptr) return 0;
    int64_t iterations = 1 << 12;
    for (;;) {
      const auto start = Clock::now();
      loop(iterations);
      if (SecondsSince(start) > seconds / 8 || iterations > (int64_t{1} << 40)) break;
      iterations *= 2;
    }
    iterations *= 8;
    double best = 0;
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<double> ops(static_cast<size_t>(n_threads));
      const auto start = Clock::now();
      std::vector<std::thread> threads;
      for (int t = 0; t < n_threads; ++t) {
        threads.emplace_back([&, t] { ops[static_cast<size_t>(t)] = loop(iterations); });
      }
      for (auto& th : threads) th.join();
      best = std::max(best, std::accumulate(ops.begin(), ops.end(), 0.0) / SecondsSince(start));
    }
    return best;
  };
  ComputePeaks peaks;
  peaks.f32_fma = measure(loops.f32_fma);
  peaks.int8_dot = measure(loops.int8_dot);
  peaks.bf16_dot = measure(loops.bf16_dot);
  return peaks;
}

double MeasureReadBandwidthGbs(int n_threads, uint64_t bytes) {
  n_threads = std::max(1, n_threads);
  const size_t n = bytes / sizeof(uint64_t);
  std::vector<uint64_t> buffer(n);
  for (size_t i = 0; i < n; ++i) buffer[i] = i;  // touch every page before timing
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<uint64_t> sums(static_cast<size_t>(n_threads));
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, t] {
        const size_t begin = n * t / n_threads, end = n * (t + 1) / n_threads;
        // Four independent sums so the loop is bound by loads, not by one add chain.
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = begin;
        for (; i + 4 <= end; i += 4) {
          s0 += buffer[i];
          s1 += buffer[i + 1];
          s2 += buffer[i + 2];
          s3 += buffer[i + 3];
        }
        for (; i < end; ++i) s0 += buffer[i];
        sums[static_cast<size_t>(t)] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& th : threads) th.join();
    const double seconds = SecondsSince(start);
    volatile uint64_t sink = std::accumulate(sums.begin(), sums.end(), uint64_t{0});
    (void)sink;
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / seconds / 1e9);
  }
  return best;
}

}  // namespace quantlab
