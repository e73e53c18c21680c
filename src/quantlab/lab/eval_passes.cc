// Steps 2 and 3 of the lab: perplexity + KLD, then generation samples and task accuracy, in passes over
// groups of loaded formats (residency.h). Each pass does all of its formats' work while they are mapped, then
// unmaps them. Every finished chunk is committed before the next one starts; in format-by-format mode the
// base's log-probabilities of a chunk are in the cache before any candidate needs them. Here "the base" is
// the reference every candidate is compared with: the base model, or the format named by --reference
// (ReferenceOf).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "quantlab/eval/kld.h"
#include "quantlab/eval/memory_model.h"
#include "quantlab/eval/perplexity.h"
#include "quantlab/lab/base_cache.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/lab/loaded_models.h"
#include "quantlab/lab/precision.h"
#include "quantlab/lab/residency.h"
#include "quantlab/model/model.h"
#include "quantlab/util/format.h"
#include "quantlab/util/hash.h"
#include "quantlab/util/progress.h"
#include "quantlab/util/system_info.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::lab::internal {
namespace fs = std::filesystem;
namespace {

// What the stopping rule needs of a complete chunk.
struct ChunkFigures {
  double mean_nll = 0;
  double mean_kld = 0;  // 0 for the base
};

// One data set's chunks and what is stored of them, shared by the passes.
struct DataEval {
  const PlannedData* data = nullptr;
  PerplexityTokens tokens;
  std::vector<int> order;                                          // chunks in evaluation order
  std::map<std::string, std::map<int64_t, ChunkFigures>> figures;  // format -> its complete chunks
  std::map<std::string, bool> done;         // adaptive: the format is measured precisely enough
  std::unique_ptr<BaseLogProbCache> cache;  // format by format only
  std::string cache_path;

