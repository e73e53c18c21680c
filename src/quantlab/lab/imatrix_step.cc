// The lab's importance matrix: settled once, before the plan's keys are used. A --imatrix file is copied
// into the lab folder (so the report's folder holds what the formats were made with); a calibration text
// is turned into an imatrix with the engine, as `quantlab imatrix` would, and stored there in GGUF form.
// The store's meta "imatrix" records what was used; a resumed lab reuses a computed imatrix whose text,
// model and settings are unchanged, and says so when the imatrix differs from the last run's.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "quantlab/eval/imatrix.h"
#include "quantlab/eval/text_overlap.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/model/model.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/util/atomic_file.h"
#include "quantlab/util/hash.h"
#include "quantlab/util/progress.h"
#include "quantlab/util/text_file.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::lab::internal {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMetaKey = "imatrix";

nlohmann::json ToJson(const PlannedImatrix& m, const std::string& model_hash, const std::string& tool) {
  return {{"source", m.source},
          {"source_path", m.source_path},
          {"stored_path", m.stored_path},
          {"hash", m.hash},
          {"calibration_hash", m.calibration_hash},
          {"chunks", m.chunks},
          {"n_ctx", m.n_ctx},
          {"model_hash", model_hash},
          {"tool_version", tool}};
}

// The record of the last run, or null.
Result<nlohmann::json> LastRecord(const ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(const std::optional<std::string> meta, store.GetMeta(kMetaKey));
  if (!meta) return nlohmann::json();
  try {
    return nlohmann::json::parse(*meta);
  } catch (const std::exception& e) {
    return MakeError("{}: the stored imatrix record is not valid JSON: {}", store.path(), e.what());
  }
}

// Measures, records in the plan and warns about each evaluation text the calibration text overlaps
// (eval/text_overlap.h); the report repeats it as a caveat.
void MeasureOverlaps(const Model& model, const std::string& calibration, const LabConfig& config,
                     const LabPlan& plan, PlannedImatrix& m, const LabLog& log) {
  m.overlaps.clear();
  const std::string hash = Sha256Hex(calibration);
  const std::vector<int32_t> calib_tokens = model.tokenizer().Encode(calibration, /*add_special=*/false);
  for (const PlannedData& d : plan.data) {
    if (d.hash == hash) {
      m.overlaps.push_back({d.name, 1.0, true});
      if (log)
        log(
            fmt::format("warning: the calibration text {} is the evaluation text '{}' (same SHA-256): the "
                        "imatrix formats are measured on the text they were tuned on",
                        config.calibration_file, d.name));
      continue;
    }
    const TextOverlap overlap = MeasureOverlap(calib_tokens, model.tokenizer().Encode(d.text, false));
    if (!overlap.worth_a_warning()) continue;
    m.overlaps.push_back({d.name, overlap.fraction(), false});
    if (log)
      log(
          fmt::format("warning: the calibration text {} overlaps the evaluation text '{}': {:.1f}% of its "
                      "{}-token windows ({} of {}) occur there",
                      config.calibration_file, d.name, 100.0 * overlap.fraction(), kOverlapWindow,
                      overlap.shared, overlap.windows));
  }
}

Status UseFile(const LabConfig& config, PlannedImatrix& m) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string bytes, ReadText(config.imatrix_file), "--imatrix");
  const auto span = std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  QL_ASSIGN_OR_RETURN_CTX(const ImportanceMatrix parsed, ParseImatrix(span, config.imatrix_file),
                          "--imatrix");
  m.source = "file";
  m.source_path = config.imatrix_file;
  m.hash = Sha256Hex(bytes);
  m.chunks = std::max(parsed.chunks, 0);
  m.stored_path = (fs::path(config.out_dir) / (IsGgufBytes(span) ? "imatrix.gguf" : "imatrix.dat")).string();
  QL_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create(m.stored_path));
  QL_RETURN_IF_ERROR(out.Write(bytes));
  return out.Commit();
}

