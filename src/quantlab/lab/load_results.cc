// The LabResults the analysis reads, rebuilt from the plan (meta "lab") and the typed rows.
#include <algorithm>

#include "quantlab/eval/kld.h"
#include "quantlab/lab/lab.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/lab/store_schema.h"

namespace quantlab::lab {
namespace {

using internal::LabPlan;
using internal::PlannedData;
using internal::PlannedFormat;

Result<LabPlan> LoadPlan(const ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto meta, store.GetMeta("lab"));
  if (!meta) return MakeError("{}: no lab has been run into this database yet", store.path());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*meta);
  } catch (const std::exception& e) {
    return MakeError("{}: the stored lab plan is not valid JSON: {}", store.path(), e.what());
  }
  QL_ASSIGN_OR_RETURN_CTX(LabPlan plan, LabPlan::FromJson(j), "{}", store.path());
  return plan;
}

// The formats that have been quantized (the others are left out of the analysis), with their sizes.
Result<std::vector<const PlannedFormat*>> LoadFormats(const ResultsStore& store, const LabPlan& plan,
                                                      analysis::LabResults& r) {
  std::vector<const PlannedFormat*> made;
  for (const auto& f : plan.formats) {
    QL_ASSIGN_OR_RETURN(auto row, GetRow<QuantizeRow>(store, plan.QuantizeKey(f), 0));
    if (!row) continue;
    analysis::FormatInfo info;
    info.name = f.name;
    info.is_base = f.is_reference;
    info.file_bytes = row->file_bytes;
    info.n_params = row->n_params;
    info.bits_per_weight = row->bits_per_weight;
    r.formats.push_back(info);
    made.push_back(&f);
  }
  return made;
}

// Only chunks every format has: the paired statistics need the same chunks throughout.
Result<std::set<int64_t>> CommonChunks(const ResultsStore& store, const LabPlan& plan,
                                       const std::vector<const PlannedFormat*>& formats,
                                       const PlannedData& d) {
  std::set<int64_t> common;
  for (size_t i = 0; i < formats.size(); ++i) {
    QL_ASSIGN_OR_RETURN(std::set<int64_t> mine, internal::CompleteChunks(store, plan, *formats[i], d));
    if (i == 0) {
      common = std::move(mine);
    } else {
      std::erase_if(common, [&](int64_t c) { return !mine.count(c); });
    }
  }
  if (plan.chunks >= 0) std::erase_if(common, [&](int64_t c) { return c >= plan.chunks; });
  return common;
}