  bool Missing(const PlannedFormat& f, int i) const { return !figures.at(f.name).count(i); }
  // Some candidate still to be measured lacks chunk i (the base's values of it are needed).
  bool NeededByCandidates(const LabPlan& plan, int i) const {
    return std::any_of(plan.formats.begin(), plan.formats.end(), [&](const PlannedFormat& f) {
      return !f.is_reference && !done.at(f.name) && Missing(f, i);
    });
  }
};

// The precision `f` has reached on the leading chunks of the order that both it and the base have.
Precision PrecisionOf(const LabPlan& plan, const DataEval& d, const PlannedFormat& f) {
  const auto& base = d.figures.at(ReferenceOf(plan).name);
  const auto& mine = d.figures.at(f.name);
  std::vector<double> base_nll, nll, kld;
  for (int i : d.order) {
    const auto b = base.find(i), m = mine.find(i);
    if (b == base.end() || m == mine.end()) break;
    base_nll.push_back(b->second.mean_nll);
    nll.push_back(m->second.mean_nll);
    kld.push_back(m->second.mean_kld);
  }
  return AssessPrecision(base_nll, nll, kld);
}

void UpdateDone(const LabPlan& plan, DataEval& d, const PlannedFormat& f) {
  d.done[f.name] = plan.adaptive && !f.is_reference && PrecisionOf(plan, d, f).enough;
}

std::string PassName(const LabPlan& plan, const EvalPass& pass) {
  std::vector<std::string> names;
  if (pass.base_session)
    names.push_back(ReferenceOf(plan).name + (pass.writes_cache ? " (to the cache)" : ""));
  for (size_t c : pass.candidates) names.push_back(plan.formats[c].name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Evaluates the pass's formats on the first `limit` chunks of the order (in adaptive mode, each
// candidate until it is precise enough).
Status EvalPassOnData(RunContext& ctx, LoadedModels& models, const EvalPass& pass, DataEval& d, int limit,
                      const std::string& header) {
  const LabPlan& plan = ctx.plan;
  const PlannedFormat& base = ReferenceOf(plan);
  // Work for chunk i: the base's row or cache record, and the candidates still to be measured.
  const auto candidate_needs = [&](size_t c, int i) {
    const PlannedFormat& f = plan.formats[c];
    return !d.done.at(f.name) && d.Missing(f, i);
  };
  // Which candidates the base is evaluated for in this pass: every one still to be measured when the pass
  // writes the cache; otherwise only the pass's own. Next to one group (no cache, disk short) the base is
  // evaluated again in every group's pass, so a chunk that only a later group needs waits for that pass.
  const auto base_needed_by_candidates = [&](int i) {
    if (pass.writes_cache) return d.NeededByCandidates(plan, i);
    return std::any_of(pass.candidates.begin(), pass.candidates.end(),
                       [&](size_t c) { return candidate_needs(c, i); });
  };
  const auto base_row_needed = [&](int i) {
    return pass.base_session && d.Missing(base, i) && (!plan.adaptive || base_needed_by_candidates(i));
  };
  const auto to_cache = [&](int i) {
    return pass.writes_cache && !d.cache->Has(i) && d.NeededByCandidates(plan, i);
  };
  limit = std::min(limit, d.tokens.n_chunks);
  int todo = 0, missing_pairs = 0;
  for (int j = 0; j < limit; ++j) {
    const int i = d.order[j];
    int pairs = base_row_needed(i) ? 1 : 0;
    for (size_t c : pass.candidates) pairs += candidate_needs(c, i) ? 1 : 0;
    todo += pairs > 0 || to_cache(i) ? 1 : 0;
    missing_pairs += pairs;
  }
  ctx.eta.remaining_chunk_equivalents += missing_pairs;
  if (ctx.log) {
    ctx.log(fmt::format(
        "{}: {} chunks of {} tokens x {} formats; {}{} chunks to evaluate, {} done before; {}", header,
        d.tokens.n_chunks, plan.n_ctx, pass.candidates.size() + (pass.base_session ? 1 : 0),
        plan.adaptive ? "up to " : "", todo, limit - todo, ctx.eta.Text()));
  }
  ProgressBar bar("ppl+KLD " + d.data->name, todo, "chunks", ctx.progress_out);
  const auto pass_start = std::chrono::steady_clock::now();
  const double pass_cpu = ProcessCpuSeconds();
  int evaluated = 0, evaluated_pairs = 0;
  for (int j = 0; j < limit; ++j) {
    const int i = d.order[j];
    std::vector<size_t> candidates;
    for (size_t c : pass.candidates) {
      if (candidate_needs(c, i)) candidates.push_back(c);
    }
    const bool base_row = base_row_needed(i);
    if (!base_row && !to_cache(i) && candidates.empty()) continue;
    if (!ctx.budget.Spend()) return ctx.budget.StopError();
    const auto t0 = std::chrono::steady_clock::now();
    BaseChunkLogProbs base_chunk;
    if (pass.base_session) {
      QL_ASSIGN_OR_RETURN(Session * s, models.SessionFor(base));
      QL_ASSIGN_OR_RETURN(base_chunk, EvaluateBaseChunk(*s, d.tokens, i));
      if (to_cache(i)) QL_RETURN_IF_ERROR(d.cache->Put(base_chunk));
    } else {
      QL_ASSIGN_OR_RETURN(base_chunk, d.cache->Get(i));
    }
    std::vector<std::pair<const PlannedFormat*, KldChunk>> results;
    for (size_t c : candidates) {
      const PlannedFormat& f = plan.formats[c];
      QL_ASSIGN_OR_RETURN(Session * s, models.SessionFor(f));
      QL_ASSIGN_OR_RETURN(KldChunk chunk, EvaluateKldChunk(*s, d.tokens, base_chunk));
      results.emplace_back(&f, std::move(chunk));
    }
    // One transaction per chunk: a kill loses at most this chunk.
    QL_ASSIGN_OR_RETURN(auto tx, Transaction::Start(ctx.store));
    int pairs = 0;
    if (base_row) {
      const NllStats& b = base_chunk.base_nll;
      QL_RETURN_IF_ERROR(
          PutRow(ctx.store, plan.PplKey(base, *d.data), i, PplChunkRow{b.count, b.sum, b.sum_sq}));
      ++pairs;
    }
    std::vector<std::pair<const PlannedFormat*, ChunkFigures>> measured;
    for (auto& [f, chunk] : results) {
      const KldSums& s = chunk.sums;
      QL_RETURN_IF_ERROR(
          PutRow(ctx.store, plan.PplKey(*f, *d.data), i, PplChunkRow{s.count, s.sum_nll, s.sum_nll2}));
      measured.push_back({f, {s.sum_nll / double(s.count), s.sum_kld / double(s.count)}});
      const KldChunkRow kld{s, std::move(chunk.kld_values), std::move(chunk.p_diff_values)};
      QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.KldKey(*f, *d.data), i, kld));
      ++pairs;
    }
    QL_RETURN_IF_ERROR(tx.Commit());
    if (base_row) d.figures[base.name][i] = {base_chunk.base_nll.MeanNll(), 0.0};
    for (const auto& [f, fig] : measured) {
      d.figures[f->name][i] = fig;
      UpdateDone(plan, d, *f);
    }
    ctx.measured += pairs;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ctx.eta.seconds_per_chunk = seconds / std::max(1, pairs);
    ctx.eta.remaining_chunk_equivalents -= pairs;
    ++evaluated;
    evaluated_pairs += pairs;
    bar.Add();
  }
  bar.Finish();
  if (ctx.log && evaluated > 0) {
    // Loading the models counts here: the first chunk of a pass maps them.
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_start).count();
    const double cpu = ProcessCpuSeconds() - pass_cpu;
    const int n = std::max(1, evaluated_pairs);
    ctx.log(fmt::format(
        "{}: {} chunks ({} format-chunks) in {} (CPU {}), per format-chunk {:.2f} s (CPU {:.2f} s)", header,
        evaluated, evaluated_pairs, HumanDuration(seconds), HumanDuration(cpu), seconds / n, cpu / n));
  }
  return Ok();
}

