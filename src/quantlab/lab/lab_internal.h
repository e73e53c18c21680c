// Shared state of one lab run: the plan (what is measured, under which keys) and the work budget.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quantlab/eval/tasks.h"
#include "quantlab/lab/config.h"
#include "quantlab/lab/lab.h"
#include "quantlab/lab/rows.h"
#include "quantlab/lab/store.h"
#include "quantlab/recipes/recipe.h"

namespace quantlab {
class Model;
class Session;
class ThreadPool;
}  // namespace quantlab

namespace quantlab::lab::internal {

struct PlannedFormat {
  std::string name;  // recipe name, e.g. "Q4_K_M"
  Recipe recipe = Recipe::kF16;
  bool is_base = false;  // the source file every format is quantized from (not itself quantized)
  std::string path;      // the GGUF file (the base's own path for the base)
  // The model every other format's perplexity increase and KLD are measured against: the base, or the
  // format named by --reference (then the base is not in the plan's formats at all).
  bool is_reference = false;
  // Quantized with the lab's importance matrix; the name then ends in "+imatrix".
  bool uses_imatrix = false;
};

// The lab's importance matrix (lab/imatrix_step.cc): where it came from and the file the formats that use
// it are quantized with. Its hash is part of those formats' row keys, so a changed imatrix gives new rows.
struct PlannedImatrix {
  std::string source;            // "file" (--imatrix) or "calibration" (computed by the lab)
  std::string source_path;       // the --imatrix file or the calibration text, as given
  std::string stored_path;       // the copy in the lab folder the quantizer reads
  std::string hash;              // SHA-256 of the imatrix file's bytes
  std::string calibration_hash;  // SHA-256 of the calibration text (calibration only)
  int chunks = 0;                // chunks it was computed on (its own record; 0 when unknown)
  int n_ctx = 0;                 // tokens per chunk (calibration only)
  // The evaluation texts the calibration text overlaps (eval/text_overlap.h), kept for the report's
  // caveat: an imatrix tuned on the text it is measured on flatters the formats that use it.
  struct Overlap {
    std::string data;        // the data set's name
    double fraction = 0.0;   // of the calibration's 64-token windows, the share found in that text
    bool identical = false;  // the same file (same SHA-256)
  };
  std::vector<Overlap> overlaps;
  bool empty() const { return hash.empty(); }
};

struct PlannedData {
  std::string name;
  std::string path;
  std::string hash;  // SHA-256 of the text
  std::string text;
};

// A task file every format is scored on. `selected` (0-based task numbers, in llama-perplexity's drawing
// order) and the file's hash are stored in the plan; the tasks themselves are read again by a run.
struct PlannedTaskSet {
  TaskKind kind = TaskKind::kHellaswag;
  std::string path;
  std::string hash;  // SHA-256 of the file
  size_t n_in_file = 0;
  std::vector<size_t> selected;
  SelectedTasks tasks;  // a run's copy of the selected tasks (empty when read back from the plan)

  std::string name() const { return TaskKindName(kind); }
};

// Reads and checks every task file of `config` (errors name the file and the task) and draws its tasks.
Result<std::vector<PlannedTaskSet>> PlanTaskSets(const LabConfig& config);

// Everything that identifies the lab's measurements; stored as meta "lab" so that report/score can
// find the rows again without the command line. The key of every kind of row is made here, once.
// The seed of the adaptive chunk order (the sampling seed's default, so earlier labs keep their order).
inline constexpr uint64_t kChunkOrderSeed = 42;

struct LabPlan {
  std::string model_name;
  std::string model_hash;
  std::string base_path;
  std::string base_format;
  // --reference: the format used as the reference instead of the base (which is then not evaluated);
  // empty: the base is the reference. Part of the KLD rows' key and of the base cache's identity.
  std::string reference;
  std::string tool_version;
  std::vector<PlannedFormat> formats;
  PlannedImatrix imatrix;  // empty when no format uses one
  std::vector<PlannedData> data;
  std::vector<std::string> prompts;
  std::vector<PlannedTaskSet> task_sets;
  int n_ctx = 0;
  int chunks = -1;
  // Adaptive precision: chunks in the order ChunkOrder() gives, each format stopping once
  // AssessPrecision() says it is ranked (lab/precision.h). Otherwise the first `chunks` (or all) in order.
  bool adaptive = false;
  uint64_t chunk_seed = 0;
  uint64_t ram_budget_bytes = 0;
  analysis::ScoreWeights weights;
  analysis::MachineSummary machine;
  // The settings of each kind of row (part of its key).
  EvalSettings eval;
  SampleSettings sample;
  SpeedSettings speed;
  RamSettings ram;
  std::string sampling_text;  // the sample settings as the report shows them

