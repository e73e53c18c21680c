#include <algorithm>

#include "quantlab/model/forward.h"
#include "quantlab/model/kv_cache.h"
#include "quantlab/model/model.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

Session::Session(const Model& model, int n_ctx, int n_batch)
    : model_(model), n_ctx_(n_ctx), n_batch_(n_batch) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Create(const Model& model, const SessionOptions& options) {
  const LlamaConfig& c = model.config();
  const int n_ctx = options.n_ctx == 0 ? c.n_ctx_train : options.n_ctx;
  if (n_ctx < 1) return MakeError("context size must be at least 1 (got {})", options.n_ctx);
  if (n_ctx > c.n_ctx_train) {
    return MakeError("context size {} is larger than the model's training context {} ({})", n_ctx,
                     c.n_ctx_train, model.path());
  }
  if (options.n_batch < 1) return MakeError("batch size must be at least 1 (got {})", options.n_batch);
  if (options.n_threads < 0) return MakeError("thread count must be >= 0 (got {})", options.n_threads);
  const int n_batch = std::min(options.n_batch, n_ctx);

  std::unique_ptr<Session> s(new Session(model, n_ctx, n_batch));
  if (options.pool != nullptr) {
    s->pool_ = options.pool;
  } else {
    s->owned_pool_ = std::make_unique<ThreadPool>(options.n_threads);
    s->pool_ = s->owned_pool_.get();
  }
  s->kv_ = std::make_unique<KvCache>(c.n_layer, n_ctx, c.n_embd_kv());
  s->scratch_ = std::make_unique<ForwardScratch>(c, n_batch, n_ctx, s->pool_->size());
  return s;
}

Result<std::span<const float>> Session::Decode(std::span<const int32_t> tokens, int n_outputs) {
  const LlamaConfig& c = model_.config();
  const int n = static_cast<int>(tokens.size());
  if (n == 0) return MakeError("no tokens to evaluate");
  if (n_outputs < 0 || n_outputs > n)
    return MakeError("asked for {} logit rows from {} tokens", n_outputs, n);
  if (n_past() + n > n_ctx_) {
    return MakeError("{} tokens do not fit in the context: {} of {} positions are already used", n, n_past(),
                     n_ctx_);
  }
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab) {
      return MakeError("token id {} at index {} is outside the vocabulary (0..{})", tokens[i], i,
                       c.n_vocab - 1);
    }
  }
  logits_.resize(static_cast<size_t>(n_outputs) * c.n_vocab);
  const int first_output = n - n_outputs;  // index of the first token whose logits are returned
  for (int begin = 0; begin < n; begin += n_batch_) {
    const int end = std::min(n, begin + n_batch_);
    const int outputs_here = std::max(0, end - std::max(begin, first_output));
    float* dst =
        logits_.data() + static_cast<size_t>(std::max(0, end - outputs_here - first_output)) * c.n_vocab;
    ForwardBatch(c, model_.weights(), *kv_, *scratch_, *pool_, tokens.subspan(begin, end - begin),
                 outputs_here, dst);
  }
  return std::span<const float>(logits_);
}

void Session::Reset() { kv_->set_n_past(0); }

void Session::SetActivationObserver(ActivationObserver* observer) { scratch_->observer = observer; }

void Session::Truncate(int n_keep) { kv_->set_n_past(std::clamp(n_keep, 0, kv_->n_past())); }

int Session::n_past() const { return kv_->n_past(); }

uint64_t Session::kv_cache_bytes() const { return kv_->bytes(); }

uint64_t Session::scratch_bytes() const { return scratch_->bytes() + logits_.capacity() * sizeof(float); }

}  // namespace quantlab
