// The data model of a lab's results: what was measured for each format, independent of how it was
// measured. The lab fills it from its results database; the analysis reads it and answers the lab's
// questions; nothing here knows about the engine.
//
// Conventions: sizes in bytes, speeds in tokens per second, NaN for "not measured". Per-chunk arrays
// are kept (not just totals) because paired statistics over the same chunks are what rank formats.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace quantlab::analysis {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct FormatInfo {
  std::string name;         // "Q4_K_M", "F16", ...
  uint64_t file_bytes = 0;  // size of the GGUF file
  uint64_t n_params = 0;    // weights in the model (all tensors)
  bool is_base = false;     // the reference every other format is compared with
  // Bits per weight over all tensors: 8 * tensor bytes / n_params (file_bytes when tensor bytes unknown).
  double bits_per_weight = kNaN;
};

// Perplexity of one format on one data set, with the per-chunk sums it came from. Chunk i of every format
// covers the same tokens, which is what makes paired differences meaningful.
struct PerplexityResult {
  std::string format;
  std::string dataset;
  std::vector<double> chunk_nll_sum;  // sum of -log p over the scored tokens of chunk i
  std::vector<int64_t> chunk_tokens;  // scored tokens in chunk i
  double Ppl() const;                 // exp(total NLL / total tokens); NaN without chunks
  double MeanNll() const;
  // Standard error of the log-perplexity, from the spread of per-chunk mean NLLs (llama.cpp's ±
  // uses the per-token spread; with a handful of chunks either is an estimate).
  double LogPplStderr() const;
  size_t chunks() const { return chunk_nll_sum.size(); }
};

// Distribution distance from the base's next-token distribution, over the same tokens.
struct KldResult {
  std::string format;
  std::string dataset;
  int64_t tokens = 0;
  double mean_kld = kNaN;
  double median_kld = kNaN;  // NaN when the evaluator kept no quantiles
  double p99_kld = kNaN;
  double max_kld = kNaN;
  double mean_delta_p = kNaN;  // mean of p_q(correct) - p_base(correct), as a fraction
  double rms_delta_p = kNaN;
  double same_top_fraction = kNaN;     // tokens whose arg-max agrees with the base
  std::vector<double> chunk_mean_kld;  // per chunk, for a confidence interval
};

// The interface the lab's speed step fills (from `quantlab bench`, or generation timings).
struct SpeedResult {
  std::string format;
  double pp_tps = kNaN;
  double pp_stddev = kNaN;
  double tg_tps = kNaN;
  double tg_stddev = kNaN;
  int repetitions = 0;               // runs behind each mean and stddev (for a CI); 0 = unknown
  uint64_t peak_rss_bytes = 0;       // measured during the benchmark; 0 = unknown
  uint64_t predicted_ram_bytes = 0;  // weights + KV cache + buffers at the lab's context; 0 = unknown
  int threads = 0;
};

// One prompt's continuation by one format: a sampled sample (for reading) and a greedy one (for a
// token-by-token comparison with the base's greedy continuation).
struct GenerationSample {
  std::string format;
  int prompt_index = 0;
  std::string prompt;
  std::string sampled_text;
  std::string greedy_text;
  std::vector<int32_t> greedy_tokens;
  // Filled by the analysis (or by the lab) against the base's greedy tokens:
  int agreement_tokens = -1;  // tokens equal to the base's before the first difference
  int first_divergence = -1;  // index of the first differing token; -1 = identical
};

// One task set (a HellaSwag, Winogrande or multiple-choice file) scored by one format: each scored task's
// number in the file and whether the format answered it right. Task i of two formats is paired by its
// number, not its position.
struct TaskResult {
  std::string format;
  std::string task_set;          // "hellaswag", "winogrande", "multiple-choice"
  std::vector<int64_t> tasks;    // 0-based task numbers in the file
  std::vector<uint8_t> correct;  // 1 = right, per task
};

struct MachineSummary {
  std::string cpu_model;
  std::string simd;  // "AVX-512", "AVX2", "scalar", ...
  int threads = 0;
  int logical_cpus = 0;
  uint64_t ram_bytes = 0;
  // Last-level cache, bytes; 0 = unknown. A model whose bytes per token fit in it runs overhead-bound,
  // so its speed says little about large models.
  uint64_t llc_bytes = 0;
  std::string os;
};

// Weights of the multi-metric score. They need not sum to 1; the score divides by their sum.
struct ScoreWeights {
  double size = 0.3;
  double quality = 0.4;
  double speed = 0.3;
};

struct LabResults {
  std::string model_name;
  std::string model_hash;
  std::string tool_version;
  std::string base_format;  // the reference: the base, or the --reference format
  // The base's format when a quantized format was the reference instead (the base was not evaluated);
  // empty when the base is the reference.
  std::string unevaluated_base;
  // The importance matrix the "+imatrix" formats were quantized with; empty source when none.
  struct Imatrix {
    std::string source;  // "computed by the lab from calib.txt (20 chunks of 512 tokens)", "file x.gguf"
    std::string hash;    // SHA-256 of the imatrix file
    std::vector<std::string> formats;  // the formats that used it
    // The data sets the calibration text overlaps: tuned on the text it is measured on, the imatrix
    // flatters its formats there.
    struct Overlap {
      std::string dataset;
      double fraction = 0.0;   // of the calibration's 64-token windows, the share found in the data set
      bool identical = false;  // the same text
    };
    std::vector<Overlap> overlaps;
  } imatrix;
  int context = 0;                // tokens per chunk
  int generated_tokens = 0;       // per sample
  std::string sampling;           // e.g. "temp 0.7, top-p 0.9, seed 42"
  uint64_t ram_budget_bytes = 0;  // 0 = no budget given
  ScoreWeights weights;
  MachineSummary machine;
  std::vector<std::string> datasets;  // in the order given; the first is the primary one
  std::vector<FormatInfo> formats;    // in the order given (usually large to small)
  std::vector<PerplexityResult> perplexity;
  std::vector<KldResult> kld;
  std::vector<SpeedResult> speed;
  std::vector<GenerationSample> samples;
  std::vector<std::string> task_sets;  // in the order given; empty when no task file was given
  std::vector<TaskResult> tasks;

  const FormatInfo* Format(const std::string& name) const;
  const FormatInfo* Base() const;
  // "Base F16", or "Reference Q8_0 (not the F16 base, which was not evaluated)" for the report headers.
  std::string ReferenceText() const;
  const PerplexityResult* Ppl(const std::string& format, const std::string& dataset) const;
  const KldResult* Kld(const std::string& format, const std::string& dataset) const;
  const SpeedResult* Speed(const std::string& format) const;
  const GenerationSample* Sample(const std::string& format, int prompt_index) const;
  const TaskResult* Task(const std::string& format, const std::string& task_set) const;
};

}  // namespace quantlab::analysis
