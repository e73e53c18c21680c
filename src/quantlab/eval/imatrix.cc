#include "quantlab/eval/imatrix.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "quantlab/eval/perplexity.h"
#include "quantlab/util/check.h"

namespace quantlab {

int ImatrixContextSize(int n_ctx) { return (n_ctx + 31) / 32 * 32; }

bool ImatrixCollector::Wanted(std::string_view name) const {
  return name.starts_with("blk.") || (process_output_ && name == "output.weight");
}

void ImatrixCollector::Observe(std::string_view weight_name, const float* x, int n_tokens, int64_t n_in) {
  if (n_tokens < kImatrixMinTokens || !Wanted(weight_name)) return;
  Entry* entry = nullptr;
  for (Entry& e : entries_) {
    if (e.name == weight_name) entry = &e;
  }
  if (entry == nullptr) {
    entries_.push_back({std::string(weight_name), std::vector<float>(static_cast<size_t>(n_in), 0.0f), 0, 0});
    entry = &entries_.back();
  }
  QL_CHECK(entry->sums.size() == static_cast<size_t>(n_in));
  ++entry->ncall;
  // Row after row in float, as llama.cpp's collector adds them.
  float* sums = entry->sums.data();
  for (int t = 0; t < n_tokens; ++t) {
    const float* row = x + static_cast<size_t>(t) * n_in;
    for (int64_t j = 0; j < n_in; ++j) sums[j] += row[j] * row[j];
  }
  entry->rows += n_tokens;
}

ImatrixDat ImatrixCollector::ToDat(const std::string& dataset) const {
  ImatrixDat dat;
  dat.last_call = 0;
  for (const Entry& e : entries_) {
    ImatrixDatEntry out{e.name, e.ncall, std::vector<float>(e.sums.size())};
    const float rows = static_cast<float>(e.rows);
    const float ncall = static_cast<float>(e.ncall);
    for (size_t j = 0; j < e.sums.size(); ++j) out.values[j] = (e.sums[j] / rows) * ncall;
    dat.entries.push_back(std::move(out));
    dat.last_call = std::max(dat.last_call, e.ncall);
  }
  dat.dataset = dataset;
  return dat;
}

ImatrixGguf ImatrixCollector::ToGguf(const std::string& dataset, uint32_t chunk_count,
                                     uint32_t chunk_size) const {
  ImatrixGguf out;
  for (const Entry& e : entries_) {
    out.entries.push_back(
        {e.name, static_cast<int64_t>(e.sums.size()), e.sums, {static_cast<float>(e.rows)}});
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  out.datasets = {dataset};
  out.chunk_count = chunk_count;
  out.chunk_size = chunk_size;
  return out;
}

Result<ImatrixInput> PrepareImatrix(const Model& model, std::string_view text,
                                    const ImatrixOptions& options) {
  if (options.n_ctx < 1) return MakeError("context size must be at least 1 (got {})", options.n_ctx);
  if (options.max_chunks == 0 || options.max_chunks < -1)
    return MakeError("--chunks must be at least 1, or -1 for all (got {})", options.max_chunks);
  const int n_ctx = ImatrixContextSize(options.n_ctx);
  if (n_ctx > model.config().n_ctx_train) {
    return MakeError(
        "context size {} (-c {} rounded up to a multiple of 32, as llama.cpp does) is larger "
        "than the model's training context {}",
        n_ctx, options.n_ctx, model.config().n_ctx_train);
  }
  if (text.empty()) return MakeError("the calibration text is empty");
  ImatrixInput input{options, {}};
  PerplexityTokens& t = input.tokens;
  t.n_ctx = n_ctx;
  t.tokens = model.tokenizer().Encode(text, /*add_special=*/true);
  t.bos = model.tokenizer().add_bos() ? model.tokenizer().bos() : -1;
  if (t.tokens.size() < static_cast<size_t>(2) * n_ctx) {
    return MakeError(
        "the calibration text tokenizes to only {} tokens; a context of {} needs at least {} "
        "(two chunks, as llama-imatrix requires)",
        t.tokens.size(), n_ctx, 2 * n_ctx);
  }
  const int64_t available = static_cast<int64_t>(t.tokens.size()) / n_ctx;
  t.n_chunks =
      static_cast<int>(options.max_chunks < 0 ? available : std::min<int64_t>(options.max_chunks, available));
  return input;
}

Result<ImatrixResult> ComputeImatrix(const Model& model, const ImatrixInput& input, ThreadPool& pool,
                                     const std::string& dataset_name, const ImatrixProgress& progress) {
  const ImatrixOptions& options = input.options;
  const PerplexityTokens& tokens = input.tokens;
  const int n_ctx = tokens.n_ctx;
  // Session::Decode cuts what it is given into forward passes of its n_batch: the micro-batches.
  const int n_batch = std::min(kImatrixBatch, options.n_ctx);
  const int n_ubatch = std::min(kImatrixMicroBatch, n_batch);
  QL_ASSIGN_OR_RETURN(
      const auto session,
      Session::Create(model, SessionOptions{.n_ctx = n_ctx, .n_batch = n_ubatch, .pool = &pool}));

  ImatrixCollector collector(options.process_output);
  session->SetActivationObserver(&collector);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < tokens.n_chunks; ++i) {
    session->Reset();
    const std::vector<int32_t> chunk = tokens.ChunkInput(i);
    for (int begin = 0; begin < n_ctx; begin += n_batch) {
      const auto batch = std::span<const int32_t>(chunk).subspan(begin, std::min(n_batch, n_ctx - begin));
      // llama-imatrix asks for every token's logits; output.weight then sees every row.
      const int n_outputs = options.process_output ? static_cast<int>(batch.size()) : 1;
      QL_RETURN_IF_ERROR_CTX(session->Decode(batch, n_outputs), "chunk {}", i + 1);
    }
    if (progress) progress(i + 1, tokens.n_chunks);
  }
  session->SetActivationObserver(nullptr);

  ImatrixResult result;
  result.dat = collector.ToDat(dataset_name);
  result.gguf =
      collector.ToGguf(dataset_name, static_cast<uint32_t>(tokens.n_chunks), static_cast<uint32_t>(n_ctx));
  result.n_ctx = n_ctx;
  result.n_chunks = tokens.n_chunks;
  result.n_tokens = tokens.tokens.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Result<ImatrixResult> ComputeImatrix(const Model& model, std::string_view text, const ImatrixOptions& options,
                                     ThreadPool& pool, const std::string& dataset_name,
                                     const ImatrixProgress& progress) {
  QL_ASSIGN_OR_RETURN(const ImatrixInput input, PrepareImatrix(model, text, options));
  return ComputeImatrix(model, input, pool, dataset_name, progress);
}

}  // namespace quantlab
