// A llama-family model loaded from GGUF (weights stay memory-mapped and are used in their stored
// format: every matmul runs on the quantized blocks), and a Session that runs it: KV cache, scratch
// buffers and threads for one sequence.
//
//   QL_ASSIGN_OR_RETURN(auto model, Model::Load("model.gguf"));
//   QL_ASSIGN_OR_RETURN(auto session, Session::Create(*model, {.n_ctx = 512, .n_threads = 4}));
//   QL_ASSIGN_OR_RETURN(auto logits, session->Decode(tokens));          // last token's logits
//   QL_ASSIGN_OR_RETURN(auto all, session->Decode(more_tokens, n));      // last n tokens' logits
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"
#include "quantlab/model/llama_config.h"
#include "quantlab/model/tokenizer.h"
#include "quantlab/util/result.h"

namespace quantlab {

class ThreadPool;
struct ModelWeights;  // model/weights.h
class KvCache;        // model/kv_cache.h
struct ForwardScratch;
class ActivationObserver;  // model/activation_observer.h

class Model {
 public:
  // Opens, validates and maps `path`: configuration from metadata, every expected tensor present with
  // the expected shape and a type quantlab can compute with, tokenizer built. Errors name the file and
  // the missing tensor / key / unsupported architecture (listing the supported ones).
  static Result<std::unique_ptr<Model>> Load(const std::string& path);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& path() const;
  const LlamaConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const GgufFile& file() const { return *file_; }
  const ModelWeights& weights() const { return *weights_; }

  // Bytes of all tensor data (what one generated token reads, roughly) and the parameter count.
  uint64_t weight_bytes() const;
  uint64_t n_params() const;
  // The most common weight type among the 2-D weight matrices, e.g. "q4_K" (a short label for logs).
  std::string dominant_type_name() const;

 private:
  Model();
  LlamaConfig config_;
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ModelWeights> weights_;
};

struct SessionOptions {
  int n_ctx = 0;               // KV cache length in tokens; 0 = the model's training context
  int n_batch = 512;           // tokens per forward pass when a Decode call gets more
  int n_threads = 0;           // 0 = ThreadPool::DefaultThreadCount(); ignored when `pool` is given
  ThreadPool* pool = nullptr;  // shared pool (e.g. several sessions in one KLD pass); not owned
};

// One sequence being evaluated. Not thread-safe; one Model may have many Sessions.
class Session {
 public:
  // Errors: n_ctx larger than the model's training context, n_ctx or n_batch < 1.
  static Result<std::unique_ptr<Session>> Create(const Model& model, const SessionOptions& options = {});

  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs `tokens` at positions n_past() .. n_past() + size - 1 (in pieces of n_batch), appending them
  // to the KV cache, and returns the logits of the last `n_outputs` of them: n_outputs rows of n_vocab
  // floats, valid until the next Decode/Reset. Errors: empty input, a token id outside the vocabulary,
  // more tokens than the cache has room for, n_outputs outside [0, tokens.size()].
  Result<std::span<const float>> Decode(std::span<const int32_t> tokens, int n_outputs = 1);

  // Forgets every cached token (n_past() becomes 0).
  void Reset();
  // Keeps only the first `n_keep` cached tokens (n_keep <= n_past()).
  void Truncate(int n_keep);
  // Shows the input of every weight matrix of later Decode calls to `observer` (nullptr: none, the
  // default). Each forward pass of up to n_batch tokens is one Observe call per weight. Not owned.
  void SetActivationObserver(ActivationObserver* observer);

  int n_past() const;
  int n_ctx() const { return n_ctx_; }
  int n_batch() const { return n_batch_; }
  int n_vocab() const { return model_.config().n_vocab; }
  const Model& model() const { return model_; }
  ThreadPool& pool() { return *pool_; }
  uint64_t kv_cache_bytes() const;
  // Bytes of activation scratch buffers (for the memory model).
  uint64_t scratch_bytes() const;

 private:
  Session(const Model& model, int n_ctx, int n_batch);
  const Model& model_;
  int n_ctx_ = 0;
  int n_batch_ = 0;
  std::unique_ptr<ThreadPool> owned_pool_;
  ThreadPool* pool_ = nullptr;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ForwardScratch> scratch_;
  std::vector<float> logits_;  // (n_outputs, n_vocab)
};

}  // namespace quantlab