  MeasurementKey QuantizeKey(const PlannedFormat& f) const;
  MeasurementKey PplKey(const PlannedFormat& f, const PlannedData& d) const;
  MeasurementKey KldKey(const PlannedFormat& f, const PlannedData& d) const;
  MeasurementKey SampleKey(const PlannedFormat& f, size_t prompt_index) const;  // item = prompt_index
  MeasurementKey SpeedKey(const PlannedFormat& f) const;
  MeasurementKey RamKey(const PlannedFormat& f) const;
  MeasurementKey TaskKey(const PlannedFormat& f, const PlannedTaskSet& t) const;  // item = task number

  nlohmann::json ToJson() const;
  static Result<LabPlan> FromJson(const nlohmann::json& j);
};

// The chunks of `d` whose measurement of `f` is complete: the perplexity row, and for a format other
// than the reference the KLD row too (they are written in one transaction). The steps measure the rest; the
// loader reads only chunks complete for every format.
Result<std::set<int64_t>> CompleteChunks(const ResultsStore& store, const LabPlan& plan,
                                         const PlannedFormat& f, const PlannedData& d);

const PlannedFormat& ReferenceOf(const LabPlan& plan);

// The order in which the lab evaluates the `n_chunks` chunks of `d`: when adaptive, by ChunkSortKey — a
// pseudo-random key per chunk from chunk_seed and the text's hash, the same in every run — so that any
// prefix is an unbiased sample; 0, 1, ... otherwise.
uint64_t ChunkSortKey(const LabPlan& plan, const PlannedData& d, int64_t chunk);
std::vector<int> ChunkOrder(const LabPlan& plan, const PlannedData& d, int n_chunks);

// Counts units of work for the stop-after test hook.
class WorkBudget {
 public:
  explicit WorkBudget(int64_t limit) : limit_(limit) {}
  // False when the budget is spent (the caller stops as a kill would).
  bool Spend() { return limit_ < 0 || used_++ < limit_; }
  Error StopError() const {
    return MakeError("stopped after {} units of work (test hook --stop-after)", limit_);
  }

 private:
  int64_t limit_;
  int64_t used_ = 0;
};

// A rough ETA for the step about to start: seconds per chunk of one model (measured once the first chunk
// is done), scaled by the step's work in chunk equivalents.
struct EtaModel {
  double seconds_per_chunk = 0;  // one format, one chunk of n_ctx tokens (0 = not measured yet)
  double remaining_chunk_equivalents = 0;
  std::string Text() const;
};

struct RunContext {
  const LabConfig& config;
  LabPlan& plan;
  ResultsStore& store;
  WorkBudget& budget;
  const LabLog& log;
  int64_t measured = 0;
  EtaModel eta;
  std::FILE* progress_out = stderr;
  // Wall and CPU time of the samples, which run inside EvalAndSampleSteps' passes.
  double sample_seconds = 0;
  double sample_cpu_seconds = 0;
  // The same for the task accuracy, which runs there too.
  double task_seconds = 0;
  double task_cpu_seconds = 0;
};

// Settles the lab's importance matrix before any format is planned into rows: the --imatrix file (checked,
// copied into the lab folder) or the one computed from the calibration text (reused from the folder when
// the text, model and settings are those recorded in the store). Records it in the store's meta
// "imatrix" and logs when it differs from the last run's. Nothing to do when no format uses one.
Status ResolveImatrix(const LabConfig& config, LabPlan& plan, ResultsStore& store, const LabLog& log);

Status QuantizeStep(RunContext& ctx);
// Perplexity + KLD, then generation samples and task accuracy, in passes over the formats that fit in
// --mem-limit together (residency.h); eval_passes.cc.
Status EvalAndSampleSteps(RunContext& ctx);
Status SpeedStep(RunContext& ctx);

}  // namespace quantlab::lab::internal