// Memory each format needs while loaded for the lab's evaluation: its mapped file, KV cache, scratch and
// the perplexity logits.
Result<std::vector<uint64_t>> LoadedBytes(const LabPlan& plan) {
  std::vector<uint64_t> bytes;
  for (const auto& f : plan.formats) {
    MemoryModelOptions mo;
    mo.n_ctx = plan.n_ctx;
    mo.n_batch = plan.n_ctx;
    mo.n_threads = plan.machine.threads;
    mo.n_outputs = plan.n_ctx / 2;
    QL_ASSIGN_OR_RETURN(MemoryEstimate m, EstimateMemoryForFile(f.path, mo));
    bytes.push_back(m.weights_bytes + m.kv_cache_bytes + m.scratch_bytes);
  }
  return bytes;
}

size_t ReferenceIndex(const LabPlan& plan) {
  for (size_t i = 0; i < plan.formats.size(); ++i) {
    if (plan.formats[i].is_reference) return i;
  }
  return 0;
}

BaseCacheIdentity CacheIdentity(const LabPlan& plan, const DataEval& d, int n_vocab) {
  // With --reference the cache holds that format's log-probabilities: a model made from the base by its
  // recipe, so the base's hash and the reference's name identify it.
  // The tool version is part of it too: a cache left by a killed run of an older quantlab is not read.
  return {.model_hash =
              Sha256Hex(plan.model_hash + ":reference=" + plan.reference + ":tool=" + plan.tool_version),
          .data_hash = d.data->hash,
          .tokens_hash = Sha256Hex(std::as_bytes(std::span(d.tokens.tokens))),
          .n_ctx = plan.n_ctx,
          .n_scored = d.tokens.n_scored_per_chunk(),
          .n_vocab = n_vocab};
}

