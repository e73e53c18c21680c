// The lab's row model: every kind of measurement the results store holds, as one typed struct each, with
// the settings that are part of its key. One description per struct (in rows.cc) drives both writing
// and reading, so a field is named once; reading is strict: a row with a missing or mistyped field is an
// error that names the row (kind, format, data set, item), never a default.
//
// A row is self-describing: its key (model hash, format, data hash, settings, tool version, kind) and
// item say what produced it without the plan of the run that wrote it, so the rows of several stores
// (e.g. one per cluster job) can be merged by key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "quantlab/eval/kld.h"
#include "quantlab/lab/store.h"
#include "quantlab/util/result.h"

namespace quantlab::lab {

enum class RowKind { kQuantize, kPplChunk, kKldChunk, kSample, kSpeed, kRam, kTask };

// The name stored in the `kind` column ("quantize", "ppl_chunk", ...).
std::string_view RowKindName(RowKind kind);

// "speed row (format Q4_K_M, data 3fa2b1c4, item 0)": how errors name a row.
std::string DescribeRow(const MeasurementKey& key, int64_t item);

// --- Settings: what, besides model, format and data, decides a figure. Stored in the key as canonical
// JSON (keys sorted), so equal settings give equal keys.

struct QuantizeSettings {
  bool base = false;   // the base model itself, not quantized by the lab
  std::string recipe;  // "Q4_K_M", or the base's format name
};

// Perplexity and KLD chunks.
struct EvalSettings {
  int n_ctx = 0;
};

struct SampleSettings {
  int n_predict = 0;
  float temperature = 0;
  float top_p = 0;
  int top_k = 0;
  uint64_t seed = 0;
  bool greedy = true;  // a greedy continuation is stored next to the sampled one
};

// Speed belongs to the machine: its identity is part of the key.
struct SpeedSettings {
  int n_prompt = 0;
  int n_gen = 0;
  int repetitions = 0;
  int threads = 0;
  std::string cpu;
  std::string isa;
};

struct RamSettings {
  int n_ctx = 0;
  int threads = 0;
};

// Task accuracy: the kind of task file ("hellaswag", "winogrande", "multiple-choice") and the context
// every task must fit in. Which tasks are drawn is not part of it: a row is one task of the file (item =
// its 0-based number there), so a later run drawing more tasks reuses every task already scored.
struct TaskSettings {
  std::string kind;
  int n_ctx = 0;
};

// One field list per settings struct drives writing and reading (the plan stores them too).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(QuantizeSettings, base, recipe)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EvalSettings, n_ctx)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SampleSettings, n_predict, temperature, top_p, top_k, seed, greedy)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpeedSettings, n_prompt, n_gen, repetitions, threads, cpu, isa)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RamSettings, n_ctx, threads)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskSettings, kind, n_ctx)

// The key's `settings` column: canonical JSON (objects keep their keys sorted), so equal settings give
// equal keys, and the same text quantlab wrote before settings were typed.
template <class Settings>
std::string SettingsKey(const Settings& s) {
  return nlohmann::json(s).dump();
}

// --- Rows. Each names its kind; item numbers: 0, a chunk index, or a prompt index.

struct QuantizeRow {
  static constexpr RowKind kKind = RowKind::kQuantize;
  std::string file;
  uint64_t file_bytes = 0;
  uint64_t n_params = 0;
  double bits_per_weight = 0;
  double seconds = 0;  // 0 for the base
};

// The NLL sums of one chunk (item = chunk index).
struct PplChunkRow {
  static constexpr RowKind kKind = RowKind::kPplChunk;
  int64_t count = 0;
  double sum = 0;
  double sum_sq = 0;
};

// A candidate's divergence from the base on one chunk: the sums, and the per-token KLD and Δp values
// (stored as raw floats in the row's blob).
struct KldChunkRow {
  static constexpr RowKind kKind = RowKind::kKldChunk;
  KldSums sums;
  std::vector<float> kld_values;
  std::vector<float> p_diff_values;
};

// One prompt's continuations (item = prompt index; data hash = the prompt's hash).
struct SampleRow {
  static constexpr RowKind kKind = RowKind::kSample;
  std::string prompt;
  std::string sampled_text;
  std::vector<int32_t> sampled_tokens;
  std::string greedy_text;
  std::vector<int32_t> greedy_tokens;
  double tg_tps = 0;
};

struct SpeedRow {
  static constexpr RowKind kKind = RowKind::kSpeed;
  double pp_tps = 0;
  double pp_stddev = 0;
  double tg_tps = 0;
  double tg_stddev = 0;
  int repetitions = 0;  // runs behind each mean and stddev
  uint64_t peak_rss_bytes = 0;
  int threads = 0;
  std::string isa;
};

// The memory model's prediction at the lab's context.
struct RamRow {
  static constexpr RowKind kKind = RowKind::kRam;
  uint64_t total = 0;
  uint64_t weights = 0;
  uint64_t kv_cache = 0;
  uint64_t scratch = 0;
  uint64_t runtime = 0;
};

// One task scored by one format (item = the task's 0-based number in its file; data hash = the file's
// hash): what it chose, the right answer and each candidate's score (mean log-probability).
struct TaskRow {
  static constexpr RowKind kKind = RowKind::kTask;
  int chosen = 0;
  int gold = 0;
  bool correct = false;
  std::vector<double> scores;
};

// --- Typed access to the store. `key.kind` must be Row's kind. Reads fail, naming the row, when a
// stored row does not match its struct.

template <class Row>
Status PutRow(ResultsStore& store, const MeasurementKey& key, int64_t item, const Row& row);
template <class Row>
Result<std::optional<Row>> GetRow(const ResultsStore& store, const MeasurementKey& key, int64_t item);
template <class Row>
Result<std::map<int64_t, Row>> GetRows(const ResultsStore& store, const MeasurementKey& key);

}  // namespace quantlab::lab
