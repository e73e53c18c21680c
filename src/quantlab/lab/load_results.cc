// The lab's plan as JSON (meta "lab"), and the LabResults the analysis reads, rebuilt from the rows.
#include <cmath>
#include <cstring>
#include <set>

#include "quantlab/eval/kld.h"
#include "quantlab/lab/lab.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/util/hash.h"

namespace quantlab::lab {
namespace internal {

std::string LabPlan::quantize_settings(const PlannedFormat& f) const {
  return nlohmann::json{{"recipe", f.name}, {"base", f.is_base}}.dump();
}

nlohmann::json LabPlan::ToJson() const {
  nlohmann::json formats = nlohmann::json::array();
  for (const auto& f : this->formats) {
    formats.push_back({{"name", f.name},
                       {"recipe", static_cast<uint32_t>(f.recipe)},
                       {"is_base", f.is_base},
                       {"path", f.path}});
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& d : this->data) data.push_back({{"name", d.name}, {"path", d.path}, {"hash", d.hash}});
  return {{"model_name", model_name},
          {"model_hash", model_hash},
          {"base_path", base_path},
          {"base_format", base_format},
          {"tool_version", tool_version},
          {"formats", formats},
          {"data", data},
          {"prompts", prompts},
          {"n_ctx", n_ctx},
          {"chunks", chunks},
          {"ram_budget_bytes", ram_budget_bytes},
          {"weights", {{"size", weights.size}, {"quality", weights.quality}, {"speed", weights.speed}}},
          {"machine",
           {{"cpu_model", machine.cpu_model},
            {"simd", machine.simd},
            {"threads", machine.threads},
            {"logical_cpus", machine.logical_cpus},
            {"ram_bytes", machine.ram_bytes},
            {"os", machine.os}}},
          {"eval_settings", eval_settings},
          {"sample_settings", sample_settings},
          {"speed_settings", speed_settings},
          {"ram_settings", ram_settings},
          {"n_predict", n_predict},
          {"sampling_text", sampling_text}};
}

Result<LabPlan> LabPlan::FromJson(const nlohmann::json& j) {
  LabPlan p;
  try {
    p.model_name = j.at("model_name");
    p.model_hash = j.at("model_hash");
    p.base_path = j.at("base_path");
    p.base_format = j.at("base_format");
    p.tool_version = j.at("tool_version");
    for (const auto& f : j.at("formats")) {
      p.formats.push_back(
          {f.at("name"), static_cast<Recipe>(f.at("recipe").get<uint32_t>()), f.at("is_base"), f.at("path")});
    }
    for (const auto& d : j.at("data")) p.data.push_back({d.at("name"), d.at("path"), d.at("hash"), ""});
    p.prompts = j.at("prompts").get<std::vector<std::string>>();
    p.n_ctx = j.at("n_ctx");
    p.chunks = j.at("chunks");
    p.ram_budget_bytes = j.at("ram_budget_bytes");
    p.weights = {j.at("weights").at("size"), j.at("weights").at("quality"), j.at("weights").at("speed")};
    const auto& m = j.at("machine");
    p.machine = {m.at("cpu_model"),    m.at("simd"),      m.at("threads"),
                 m.at("logical_cpus"), m.at("ram_bytes"), m.at("os")};
    p.eval_settings = j.at("eval_settings");
    p.sample_settings = j.at("sample_settings");
    p.speed_settings = j.at("speed_settings");
    p.ram_settings = j.at("ram_settings");
    p.n_predict = j.at("n_predict");
    p.sampling_text = j.at("sampling_text");
  } catch (const std::exception& e) {
    return MakeError("the lab's stored plan is incomplete: {}", e.what());
  }
  return p;
}

}  // namespace internal

namespace {

std::vector<float> Floats(const std::string& blob, size_t offset, size_t n) {
  std::vector<float> v(n);
  if (n && blob.size() >= (offset + n) * sizeof(float))
    std::memcpy(v.data(), blob.data() + offset * sizeof(float), n * sizeof(float));
  return v;
}

}  // namespace

Result<analysis::LabResults> LoadLabResults(const ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto meta, store.GetMeta("lab"));
  if (!meta) return MakeError("{}: no lab has been run into this database yet", store.path());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*meta);
  } catch (const std::exception& e) {
    return MakeError("{}: the stored lab plan is not valid JSON: {}", store.path(), e.what());
  }
  QL_ASSIGN_OR_RETURN(internal::LabPlan plan, internal::LabPlan::FromJson(j));

  analysis::LabResults r;
  r.model_name = plan.model_name;
  r.model_hash = plan.model_hash;
  r.tool_version = plan.tool_version;
  r.base_format = plan.base_format;
  r.context = plan.n_ctx;
  r.generated_tokens = plan.n_predict;
  r.sampling = plan.sampling_text;
  r.ram_budget_bytes = plan.ram_budget_bytes;
  r.weights = plan.weights;
  r.machine = plan.machine;

  for (const auto& f : plan.formats) {
    QL_ASSIGN_OR_RETURN(auto row, store.Get(plan.Key(f.name, "", plan.quantize_settings(f), "quantize"), 0));
    if (!row) continue;  // not quantized (yet): the format is left out of the analysis
    analysis::FormatInfo info;
    info.name = f.name;
    info.is_base = f.is_base;
    info.file_bytes = row->value.value("file_bytes", uint64_t{0});
    info.n_params = row->value.value("n_params", uint64_t{0});
    info.bits_per_weight = row->value.value("bits_per_weight", analysis::kNaN);
    r.formats.push_back(info);
  }

  for (const auto& d : plan.data) {
    r.datasets.push_back(d.name);
    // Only chunks every format has: the paired statistics need the same chunks throughout.
    std::map<std::string, std::map<int64_t, Measurement>> ppl, kld;
    std::set<int64_t> common;
    bool first = true;
    for (const auto& f : r.formats) {
      QL_ASSIGN_OR_RETURN(ppl[f.name],
                          store.GetAll(plan.Key(f.name, d.hash, plan.eval_settings, "ppl_chunk")));
      if (!f.is_base) {
        QL_ASSIGN_OR_RETURN(kld[f.name],
                            store.GetAll(plan.Key(f.name, d.hash, plan.eval_settings, "kld_chunk")));
      }
      std::set<int64_t> mine;
      for (const auto& [i, m] : ppl[f.name]) {
        if (f.is_base || kld[f.name].count(i)) mine.insert(i);
      }
      if (first) {
        common = mine;
        first = false;
      } else {
        std::set<int64_t> both;
        for (int64_t i : common) {
          if (mine.count(i)) both.insert(i);
        }
        common = both;
      }
    }
    if (plan.chunks >= 0) {
      std::set<int64_t> capped;
      for (int64_t i : common) {
        if (i < plan.chunks) capped.insert(i);
      }
      common = capped;
    }
    for (const auto& f : r.formats) {
      analysis::PerplexityResult p;
      p.format = f.name;
      p.dataset = d.name;
      KldAccumulator acc;
      analysis::KldResult k;
      k.format = f.name;
      k.dataset = d.name;
      for (int64_t i : common) {
        const auto& row = ppl[f.name][i].value;
        p.chunk_nll_sum.push_back(row.value("sum", 0.0));
        p.chunk_tokens.push_back(row.value("count", int64_t{0}));
        if (!f.is_base) {
          const Measurement& m = kld[f.name][i];
          KldChunk chunk;
          chunk.index = static_cast<int>(i);
          chunk.sums = internal::KldSumsFromJson(m.value.at("sums"));
          const size_t n = m.value.value("n_values", size_t{0});
          chunk.kld_values = Floats(m.blob, 0, n);
          chunk.p_diff_values = Floats(m.blob, n, n);
          k.chunk_mean_kld.push_back(chunk.sums.count ? chunk.sums.sum_kld / chunk.sums.count : 0.0);
          acc.Add(chunk);
        }
      }
      if (p.chunk_nll_sum.empty()) continue;
      r.perplexity.push_back(p);
      if (!f.is_base && acc.n_chunks() > 0) {
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
  }

  for (const auto& f : plan.formats) {
    analysis::SpeedResult s;
    s.format = f.name;
    bool any = false;
    QL_ASSIGN_OR_RETURN(auto speed, store.Get(plan.Key(f.name, "", plan.speed_settings, "speed"), 0));
    if (speed) {
      any = true;
      s.pp_tps = speed->value.value("pp_tps", analysis::kNaN);
      s.pp_stddev = speed->value.value("pp_stddev", analysis::kNaN);
      s.tg_tps = speed->value.value("tg_tps", analysis::kNaN);
      s.tg_stddev = speed->value.value("tg_stddev", analysis::kNaN);
      s.peak_rss_bytes = speed->value.value("peak_rss_bytes", uint64_t{0});
      s.threads = speed->value.value("threads", 0);
    }
    QL_ASSIGN_OR_RETURN(auto ram, store.Get(plan.Key(f.name, "", plan.ram_settings, "ram"), 0));
    if (ram) {
      any = true;
      s.predicted_ram_bytes = ram->value.value("total", uint64_t{0});
    }
    if (any) r.speed.push_back(s);
  }

  for (size_t p = 0; p < plan.prompts.size(); ++p) {
    for (const auto& f : plan.formats) {
      QL_ASSIGN_OR_RETURN(
          auto row, store.Get(plan.Key(f.name, Sha256Hex(plan.prompts[p]), plan.sample_settings, "sample"),
                              static_cast<int64_t>(p)));
      if (!row) continue;
      analysis::GenerationSample s;
      s.format = f.name;
      s.prompt_index = static_cast<int>(p);
      s.prompt = plan.prompts[p];
      s.sampled_text = row->value.value("sampled_text", "");
      s.greedy_text = row->value.value("greedy_text", "");
      s.greedy_tokens = row->value.value("greedy_tokens", std::vector<int32_t>{});
      r.samples.push_back(s);
    }
  }
  return r;
}

}  // namespace quantlab::lab