// Tokenizes every data set and reads which chunks are stored; returns the base's vocabulary size.
Result<int> PrepareData(RunContext& ctx, std::vector<DataEval>& all) {
  const LabPlan& plan = ctx.plan;
  QL_ASSIGN_OR_RETURN(auto base_model, Model::Load(ReferenceOf(plan).path));
  for (const auto& data : plan.data) {
    DataEval d;
    d.data = &data;
    QL_ASSIGN_OR_RETURN(d.tokens,
                        TokenizeForPerplexity(base_model->tokenizer(), data.text, plan.n_ctx, plan.chunks));
    d.order = ChunkOrder(plan, data, d.tokens.n_chunks);
    for (const auto& f : plan.formats) {
      QL_ASSIGN_OR_RETURN(const std::set<int64_t> complete, CompleteChunks(ctx.store, plan, f, data));
      auto& figures = d.figures[f.name];
      for (int64_t i : complete) figures[i] = {};
      if (!plan.adaptive) continue;
      // The stopping rule needs the figures of the chunks stored by an earlier run.
      QL_ASSIGN_OR_RETURN(auto ppl, GetRows<PplChunkRow>(ctx.store, plan.PplKey(f, data)));
      std::map<int64_t, KldChunkRow> kld;
      if (!f.is_reference) {
        QL_ASSIGN_OR_RETURN(kld, GetRows<KldChunkRow>(ctx.store, plan.KldKey(f, data)));
      }
      for (auto& [i, fig] : figures) {
        const PplChunkRow& row = ppl.at(i);
        fig.mean_nll = row.sum / double(row.count);
        if (!f.is_reference) fig.mean_kld = kld.at(i).sums.sum_kld / double(kld.at(i).sums.count);
      }
    }
    for (const auto& f : plan.formats) UpdateDone(plan, d, f);
    d.cache_path =
        (fs::path(ctx.config.out_dir) / "cache" /
         fmt::format("{}-logprobs-{}.bin", plan.reference.empty() ? "base" : "reference-" + plan.reference,
                     data.hash.substr(0, 16)))
            .string();
    all.push_back(std::move(d));
  }
  return static_cast<int>(base_model->config().n_vocab);
}

// Bytes of the cache records for the chunks (among the first `limit` of the order) that a candidate still
// to be measured lacks: what the cache holds at most by the end of the base pass.
uint64_t CacheBytes(const LabPlan& plan, const std::vector<DataEval>& all, int n_vocab, int limit) {
  uint64_t bytes = 0;
  for (const DataEval& d : all) {
    const uint64_t record = CacheIdentity(plan, d, n_vocab).RecordBytes();
    for (int j = 0; j < std::min(limit, d.tokens.n_chunks); ++j) {
      bytes += d.NeededByCandidates(plan, d.order[j]) ? record : 0;
    }
  }
  return bytes;
}

// In adaptive mode, how each candidate ended: chunks taken and precision reached.
void LogPrecision(RunContext& ctx, const std::vector<DataEval>& all) {
  if (!ctx.log || !ctx.plan.adaptive) return;
  for (const DataEval& d : all) {
    for (const auto& f : ctx.plan.formats) {
      if (f.is_reference) continue;
      const Precision p = PrecisionOf(ctx.plan, d, f);
      ctx.log(fmt::format(
          "[2/5] '{}' {}: {} of {} chunks, increase {:+.3f}% ± {:.3f} points (target ± {:.3f}), mean KLD "
          "± {:.1f}%{}",
          d.data->name, f.name, p.chunks, d.tokens.n_chunks, p.increase_pct, p.ci_half_pp,
          p.ci_half_allowed_pp, 100 * p.kld_rel_stderr,
          p.enough ? "" : " (the text ran out before the precision target was reached)"));
    }
  }
}

}  // namespace

const PlannedFormat& ReferenceOf(const LabPlan& plan) { return plan.formats[ReferenceIndex(plan)]; }