// The imatrix of the calibration text: the stored one when the last run computed it from the same text,
// model and settings and the file is intact, else computed now.
Status UseCalibration(const LabConfig& config, const LabPlan& plan, const nlohmann::json& last,
                      PlannedImatrix& m, const LabLog& log) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string text, ReadText(config.calibration_file), "--calibration");
  if (text.empty()) return MakeError("--calibration {}: the file is empty", config.calibration_file);
  m.source = "calibration";
  m.source_path = config.calibration_file;
  m.calibration_hash = Sha256Hex(text);
  m.n_ctx = ImatrixContextSize(plan.n_ctx);
  m.stored_path = (fs::path(config.out_dir) / "imatrix.gguf").string();
  const int wanted_chunks = config.calibration_chunks;

  QL_ASSIGN_OR_RETURN(auto model, Model::Load(plan.base_path));
  MeasureOverlaps(*model, text, config, plan, m, log);
  if (last.is_object() && last.value("source", "") == "calibration" &&
      last.value("calibration_hash", "") == m.calibration_hash &&
      last.value("model_hash", "") == plan.model_hash && last.value("n_ctx", 0) == m.n_ctx &&
      last.value("requested_chunks", -2) == wanted_chunks && last.value("stored_path", "") == m.stored_path) {
    auto stored = Sha256FileHex(m.stored_path);
    if (stored.ok() && *stored == last.value("hash", "")) {
      m.hash = *stored;
      m.chunks = last.value("chunks", 0);
      if (log)
        log(fmt::format("imatrix: reusing {} (computed from {}, SHA-256 {})", m.stored_path,
                        config.calibration_file, m.hash.substr(0, 16)));
      return Ok();
    }
    if (log) log(fmt::format("imatrix: {} is missing or changed; computing it again", m.stored_path));
  }

  const ImatrixOptions options{.n_ctx = plan.n_ctx, .max_chunks = wanted_chunks, .process_output = false};
  QL_ASSIGN_OR_RETURN_CTX(const ImatrixInput input, PrepareImatrix(*model, text, options), "--calibration {}",
                          config.calibration_file);
  if (log) {
    log(fmt::format("imatrix: computing the importance matrix from {} ({} chunks of {} tokens)",
                    config.calibration_file, input.tokens.n_chunks, input.tokens.n_ctx));
  }
  ThreadPool pool(config.threads);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> devnull(nullptr, &std::fclose);
  std::FILE* progress_out = stderr;
  if (!config.progress) {
    devnull.reset(std::fopen("/dev/null", "w"));
    if (devnull) progress_out = devnull.get();
  }
  ProgressBar bar("imatrix", static_cast<uint64_t>(input.tokens.n_chunks), "chunks", progress_out);
  auto result = ComputeImatrix(*model, input, pool, config.calibration_file,
                               [&](int done, int) { bar.Update(static_cast<uint64_t>(done)); });
  bar.Finish();
  if (!result.ok()) return result.error().Wrap("--calibration " + config.calibration_file);
  QL_RETURN_IF_ERROR(WriteImatrixGgufFile(m.stored_path, result->gguf));
  QL_ASSIGN_OR_RETURN(m.hash, Sha256FileHex(m.stored_path));
  m.chunks = result->n_chunks;
  return Ok();
}

}  // namespace

Status ResolveImatrix(const LabConfig& config, LabPlan& plan, ResultsStore& store, const LabLog& log) {
  const bool used = std::any_of(plan.formats.begin(), plan.formats.end(),
                                [](const PlannedFormat& f) { return f.uses_imatrix; });
  if (!used) {
    if (log && (!config.imatrix_file.empty() || !config.calibration_file.empty()))
      log("warning: an importance matrix was given, but none of the lab's formats uses one");
    return Ok();
  }
  QL_ASSIGN_OR_RETURN(const nlohmann::json last, LastRecord(store));
  PlannedImatrix& m = plan.imatrix;
  if (!config.imatrix_file.empty()) {
    QL_RETURN_IF_ERROR(UseFile(config, m));
  } else {
    QL_RETURN_IF_ERROR(UseCalibration(config, plan, last, m, log));
  }
  const std::string last_hash = last.is_object() ? last.value("hash", "") : "";
  if (log && !last_hash.empty() && last_hash != m.hash) {
    log(
        fmt::format("imatrix: {} differs from the last run's importance matrix (SHA-256 {} -> {}): the "
                    "formats that use it are quantized and measured again",
                    m.source_path, last_hash.substr(0, 16), m.hash.substr(0, 16)));
  }
  // One imatrix in the folder: a copy of the other form left by an earlier run would mislead.
  for (const char* name : {"imatrix.gguf", "imatrix.dat"}) {
    const fs::path other = fs::path(config.out_dir) / name;
    std::error_code ec;
    if (other != fs::path(m.stored_path)) fs::remove(other, ec);
  }
  nlohmann::json record = ToJson(m, plan.model_hash, plan.tool_version);
  record["requested_chunks"] = config.calibration_chunks;
  return store.SetMeta(kMetaKey, record.dump());
}

}  // namespace quantlab::lab::internal
