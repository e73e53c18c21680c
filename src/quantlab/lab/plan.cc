// The lab's plan: the key of every kind of row, the chunks complete in the store, and the plan as JSON
// (meta "lab").
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <numeric>

#include "quantlab/lab/lab_internal.h"
#include "quantlab/util/hash.h"
#include "quantlab/util/text_file.h"

namespace quantlab::lab::internal {
namespace {

// A format quantized with the imatrix is keyed by its name and the imatrix's hash, so rows measured with
// another imatrix never meet; every other key is what it was before imatrices.
std::string FormatKey(const LabPlan& plan, const PlannedFormat& f) {
  if (!f.uses_imatrix) return f.name;
  return f.name + "@" + plan.imatrix.hash.substr(0, 16);
}

MeasurementKey MakeKey(const LabPlan& plan, const PlannedFormat& f, std::string dataset_hash,
                       std::string settings, RowKind kind) {
  return {plan.model_hash,     FormatKey(plan, f), std::move(dataset_hash),
          std::move(settings), plan.tool_version,  std::string(RowKindName(kind))};
}

}  // namespace

MeasurementKey LabPlan::QuantizeKey(const PlannedFormat& f) const {
  return MakeKey(*this, f, "", SettingsKey(QuantizeSettings{f.is_base, f.name}), RowKind::kQuantize);
}
MeasurementKey LabPlan::PplKey(const PlannedFormat& f, const PlannedData& d) const {
  return MakeKey(*this, f, d.hash, SettingsKey(eval), RowKind::kPplChunk);
}
MeasurementKey LabPlan::KldKey(const PlannedFormat& f, const PlannedData& d) const {
  // A KLD row belongs to its reference: rows measured against a --reference format never meet rows
  // measured against the base (whose keys are unchanged).
  nlohmann::json settings = eval;
  if (!reference.empty()) settings["reference"] = reference;
  return MakeKey(*this, f, d.hash, settings.dump(), RowKind::kKldChunk);
}
MeasurementKey LabPlan::SampleKey(const PlannedFormat& f, size_t prompt_index) const {
  return MakeKey(*this, f, Sha256Hex(prompts.at(prompt_index)), SettingsKey(sample), RowKind::kSample);
}
MeasurementKey LabPlan::SpeedKey(const PlannedFormat& f) const {
  return MakeKey(*this, f, "", SettingsKey(speed), RowKind::kSpeed);
}
MeasurementKey LabPlan::RamKey(const PlannedFormat& f) const {
  return MakeKey(*this, f, "", SettingsKey(ram), RowKind::kRam);
}

MeasurementKey LabPlan::TaskKey(const PlannedFormat& f, const PlannedTaskSet& t) const {
  return MakeKey(*this, f, t.hash, SettingsKey(TaskSettings{t.name(), n_ctx}), RowKind::kTask);
}

Result<std::vector<PlannedTaskSet>> PlanTaskSets(const LabConfig& config) {
  std::vector<PlannedTaskSet> sets;
  for (const TaskSetSpec& spec : config.tasks) {
    PlannedTaskSet t;
    t.kind = spec.kind;
    t.path = spec.path;
    QL_ASSIGN_OR_RETURN_CTX(const std::string content, ReadText(spec.path), "--tasks {}", t.name());
    t.hash = Sha256Hex(content);
    // llama-perplexity's HellaSwag draws min(n, all) tasks; 0 means every task for the lab.
    const size_t n = config.tasks_max.value_or(0);
    QL_ASSIGN_OR_RETURN_CTX(
        t.tasks, LoadTasks(spec.kind, spec.path, spec.kind == TaskKind::kHellaswag && n == 0 ? SIZE_MAX : n),
        "--tasks {}", t.name());
    t.n_in_file = t.tasks.n_in_file;
    for (const auto& x : t.tasks.hellaswag) t.selected.push_back(x.index);
    for (const auto& x : t.tasks.winogrande) t.selected.push_back(x.index);
    for (const auto& x : t.tasks.multiple_choice) t.selected.push_back(x.index);
    if (t.selected.empty()) return MakeError("--tasks {}: {}: no task to score", t.name(), spec.path);
    sets.push_back(std::move(t));
  }
  return sets;
}

Result<std::set<int64_t>> CompleteChunks(const ResultsStore& store, const LabPlan& plan,
                                         const PlannedFormat& f, const PlannedData& d) {
  QL_ASSIGN_OR_RETURN(std::set<int64_t> ppl, store.Items(plan.PplKey(f, d)));
  if (f.is_reference) return ppl;
  QL_ASSIGN_OR_RETURN(std::set<int64_t> kld, store.Items(plan.KldKey(f, d)));
  std::set<int64_t> both;
  std::set_intersection(ppl.begin(), ppl.end(), kld.begin(), kld.end(), std::inserter(both, both.end()));
  return both;
}

uint64_t ChunkSortKey(const LabPlan& plan, const PlannedData& d, int64_t chunk) {
  // splitmix64 of (seed, text hash, chunk): a fixed pseudo-random key per chunk, so the order needs
  // neither the chunk count nor a stored permutation, and any prefix is a uniform sample.
  uint64_t z = plan.chunk_seed ^ std::stoull(d.hash.substr(0, 16), nullptr, 16) ^
               (static_cast<uint64_t>(chunk) + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<int> ChunkOrder(const LabPlan& plan, const PlannedData& d, int n_chunks) {
  std::vector<int> order(std::max(0, n_chunks));
  std::iota(order.begin(), order.end(), 0);
  if (!plan.adaptive) return order;
  std::vector<std::pair<uint64_t, int>> keyed;
  for (int i : order) keyed.emplace_back(ChunkSortKey(plan, d, i), i);
  std::sort(keyed.begin(), keyed.end());
  for (size_t j = 0; j < keyed.size(); ++j) order[j] = keyed[j].second;
  return order;
}

nlohmann::json LabPlan::ToJson() const {
  nlohmann::json formats = nlohmann::json::array();
  for (const auto& f : this->formats) {
    formats.push_back({{"name", f.name},
                       {"recipe", static_cast<uint32_t>(f.recipe)},
                       {"is_base", f.is_base},
                       {"is_reference", f.is_reference},
                       {"uses_imatrix", f.uses_imatrix},
                       {"path", f.path}});
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& d : this->data) data.push_back({{"name", d.name}, {"path", d.path}, {"hash", d.hash}});
  nlohmann::json overlaps = nlohmann::json::array();
  for (const auto& o : imatrix.overlaps)
    overlaps.push_back({{"data", o.data}, {"fraction", o.fraction}, {"identical", o.identical}});
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : task_sets) {
    tasks.push_back({{"kind", t.name()},
                     {"path", t.path},
                     {"hash", t.hash},
                     {"n_in_file", t.n_in_file},
                     {"selected", t.selected}});
  }
  return {{"model_name", model_name},
          {"model_hash", model_hash},
          {"base_path", base_path},
          {"base_format", base_format},
          {"reference", reference},
          {"tool_version", tool_version},
          {"formats", formats},
          {"imatrix",
           {{"source", imatrix.source},
            {"source_path", imatrix.source_path},
            {"stored_path", imatrix.stored_path},
            {"hash", imatrix.hash},
            {"calibration_hash", imatrix.calibration_hash},
            {"chunks", imatrix.chunks},
            {"n_ctx", imatrix.n_ctx},
            {"overlaps", overlaps}}},
          {"data", data},
          {"prompts", prompts},
          {"tasks", tasks},
          {"n_ctx", n_ctx},
          {"chunks", chunks},
          {"adaptive", adaptive},
          {"chunk_seed", chunk_seed},
          {"ram_budget_bytes", ram_budget_bytes},
          {"weights", {{"size", weights.size}, {"quality", weights.quality}, {"speed", weights.speed}}},
          {"machine",
           {{"cpu_model", machine.cpu_model},
            {"simd", machine.simd},
            {"threads", machine.threads},
            {"logical_cpus", machine.logical_cpus},
            {"ram_bytes", machine.ram_bytes},
            {"llc_bytes", machine.llc_bytes},
            {"os", machine.os}}},
          {"eval_settings", eval},
          {"sample_settings", sample},
          {"speed_settings", speed},
          {"ram_settings", ram},
          {"sampling_text", sampling_text}};
}

Result<LabPlan> LabPlan::FromJson(const nlohmann::json& j) {
  LabPlan p;
  try {
    p.model_name = j.at("model_name");
    p.model_hash = j.at("model_hash");
    p.base_path = j.at("base_path");
    p.base_format = j.at("base_format");
    p.reference = j.value("reference", std::string());
    p.tool_version = j.at("tool_version");
    for (const auto& f : j.at("formats")) {
      PlannedFormat pf{f.at("name"), static_cast<Recipe>(f.at("recipe").get<uint32_t>()), f.at("is_base"),
                       f.at("path")};
      // Plans written before --reference compared every format with the base.
      pf.is_reference = f.value("is_reference", pf.is_base);
      // Plans written before imatrices had none.
      pf.uses_imatrix = f.value("uses_imatrix", false);
      p.formats.push_back(std::move(pf));
    }
    if (j.contains("imatrix")) {
      const auto& m = j.at("imatrix");
      p.imatrix = {m.at("source"),           m.at("source_path"), m.at("stored_path"), m.at("hash"),
                   m.at("calibration_hash"), m.at("chunks"),      m.at("n_ctx"),       {}};
      // Plans written before the overlap was kept have none.
      for (const auto& o : m.value("overlaps", nlohmann::json::array()))
        p.imatrix.overlaps.push_back({o.at("data"), o.at("fraction"), o.at("identical")});
    }
    for (const auto& d : j.at("data")) p.data.push_back({d.at("name"), d.at("path"), d.at("hash"), ""});
    p.prompts = j.at("prompts").get<std::vector<std::string>>();
    for (const auto& t : j.at("tasks")) {
      PlannedTaskSet pt;
      QL_ASSIGN_OR_RETURN(pt.kind, ParseTaskKind(t.at("kind").get<std::string>()));
      pt.path = t.at("path");
      pt.hash = t.at("hash");
      pt.n_in_file = t.at("n_in_file");
      pt.selected = t.at("selected").get<std::vector<size_t>>();
      p.task_sets.push_back(std::move(pt));
    }
    p.n_ctx = j.at("n_ctx");
    p.chunks = j.at("chunks");
    // Plans written before adaptive precision evaluated chunks in order.
    p.adaptive = j.value("adaptive", false);
    p.chunk_seed = j.value("chunk_seed", uint64_t{0});
    p.ram_budget_bytes = j.at("ram_budget_bytes");
    p.weights = {j.at("weights").at("size"), j.at("weights").at("quality"), j.at("weights").at("speed")};
    const auto& m = j.at("machine");
    p.machine = {m.at("cpu_model"), m.at("simd"),      m.at("threads"), m.at("logical_cpus"),
                 m.at("ram_bytes"), m.at("llc_bytes"), m.at("os")};
    p.eval = j.at("eval_settings").get<EvalSettings>();
    p.sample = j.at("sample_settings").get<SampleSettings>();
    p.speed = j.at("speed_settings").get<SpeedSettings>();
    p.ram = j.at("ram_settings").get<RamSettings>();
    p.sampling_text = j.at("sampling_text");
  } catch (const std::exception& e) {
    return MakeError("the lab's stored plan is incomplete: {}", e.what());
  }
  return p;
}

}  // namespace quantlab::lab::internal
