// The lab's settings: every `quantlab run` option, settable from the command line or a TOML lab file
// (command-line values win). Defaults follow the quantization lab this tool replaces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/analysis/results.h"
#include "quantlab/eval/tasks.h"
#include "quantlab/util/result.h"

namespace quantlab::lab {

struct DataSetSpec {
  std::string name;  // shown in the report ("prose", "code"); default: the file's stem
  std::string path;
};

// A task file the lab scores every format on (--tasks hellaswag=FILE,...).
struct TaskSetSpec {
  TaskKind kind = TaskKind::kHellaswag;
  std::string path;
};

struct LabConfig {
  std::string base_model;            // empty: the built-in demo model
  std::vector<std::string> formats;  // empty: the base's own type, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_K_S, Q3_K_M
  // --reference: a format of `formats` used as the reference for perplexity increases and KLD instead of
  // the base, which is then not evaluated (a base too large for the machine); empty: the base.
  std::string reference;
  // The importance matrix: a file (GGUF or .dat), or a calibration text the lab computes one from with the
  // engine (once; stored in the lab folder). At most one. Formats that take one use it (as NAME+imatrix),
  // unless some format names carry "+imatrix": then only those do, for a with/without comparison.
  std::string imatrix_file;
  std::string calibration_file;
  int calibration_chunks = -1;       // chunks of the calibration text to use (-1: all)
  std::vector<DataSetSpec> data;     // empty: the demo's evaluation text
  std::string prompts_file;          // one prompt per line; empty: the lab's five prompts (demo: its own)
  std::vector<std::string> prompts;  // set directly (TOML `prompts = [...]`), overrides prompts_file
  // Task files scored by every format (at most one per kind); empty: none (demo: its own three unless
  // `no_tasks`).
  std::vector<TaskSetSpec> tasks;
  bool no_tasks = false;  // --tasks none: not even the demo's
  // Tasks drawn from each file as llama-perplexity draws them (HellaSwag: that many in its random order;
  // the others: that many drawn, all in file order when not below the count); 0: every task. Unset:
  // every task, except the demo's own files (kDemoTasksMax, to keep the demo lab a few minutes long).
  std::optional<size_t> tasks_max;
  uint64_t ram_budget_bytes = 0;  // 0: none
  // How much memory the lab's own evaluation may keep mapped (models, caches, scratch); 0: the machine's
  // available memory less a margin. Not part of the results (unlike ram_budget, the deployment question).
  uint64_t mem_limit_bytes = 0;
  analysis::ScoreWeights weights;
  int n_ctx = 512;  // tokens per perplexity chunk (capped at the model's training context)
  // Evaluate only the first N chunks of each text. -1: adaptive precision — chunks in a seeded random
  // order, each format stopping once it is measured precisely enough to rank (lab/precision.h) — or,
  // with `full`, every chunk in order (llama-perplexity-comparable).
  int chunks = -1;
  bool full = false;
  int threads = 0;  // 0 = all hardware threads
  std::string out_dir = "quantlab-lab";
  // Generation samples.
  int n_predict = 100;
  float temperature = 0.7f;
  float top_p = 0.9f;
  int top_k = 40;
  uint64_t seed = 42;
  // Speed: llama-bench-style pp / tg runs.
  int bench_prompt = 512;  // capped at n_ctx
  int bench_gen = 64;
  int bench_repetitions = 3;
  bool skip_speed = false;
  bool progress = true;  // progress bars on stderr
  // Test hook: stop (with an error) after this many units of work (tensors quantized, chunks evaluated,
  // samples generated, benches run), as a kill at that point would. -1 = never.
  int64_t stop_after_units = -1;
  // Test hook: the free space the lab assumes on its folder's disk when it decides whether the base
  // log-probability cache fits (--mem-limit); -1 = what the file system says.
  int64_t cache_disk_free_bytes = -1;
};

// Tasks the demo lab draws from each of its task files unless --tasks-max says otherwise.
inline constexpr size_t kDemoTasksMax = 100;

// The lab's five prompts.
std::vector<std::string> DefaultPrompts();
// Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_K_S, Q3_K_M after `base_format`.
std::vector<std::string> DefaultFormats(const std::string& base_format);

// "8G", "512M", "1.5GiB", "123456" -> bytes (K/M/G/T are powers of 1024, as RAM sizes are quoted).
Result<uint64_t> ParseByteSize(const std::string& text);
// "size=0.3,quality=0.4,speed=0.3" (any subset; missing ones keep their value in `base`).
Result<analysis::ScoreWeights> ParseWeights(const std::string& text, analysis::ScoreWeights base = {});
// "prose=path.txt" or "path.txt" (name = stem).
DataSetSpec ParseDataSet(const std::string& text);
// "hellaswag" / "winogrande" / "mc" (or "multiple-choice", "multiple_choice") -> the kind.
Result<TaskKind> ParseTaskKind(const std::string& name);
// "hellaswag=FILE,winogrande=FILE,mc=FILE" (any subset, each kind at most once). Errors name the item.
Result<std::vector<TaskSetSpec>> ParseTaskSets(const std::string& text);

// --reference checked before any work: a known format and, when the formats are given, one of them (the
// lab checks the default list once it knows the base).
Status CheckReference(const LabConfig& config);

// A format name split from its "+imatrix" suffix (case-insensitive): "Q4_K_M+imatrix" -> {"Q4_K_M", true}.
struct FormatChoice {
  std::string recipe;
  bool imatrix = false;
};
inline constexpr std::string_view kImatrixSuffix = "+imatrix";
FormatChoice SplitImatrixSuffix(const std::string& name);

// The importance-matrix settings checked before any work: not both a file and a calibration text, a
// "+imatrix" format only with one of them and only for a recipe an imatrix changes, and no recipe that
// llama-quantize refuses to make without one (IQ2_XS, ...) unless one is given.
Status CheckImatrixChoice(const LabConfig& config);

// Applies a TOML lab file on top of `config`. Errors name the file, the key and the line.
Status ApplyLabToml(const std::string& path, LabConfig& config);

// The folder of the built-in demo (models/demo): $QUANTLAB_DEMO_DIR, else the source tree's copy, else
// models/demo next to the executable. Error when none has demo-f16.gguf.
Result<std::string> FindDemoDir();
// Fills the demo model, text, prompts and task files into whatever the config leaves empty, when no base
// is given.
Status ApplyDemoDefaults(LabConfig& config);

}  // namespace quantlab::lab