Status EvalAndSampleSteps(RunContext& ctx) {
  const LabPlan& plan = ctx.plan;
  std::vector<DataEval> all;
  QL_ASSIGN_OR_RETURN(const int n_vocab, PrepareData(ctx, all));
  QL_ASSIGN_OR_RETURN(const std::vector<uint64_t> bytes, LoadedBytes(plan));
  // Where the available memory cannot be read, only an explicit --mem-limit bounds the lab.
  const uint64_t available = AvailableRamBytes();
  const uint64_t mem_limit = ctx.config.mem_limit_bytes > 0 ? ctx.config.mem_limit_bytes
                             : available > 0                ? DefaultMemLimit(available)
                                                            : std::numeric_limits<uint64_t>::max();
  int max_chunks = 0;
  for (const DataEval& d : all) max_chunks = std::max(max_chunks, d.tokens.n_chunks);
  const uint64_t cache_bytes = CacheBytes(plan, all, n_vocab, max_chunks);
  std::error_code ec;
  fs::create_directories(fs::path(ctx.config.out_dir) / "cache", ec);
  fs::space_info space = fs::space(ctx.config.out_dir, ec);
  if (ctx.config.cache_disk_free_bytes >= 0) space.available = ctx.config.cache_disk_free_bytes;
  // Leave some room: the results database grows too.
  const bool cache_fits = !ec && space.available > cache_bytes + (64ull << 20);
  const ResidencyPlan residency = PlanResidency(bytes, ReferenceIndex(plan), mem_limit, cache_fits);
  if (ctx.log && residency.mode != Residency::kAllResident) {
    uint64_t total = 0;
    for (uint64_t b : bytes) total += b;
    ctx.log(fmt::format(
        "[2/5] memory: the formats need {} loaded together, over the --mem-limit of {}: {} passes, {}",
        HumanBytes(total), HumanBytes(mem_limit), residency.passes.size(),
        residency.mode == Residency::kFormatByFormat
            ? fmt::format("format by format; the base's log-probabilities take up to {} on disk ({} free)",
                          HumanBytes(cache_bytes), HumanBytes(space.available))
            : fmt::format(
                  "each group next to the base, since the base cache ({}) does not fit on disk ({} free)",
                  HumanBytes(cache_bytes), HumanBytes(space.available))));
  }
  if (residency.mode == Residency::kFormatByFormat) {
    for (DataEval& d : all) {
      std::string note;
      QL_ASSIGN_OR_RETURN(d.cache,
                          BaseLogProbCache::Open(d.cache_path, CacheIdentity(plan, d, n_vocab), &note));
      if (ctx.log) {
        if (!note.empty()) ctx.log(fmt::format("[2/5] base cache {}: rebuilt, {}", d.cache_path, note));
        ctx.log(fmt::format("[2/5] base cache for '{}': {} chunks stored", d.data->name, d.cache->size()));
      }
    }
  }
  // Format by format with adaptive precision, nobody knows beforehand how many chunks the candidates
  // will need: the passes run in rounds over the first `limit` chunks of the order, doubling it while
  // some candidate is short of its target (the models of later rounds are loaded again).
  const bool rounds = plan.adaptive && residency.mode == Residency::kFormatByFormat;
  int limit = rounds ? 2 * PrecisionTarget{}.min_chunks : max_chunks;
  ThreadPool pool(ctx.config.threads);
  for (int round = 0;; ++round) {
    for (size_t p = 0; p < residency.passes.size(); ++p) {
      const EvalPass& pass = residency.passes[p];
      LoadedModels models(plan, pool);  // unmapped at the end of the pass
      for (size_t di = 0; di < all.size(); ++di) {
        std::string header =
            fmt::format("[2/5] perplexity + KLD on '{}' ({}/{})", all[di].data->name, di + 1, all.size());
        if (residency.passes.size() > 1)
          header += fmt::format(", pass {}/{} ({})", p + 1, residency.passes.size(), PassName(plan, pass));
        if (rounds) header += fmt::format(", round {} (first {} chunks)", round + 1, limit);
        QL_RETURN_IF_ERROR(EvalPassOnData(ctx, models, pass, all[di], limit, header));
      }
      if (round > 0) continue;
      std::vector<const PlannedFormat*> formats;
      // The base's samples are made in the first pass that loads it.
      if (pass.base_session && p == 0) formats.push_back(&ReferenceOf(plan));
      for (size_t c : pass.candidates) formats.push_back(&plan.formats[c]);
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = ProcessCpuSeconds();
      QL_RETURN_IF_ERROR(SampleStep(ctx, models, formats));
      ctx.sample_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ctx.sample_cpu_seconds += ProcessCpuSeconds() - cpu0;
      const auto t1 = std::chrono::steady_clock::now();
      const double cpu1 = ProcessCpuSeconds();
      QL_RETURN_IF_ERROR(TaskStep(ctx, models, formats));
      ctx.task_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      ctx.task_cpu_seconds += ProcessCpuSeconds() - cpu1;
    }
    const bool short_of_target = std::any_of(all.begin(), all.end(), [&](const DataEval& d) {
      return std::any_of(plan.formats.begin(), plan.formats.end(),
                         [&](const PlannedFormat& f) { return !f.is_reference && !d.done.at(f.name); });
    });
    if (!rounds || !short_of_target || limit >= max_chunks) break;
    limit = std::min(max_chunks, 2 * limit);
  }
  LogPrecision(ctx, all);
  // Every chunk is stored now: the caches have served their purpose.
  for (DataEval& d : all) {
    if (!d.cache) continue;
    d.cache.reset();
    fs::remove(d.cache_path, ec);
  }
  return Ok();
}

}  // namespace quantlab::lab::internal