// Adaptive precision: each format took its own number of chunks, the first ones of one order. Every
// format's chunks are read in that order (the base's complete chunks sorted by ChunkSortKey), as far as it
// has them without a gap, so that chunk i of every format covers the same tokens, and the analysis'
// paired comparisons over the first n chunks pair the same chunks.
Result<std::vector<int64_t>> PrefixChunks(const ResultsStore& store, const LabPlan& plan,
                                          const PlannedFormat& f, const PlannedData& d) {
  const PlannedFormat& base = internal::ReferenceOf(plan);
  QL_ASSIGN_OR_RETURN(const std::set<int64_t> base_chunks, internal::CompleteChunks(store, plan, base, d));
  QL_ASSIGN_OR_RETURN(const std::set<int64_t> mine, internal::CompleteChunks(store, plan, f, d));
  std::vector<std::pair<uint64_t, int64_t>> keyed;
  for (int64_t i : base_chunks) keyed.emplace_back(internal::ChunkSortKey(plan, d, i), i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> prefix;
  for (const auto& [key, i] : keyed) {
    if (!mine.count(i)) break;
    prefix.push_back(i);
  }
  return prefix;
}

Status LoadChunks(const ResultsStore& store, const LabPlan& plan,
                  const std::vector<const PlannedFormat*>& formats, const PlannedData& d,
                  analysis::LabResults& r) {
  QL_ASSIGN_OR_RETURN(const std::set<int64_t> common_set, CommonChunks(store, plan, formats, d));
  const std::vector<int64_t> common(common_set.begin(), common_set.end());
  for (const PlannedFormat* f : formats) {
    std::vector<int64_t> chunks = common;
    if (plan.adaptive) {
      QL_ASSIGN_OR_RETURN(chunks, PrefixChunks(store, plan, *f, d));
    }
    QL_ASSIGN_OR_RETURN(auto ppl, GetRows<PplChunkRow>(store, plan.PplKey(*f, d)));
    std::map<int64_t, KldChunkRow> kld;
    if (!f->is_reference) {
      QL_ASSIGN_OR_RETURN(kld, GetRows<KldChunkRow>(store, plan.KldKey(*f, d)));
    }
    analysis::PerplexityResult p;
    p.format = f->name;
    p.dataset = d.name;
    KldAccumulator acc;
    analysis::KldResult k;
    k.format = f->name;
    k.dataset = d.name;
    for (int64_t i : chunks) {
      const PplChunkRow& row = ppl.at(i);
      p.chunk_nll_sum.push_back(row.sum);
      p.chunk_tokens.push_back(row.count);
      if (!f->is_reference) {
        KldChunkRow& stored = kld.at(i);
        KldChunk chunk;
        chunk.index = static_cast<int>(i);
        chunk.sums = stored.sums;
        chunk.kld_values = std::move(stored.kld_values);
        chunk.p_diff_values = std::move(stored.p_diff_values);
        k.chunk_mean_kld.push_back(chunk.sums.count ? chunk.sums.sum_kld / chunk.sums.count : 0.0);
        acc.Add(chunk);
      }
    }
    if (p.chunk_nll_sum.empty()) continue;
    r.perplexity.push_back(p);
    if (!f->is_reference && acc.n_chunks() > 0) {
      const KldStats s = acc.Finish();
      k.tokens = s.count;
      k.mean_kld = s.kld.value;
      k.median_kld = s.kld_median;
      k.p99_kld = s.kld_p99;
      k.max_kld = s.kld_max;
      k.mean_delta_p = s.p_diff.value;
      k.rms_delta_p = s.p_diff_rms.value;
      k.same_top_fraction = s.same_top.value;
      r.kld.push_back(k);
    }
  }
  return Ok();
}

Status LoadSpeed(const ResultsStore& store, const LabPlan& plan, analysis::LabResults& r) {
  for (const auto& f : plan.formats) {
    QL_ASSIGN_OR_RETURN(auto speed, GetRow<SpeedRow>(store, plan.SpeedKey(f), 0));
    QL_ASSIGN_OR_RETURN(auto ram, GetRow<RamRow>(store, plan.RamKey(f), 0));
    if (!speed && !ram) continue;
    analysis::SpeedResult s;
    s.format = f.name;
    if (speed) {
      s.pp_tps = speed->pp_tps;
      s.pp_stddev = speed->pp_stddev;
      s.tg_tps = speed->tg_tps;
      s.tg_stddev = speed->tg_stddev;
      s.repetitions = speed->repetitions;
      s.peak_rss_bytes = speed->peak_rss_bytes;
      s.threads = speed->threads;
    }
    if (ram) s.predicted_ram_bytes = ram->total;
    r.speed.push_back(s);
  }
  return Ok();
}

Status LoadSamples(const ResultsStore& store, const LabPlan& plan, analysis::LabResults& r) {
  for (size_t p = 0; p < plan.prompts.size(); ++p) {
    for (const auto& f : plan.formats) {
      QL_ASSIGN_OR_RETURN(auto row, GetRow<SampleRow>(store, plan.SampleKey(f, p), static_cast<int64_t>(p)));
      if (!row) continue;
      analysis::GenerationSample s;
      s.format = f.name;
      s.prompt_index = static_cast<int>(p);
      s.prompt = plan.prompts[p];
      s.sampled_text = row->sampled_text;
      s.greedy_text = row->greedy_text;
      s.greedy_tokens = row->greedy_tokens;
      r.samples.push_back(s);
    }
  }
  return Ok();
}

// Each format's scored tasks of each task set, in the plan's selection order; the analysis pairs formats
// on the tasks both have.
Status LoadTasks(const ResultsStore& store, const LabPlan& plan,
                 const std::vector<const PlannedFormat*>& formats, analysis::LabResults& r) {
  for (const auto& t : plan.task_sets) {
    r.task_sets.push_back(t.name());
    for (const PlannedFormat* f : formats) {
      QL_ASSIGN_OR_RETURN(auto rows, GetRows<TaskRow>(store, plan.TaskKey(*f, t)));
      analysis::TaskResult result;
      result.format = f->name;
      result.task_set = t.name();
      for (size_t task : t.selected) {
        const auto row = rows.find(static_cast<int64_t>(task));
        if (row == rows.end()) continue;
        result.tasks.push_back(static_cast<int64_t>(task));
        result.correct.push_back(row->second.correct ? 1 : 0);
      }
      if (!result.tasks.empty()) r.tasks.push_back(std::move(result));
    }
  }
  return Ok();
}

}  // namespace

Result<analysis::LabResults> LoadLabResults(const ResultsStore& store) {
  QL_RETURN_IF_ERROR(CheckStoreSchema(store));
  QL_ASSIGN_OR_RETURN(LabPlan plan, LoadPlan(store));
  analysis::LabResults r;
  r.model_name = plan.model_name;
  r.model_hash = plan.model_hash;
  r.tool_version = plan.tool_version;
  r.base_format = plan.reference.empty() ? plan.base_format : plan.reference;
  if (!plan.reference.empty()) r.unevaluated_base = plan.base_format;
  r.context = plan.n_ctx;
  r.generated_tokens = plan.sample.n_predict;
  r.sampling = plan.sampling_text;
  r.ram_budget_bytes = plan.ram_budget_bytes;
  r.weights = plan.weights;
  r.machine = plan.machine;

  QL_ASSIGN_OR_RETURN(auto formats, LoadFormats(store, plan, r));
  for (const PlannedFormat* f : formats) {
    if (f->uses_imatrix) r.imatrix.formats.push_back(f->name);
  }
  if (!r.imatrix.formats.empty()) {
    const internal::PlannedImatrix& m = plan.imatrix;
    r.imatrix.source = m.source == "calibration"
                           ? fmt::format("computed by the lab from {} on {} chunks of {} tokens",
                                         m.source_path, m.chunks, m.n_ctx)
                           : fmt::format("from {}", m.source_path);
    r.imatrix.hash = m.hash;
    for (const auto& o : m.overlaps) r.imatrix.overlaps.push_back({o.data, o.fraction, o.identical});
  }
  for (const auto& d : plan.data) {
    r.datasets.push_back(d.name);
    QL_RETURN_IF_ERROR(LoadChunks(store, plan, formats, d, r));
  }
  QL_RETURN_IF_ERROR(LoadSpeed(store, plan, r));
  QL_RETURN_IF_ERROR(LoadSamples(store, plan, r));
  QL_RETURN_IF_ERROR(LoadTasks(store, plan, formats, r));
  return r;
}

}  // namespace quantlab::lab
