// `quantlab run`: the whole quantization lab as a pipeline of resumable steps over one results
// database, then the analysis and the report.
//
//   1. quantize every format (a file already made from the same source and recipe is reused);
//   2. perplexity of every format and KLD / Δp / same-top vs the base on the same chunks of each data
//      set, one transaction per chunk (by default each format until it is precise enough to rank,
//      precision.h; format by format when the models do not fit in --mem-limit together, residency.h);
//   3. a sampled and a greedy continuation of every prompt by every format, and every selected task of
//      each task file (--tasks) scored by every format, one row per task;
//   4. speed (pp / tg, repeated) and peak memory per format, and the RAM needed at the lab's context;
//   5. analysis and report from the database alone.
//
// Every measurement is looked up in the database before it is made, so rerunning a killed lab redoes
// only what was in flight.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quantlab/analysis/analysis.h"
#include "quantlab/lab/config.h"
#include "quantlab/lab/store.h"
#include "quantlab/util/result.h"

namespace quantlab::lab {

inline constexpr const char* kResultsFile = "results.sqlite";

struct LabRunSummary {
  std::string out_dir;
  int64_t rows_before = 0;  // measurements found in the database at start
  int64_t rows_after = 0;
  int64_t measured = 0;  // measurements made in this run
  double seconds = 0;
  // Wall and CPU seconds of each step in this run, in order ("quantize", "perplexity + KLD", "samples",
  // "tasks" (only with task files), "speed", "report"). Format by format, a pass loads its models for
  // perplexity and keeps them for the samples and tasks: loading counts under perplexity + KLD.
  struct StepTime {
    std::string name;
    double wall_seconds = 0;
    double cpu_seconds = 0;  // user + system, all threads
  };
  std::vector<StepTime> step_times;
  std::vector<std::string> report_files;
  analysis::Analysis analysis;
};

// Receives one line of news per step ("[2/4] perplexity + KLD: ...").
using LabLog = std::function<void(const std::string&)>;

Result<LabRunSummary> RunLab(LabConfig config, const LabLog& log = {});

// Rebuilds the lab's results from its database (the plan the last run stored, and its rows).
Result<analysis::LabResults> LoadLabResults(const ResultsStore& store);

// `quantlab report DIR` / `quantlab score DIR`: analysis and report from the database, measuring nothing.
// With `weights`, the score uses them instead of the lab's. Returns the files written (none when
// `write_files` is false); the analysis goes to `out` when given.
Result<std::vector<std::string>> RenderLabReport(const std::string& dir,
                                                 const std::optional<analysis::ScoreWeights>& weights,
                                                 bool write_files, analysis::Analysis* out = nullptr);

}  // namespace quantlab::lab
