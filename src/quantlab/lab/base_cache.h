// The base model's log-probabilities of the scored positions, chunk by chunk, in a file of the lab's
// folder. They let the lab evaluate the candidates after the base has been unmapped: KL divergence and
// Δp need exactly what EvaluateBaseChunk computes (BaseChunkLogProbs), and the cache stores exactly
// that, as float32, so every KLD statistic is bit-identical to the all-resident one-pass evaluation.
//
// Layout (little-endian, native floats): a header naming what the values belong to — base model hash,
// data hash, token hash, n_ctx, scored positions per chunk, vocabulary — then fixed-size records, one per
// chunk, in the order they were computed:
//   u32 'QLCK' | i32 chunk | i64 nll count | f64 nll sum | f64 nll sum_sq | i32 targets[n_scored]
//   | f32 log_probs[n_scored * n_vocab] | u64 checksum of all the record's bytes before it
// A record is appended whole and synced before the next chunk is computed; a kill mid-record leaves a
// partial tail, which opening cuts off. A header that does not match (another model, text, context or
// vocabulary) or cannot be read makes Open start the file afresh; a record whose checksum fails is
// reported, never used.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "quantlab/eval/kld.h"
#include "quantlab/util/result.h"

namespace quantlab::lab {

// What the cached values belong to; any difference means the file is not for this lab.
struct BaseCacheIdentity {
  std::string model_hash;   // SHA-256 hex of the base model file
  std::string data_hash;    // SHA-256 hex of the evaluation text
  std::string tokens_hash;  // SHA-256 hex of the token ids (covers the tokenizer and BOS)
  int n_ctx = 0;
  int n_scored = 0;  // scored positions per chunk
  int n_vocab = 0;

  // Bytes of one chunk's record.
  uint64_t RecordBytes() const;
};

class BaseLogProbCache {
 public:
  // Opens `path`, or creates it. A file that is not a cache for `id` is emptied and started afresh,
  // and `note` (when given) says why; a partial last record is cut off. Errors: I/O.
  static Result<std::unique_ptr<BaseLogProbCache>> Open(const std::string& path, const BaseCacheIdentity& id,
                                                        std::string* note = nullptr);
  ~BaseLogProbCache();
  BaseLogProbCache(const BaseLogProbCache&) = delete;
  BaseLogProbCache& operator=(const BaseLogProbCache&) = delete;

  bool Has(int chunk) const { return offsets_.count(chunk) > 0; }
  int size() const { return static_cast<int>(offsets_.size()); }
  const std::string& path() const { return path_; }
  const BaseCacheIdentity& identity() const { return id_; }

  // Appends one chunk (a chunk already present is left as it is). Errors: shape differs from the
  // identity, I/O (disk full names the file).
  Status Put(const BaseChunkLogProbs& chunk);
  // Reads one chunk back. Errors: not present, checksum mismatch (the file is damaged), I/O.
  Result<BaseChunkLogProbs> Get(int chunk) const;

 private:
  BaseLogProbCache(std::string path, BaseCacheIdentity id, int fd)
      : path_(std::move(path)), id_(std::move(id)), fd_(fd) {}
  Status Start();                       // writes a fresh header over an emptied file
  Status ReadIndex(std::string* note);  // fills offsets_ from the records present

  std::string path_;
  BaseCacheIdentity id_;
  int fd_ = -1;
  uint64_t end_ = 0;                 // bytes of complete records plus the header
  std::map<int, uint64_t> offsets_;  // chunk -> record offset
};

}  // namespace quantlab::lab
