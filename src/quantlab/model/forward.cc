// The forward pass, written as the paper's block: for each layer
//   x += Attention(RmsNorm(x) * attn_norm)           (qwen3: each Q and K head RMS-normalized before RoPE)
//   x += FeedForward(RmsNorm(x) * ffn_norm)          FeedForward(h) = W_down (SiLU(W_gate h) * W_up h)
// then logits = W_out (RmsNorm(x) * output_norm). gemma2 adds to it: scaled embeddings, each block's
// output normalised again (attn_post_norm, ffn_post_norm) before the residual add, GELU for SiLU, and
// soft-capped attention scores and logits. The arithmetic follows ggml's CPU operators where it
// changes the result at the precision perplexity is compared at: activations converted to each weight's
// vec_dot_type, the query and the softmax probabilities rounded to F16 before they meet the F16 cache,
// sums of squares and softmax denominators accumulated in double.
#include "quantlab/model/forward.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "quantlab/kernels/activation_math.h"
#include "quantlab/kernels/attention_kernels.h"
#include "quantlab/model/gelu.h"
#include "quantlab/model/matmul.h"
#include "quantlab/util/check.h"

namespace quantlab {

ForwardScratch::ForwardScratch(const LlamaConfig& c, int n_batch_, int n_ctx, int n_threads)
    : n_batch(n_batch_),
      x(static_cast<size_t>(n_batch_) * c.n_embd),
      xn(x.size()),
      q(static_cast<size_t>(n_batch_) * c.n_head * c.head_dim),
      k(static_cast<size_t>(n_batch_) * c.n_embd_kv()),
      v(k.size()),
      attn(q.size()),
      proj(x.size()),
      gate(static_cast<size_t>(n_batch_) * c.n_ff),
      up(gate.size()),
      rope(static_cast<size_t>(n_batch_) * c.n_rot),
      rope_swa(c.rope_freq_base_swa > 0 ? rope.size() : 0),
      scores(static_cast<size_t>(n_threads) * kAttentionGroup * n_ctx),
      probs(scores.size()),
      queries(static_cast<size_t>(n_threads) * kAttentionGroup * c.head_dim),
      half(static_cast<size_t>(n_threads) * std::max(n_ctx, c.head_dim)) {}

uint64_t ForwardScratch::bytes() const {
  const size_t floats = x.size() + xn.size() + q.size() + k.size() + v.size() + attn.size() + proj.size() +
                        gate.size() + up.size() + rope.size() + rope_swa.size() + scores.size() +
                        probs.size() + queries.size();
  return floats * sizeof(float) + half.size() * sizeof(fp16_t) + act.capacity();
}

namespace {

// Everything one layer step needs, so the steps below read as named calls.
struct Pass {
  const LlamaConfig& c;
  const ModelWeights& w;
  KvCache& kv;
  ForwardScratch& s;
  ThreadPool& pool;
  int n_tokens;
  int pos0;  // position of the first token of the batch
};

// x: (n_tokens, n_embd) <- rows of token_embd.
void EmbedTokens(const Pass& p, std::span<const int32_t> tokens) {
  const LinearWeight& e = p.w.token_embd;
  for (int t = 0; t < p.n_tokens; ++t)
    e.kernels->to_float(e.Row(tokens[t]), p.s.x.data() + t * e.n_in, e.n_in);
  if (p.c.embd_scale != 0.0f) {
    const size_t n = static_cast<size_t>(p.n_tokens) * e.n_in;
    for (size_t i = 0; i < n; ++i) p.s.x[i] *= p.c.embd_scale;
  }
}

// s[0..n) <- cap * tanh(s / cap), in ggml's three float steps (scale by 1/cap, tanh, scale by cap).
void SoftCap(float* s, int64_t n, float cap) {
  const float inv_cap = 1.0f / cap;
  for (int64_t j = 0; j < n; ++j) s[j] = std::tanh(s[j] * inv_cap) * cap;
}

// out[t] = (in[t] / rms(in[t])) * weight for rows of weight.size() values, as ggml's rms_norm followed
// by mul. `in` may be `out`: a row's sum is complete before the row is written.
void RmsNorm(const Pass& p, const float* in, float* out, std::span<const float> weight, int n_rows) {
  const int n = static_cast<int>(weight.size());
  const float eps = p.c.rms_norm_eps;
  for (int t = 0; t < n_rows; ++t) {
    const float* xr = in + static_cast<size_t>(t) * n;
    float* yr = out + static_cast<size_t>(t) * n;
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const float mean = static_cast<float>(sum / n);
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int i = 0; i < n; ++i) yr[i] = (xr[i] * scale) * weight[i];
  }
}

// Normalizes each head of x: (n_tokens, n_heads * head_dim) on its own with the (head_dim) weight
// shared by all heads, when the model has one (qwen3's attn_q_norm / attn_k_norm, applied before
// RoPE). Heads are contiguous rows of head_dim values, so this is RmsNorm over n_tokens * n_heads rows.
void HeadRmsNorm(const Pass& p, float* x, std::span<const float> weight, int n_heads) {
  if (weight.empty()) return;
  QL_CHECK(static_cast<int>(weight.size()) == p.c.head_dim);
  RmsNorm(p, x, x, weight, p.n_tokens * n_heads);
}

// y: (rows, n) += bias (n), when the model has one.
void AddBias(float* y, std::span<const float> bias, int n_rows) {
  if (bias.empty()) return;
  const size_t n = bias.size();
  for (int t = 0; t < n_rows; ++t) {
    for (size_t i = 0; i < n; ++i) y[t * n + i] += bias[i];
  }
}

// y = W x (+ b)
void Linear(const Pass& p, const LinearWeight& weight, std::span<const float> bias, const float* x, float* y,
            int n_rows) {
  MatMul(p.pool, weight, x, n_rows, y, p.s.act, p.s.observer);
  AddBias(y, bias, n_rows);
}

// rope: (n_tokens, n_rot) cos/sin of each rotated pair at each token's position, computed with ggml's
// float recurrence (theta multiplied by base^(-2/n_rot) per pair) so the angles round the same way.
void ComputeRopeAngles(const Pass& p, float freq_base, float freq_scale, float* rope) {
  const int n_rot = p.c.n_rot;
  const float theta_scale = std::pow(freq_base, -2.0f / n_rot);
  const auto& factors = p.w.rope_freq_factors;
  for (int t = 0; t < p.n_tokens; ++t) {
    float* cs = rope + static_cast<size_t>(t) * n_rot;
    float theta = static_cast<float>(p.pos0 + t);
    for (int i = 0; i < n_rot; i += 2) {
      const float factor = factors.empty() ? 1.0f : factors[i / 2];
      const float angle = freq_scale * (theta / factor);
      cs[i] = std::cos(angle);
      cs[i + 1] = std::sin(angle);
      theta *= theta_scale;
    }
  }
}

// Rotates the first n_rot dimensions of every head of x: (n_tokens, n_heads * head_dim) by the angles of
// layer il (gemma3's windowed layers have a base of their own).
void ApplyRope(const Pass& p, int il, float* x, int n_heads) {
  const float* rope =
      !p.s.rope_swa.empty() && p.c.LayerIsWindowed(il) ? p.s.rope_swa.data() : p.s.rope.data();
  const int hd = p.c.head_dim;
  const int n_rot = p.c.n_rot;
  const bool neox = p.c.rope_style == RopeStyle::kNeox;
  for (int t = 0; t < p.n_tokens; ++t) {
    const float* cs = rope + static_cast<size_t>(t) * n_rot;
    for (int h = 0; h < n_heads; ++h) {
      float* head = x + (static_cast<size_t>(t) * n_heads + h) * hd;
      for (int i = 0; i < n_rot; i += 2) {
        // NORMAL pairs adjacent dimensions; NEOX pairs dimension i/2 with i/2 + n_rot/2.
        const int a = neox ? i / 2 : i;
        const int b = neox ? i / 2 + n_rot / 2 : i + 1;
        const float x0 = head[a];
        const float x1 = head[b];
        head[a] = x0 * cs[i] - x1 * cs[i + 1];
        head[b] = x0 * cs[i + 1] + x1 * cs[i];
      }
    }
  }
}

// Appends the batch's K rows and V columns (rounded to F16) to layer `il` of the cache.
void StoreKv(const Pass& p, int il) {
  const int n_kv = p.c.n_embd_kv();
  for (int t = 0; t < p.n_tokens; ++t) {
    const int pos = p.pos0 + t;
    const float* kr = p.s.k.data() + static_cast<size_t>(t) * n_kv;
    const float* vr = p.s.v.data() + static_cast<size_t>(t) * n_kv;
    fp16_t* kc = p.kv.K(il, pos);
    for (int i = 0; i < n_kv; ++i) kc[i] = Fp32ToFp16(kr[i]);
    for (int i = 0; i < n_kv; ++i) p.kv.Vt(il, i)[pos] = Fp32ToFp16(vr[i]);
  }
}

// Causal multi-head attention with grouped KV heads: for each token t and query head h,
//   scores_j = (q_th . k_j) / sqrt(head_dim) for cached positions j <= pos0 + t,
//   attn_th  = sum_j softmax(scores)_j v_j.
// As in ggml, the query and the probabilities are rounded to F16 before they meet the F16 cache, so each
// score and each output element is one F16 vec_dot (attention_kernels.h batches them, bit for bit).
//
// Scheduling: work is shared out in units of up to kAttentionGroup (token, head) pairs that read the
// same KV head: the heads of a GQA group, or (when groups are small) consecutive tokens of a head, so
// each cache row is loaded once per unit.
constexpr int kAttentionGroup = ForwardScratch::kAttentionGroup;

struct AttentionUnits {
  int heads_per_unit;  // query heads of one KV head in a unit
  int head_groups;     // units across one KV head's query heads
  int tokens_per_unit;
  int64_t count;
};

AttentionUnits PlanAttentionUnits(const LlamaConfig& c, int n_tokens) {
  AttentionUnits u{};
  const int n_gqa = c.n_gqa();
  u.heads_per_unit = std::min(n_gqa, kAttentionGroup);
  u.head_groups = (n_gqa + u.heads_per_unit - 1) / u.heads_per_unit;
  u.tokens_per_unit = std::max(1, kAttentionGroup / u.heads_per_unit);
  const int64_t token_blocks = (n_tokens + u.tokens_per_unit - 1) / u.tokens_per_unit;
  u.count = token_blocks * c.n_head_kv * u.head_groups;
  return u;
}

// The kernels attention runs on, looked up once per call.
struct AttentionOps {
  const TypeKernels& f16;
  const AttentionKernels& dots;
  const ActivationMath& math;
};

// One thread's slice of the attention scratch.
struct AttentionScratch {
  float* scores;   // (group, n_ctx)
  float* probs;    // (group, n_ctx)
  float* queries;  // (group, head_dim)
  fp16_t* half;    // max(n_ctx, head_dim)
};

AttentionScratch ThreadScratch(const Pass& p, int thread) {
  const size_t n_ctx = static_cast<size_t>(p.kv.n_ctx());
  const size_t hd = static_cast<size_t>(p.c.head_dim);
  const size_t t = static_cast<size_t>(thread);
  return {p.s.scores.data() + t * kAttentionGroup * n_ctx, p.s.probs.data() + t * kAttentionGroup * n_ctx,
          p.s.queries.data() + t * kAttentionGroup * hd, p.s.half.data() + t * std::max(n_ctx, hd)};
}

// out[0..n) = x[0..n) rounded to F16 and back (`half` is staging for n values).
void RoundThroughF16(const AttentionOps& ops, const float* x, int64_t n, fp16_t* half, float* out) {
  ops.f16.from_float(x, half, n);
  ops.f16.to_float(half, out, n);
}

// A work unit decoded: its KV head and its m (token, head) pairs.
struct AttentionUnit {
  int kv_head;
  int m;
  const float* query[kAttentionGroup];  // F16-rounded query, in the thread's scratch
  int64_t n_seen[kAttentionGroup];      // causal window: positions 0 .. pos0 + t
  float* out[kAttentionGroup];          // the pair's head_dim outputs in s.attn
};

AttentionUnit DecodeUnit(const Pass& p, const AttentionOps& ops, const AttentionUnits& units, int64_t index,
                         const AttentionScratch& scratch) {
  const int hd = p.c.head_dim;
  const int n_gqa = p.c.n_gqa();
  const int64_t per_block = static_cast<int64_t>(p.c.n_head_kv) * units.head_groups;
  const int t0 = static_cast<int>(index / per_block) * units.tokens_per_unit;
  AttentionUnit u{};
  u.kv_head = static_cast<int>(index % per_block) / units.head_groups;
  const int h0 = u.kv_head * n_gqa + static_cast<int>(index % units.head_groups) * units.heads_per_unit;
  const int h1 = std::min(h0 + units.heads_per_unit, (u.kv_head + 1) * n_gqa);
  for (int t = t0; t < std::min(p.n_tokens, t0 + units.tokens_per_unit); ++t) {
    for (int h = h0; h < h1; ++h, ++u.m) {
      const size_t row = static_cast<size_t>(t) * p.c.n_head + h;
      float* query = scratch.queries + static_cast<size_t>(u.m) * hd;
      RoundThroughF16(ops, p.s.q.data() + row * hd, hd, scratch.half, query);
      u.query[u.m] = query;
      u.n_seen[u.m] = p.pos0 + t + 1;  // positions after this token are masked out
      u.out[u.m] = p.s.attn.data() + row * hd;
    }
  }
  return u;
}

// scores[i * n_ctx + j] = (q_i . k_j) / sqrt(head_dim) for j < n_seen[i] (without the division when
// the query was scaled already), soft-capped where the model caps them; -inf outside a sliding window,
// as llama.cpp's mask sets it.
void Scores(const Pass& p, const AttentionOps& ops, int il, const AttentionUnit& u, float* scores) {
  const int hd = p.c.head_dim;
  const int n_ctx = p.kv.n_ctx();
  const int64_t n_rows = *std::max_element(u.n_seen, u.n_seen + u.m);
  ops.dots.dot_rows(hd, p.kv.K(il, 0) + u.kv_head * hd, p.c.n_embd_kv(), n_rows, u.query, u.m, scores, n_ctx);
  if (!p.c.query_prescaled) {
    const float scale = p.c.query_scale;
    for (int i = 0; i < u.m; ++i) {
      float* s = scores + static_cast<size_t>(i) * n_ctx;
      for (int64_t j = 0; j < u.n_seen[i]; ++j) s[j] *= scale;
    }
  }
  if (p.c.attn_softcap != 0.0f) {
    for (int i = 0; i < u.m; ++i)
      SoftCap(scores + static_cast<size_t>(i) * n_ctx, u.n_seen[i], p.c.attn_softcap);
  }
  if (p.c.LayerIsWindowed(il)) {
    // Position j is out of the window of the query at n_seen - 1 when (n_seen - 1) - j >= n_swa.
    for (int i = 0; i < u.m; ++i) {
      float* s = scores + static_cast<size_t>(i) * n_ctx;
      const int64_t first = std::max<int64_t>(0, u.n_seen[i] - p.c.n_swa);
      std::fill(s, s + first, -std::numeric_limits<float>::infinity());
    }
  }
}

// s[0..n) <- softmax(s[0..n)), the denominator summed in double as ggml does.
void Softmax(const AttentionOps& ops, float* s, int64_t n) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) max_score = std::max(max_score, s[j]);
  const double sum = ops.math.exp_shifted(s, max_score, s, n);
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) s[j] *= inv_sum;
}

// out_i[d] = sum_j probs_i[j] v_j[d] over j < n_seen[i], one transposed V row (channel d) at a time.
void WeightedSum(const Pass& p, const AttentionOps& ops, int il, const AttentionUnit& u,
                 const float* const* probs) {
  const int hd = p.c.head_dim;
  float values[kAttentionGroup];
  for (int d = 0; d < hd; ++d) {
    ops.dots.dot_row_multi(p.kv.Vt(il, u.kv_head * hd + d), probs, u.n_seen, u.m, values);
    for (int i = 0; i < u.m; ++i) u.out[i][d] = values[i];
  }
}

// score -> softmax -> weighted sum for the pairs of one unit.
void AttendUnit(const Pass& p, const AttentionOps& ops, int il, const AttentionUnit& u,
                const AttentionScratch& scratch) {
  const size_t n_ctx = static_cast<size_t>(p.kv.n_ctx());
  Scores(p, ops, il, u, scratch.scores);
  const float* probs[kAttentionGroup];
  for (int i = 0; i < u.m; ++i) {
    float* s = scratch.scores + i * n_ctx;
    float* prob = scratch.probs + i * n_ctx;
    Softmax(ops, s, u.n_seen[i]);
    RoundThroughF16(ops, s, u.n_seen[i], scratch.half, prob);
    probs[i] = prob;
  }
  WeightedSum(p, ops, il, u, probs);
}

// attn: (n_tokens, n_head * head_dim) for layer il, over the batch's queries and the cache.
void Attention(const Pass& p, int il) {
  const AttentionOps ops{*KernelsFor(GgmlType::kF16), AttentionKernelsFor(), ActivationMathFor()};
  const AttentionUnits units = PlanAttentionUnits(p.c, p.n_tokens);
  std::atomic<int64_t> next_unit{0};
  p.pool.RunOnAll([&](int thread, int /*n_threads*/) {
    const AttentionScratch scratch = ThreadScratch(p, thread);
    // Units are taken one at a time from a shared counter: under the causal mask later tokens cost
    // more, and a thread the OS has descheduled must not keep the others waiting.
    for (int64_t unit = next_unit.fetch_add(1, std::memory_order_relaxed); unit < units.count;
         unit = next_unit.fetch_add(1, std::memory_order_relaxed)) {
      AttendUnit(p, ops, il, DecodeUnit(p, ops, units, unit, scratch), scratch);
    }
  });
}

// x += delta, both (n_tokens, n_embd): the residual connection around each block.
void AddResidual(const Pass& p, const float* delta) {
  const size_t n = static_cast<size_t>(p.n_tokens) * p.c.n_embd;
  float* x = p.s.x.data();
  for (size_t i = 0; i < n; ++i) x[i] += delta[i];
}

// q *= query_scale in float, as phi3's and gemma2's graphs scale the roped query.
void ScaleQuery(const Pass& p) {
  const float scale = p.c.query_scale;
  const size_t n = static_cast<size_t>(p.n_tokens) * p.c.n_head * p.c.head_dim;
  float* q = p.s.q.data();
  for (size_t i = 0; i < n; ++i) q[i] *= scale;
}

// x += Attention(norm(x)) for layer il.
void AttentionBlock(const Pass& p, int il) {
  const LayerWeights& l = p.w.layers[il];
  RmsNorm(p, p.s.x.data(), p.s.xn.data(), l.attn_norm, p.n_tokens);
  // q: (n_tokens, n_head * head_dim), k and v: (n_tokens, n_embd_kv), in one pass over the pool.
  const MatMulTarget qkv[] = {{&l.wq, p.s.q.data()}, {&l.wk, p.s.k.data()}, {&l.wv, p.s.v.data()}};
  MatMulShared(p.pool, qkv, p.s.xn.data(), p.n_tokens, p.s.act, p.s.observer);
  AddBias(p.s.q.data(), l.bq, p.n_tokens);
  AddBias(p.s.k.data(), l.bk, p.n_tokens);
  AddBias(p.s.v.data(), l.bv, p.n_tokens);
  HeadRmsNorm(p, p.s.q.data(), l.attn_q_norm, p.c.n_head);
  HeadRmsNorm(p, p.s.k.data(), l.attn_k_norm, p.c.n_head_kv);
  ApplyRope(p, il, p.s.q.data(), p.c.n_head);
  if (p.c.query_prescaled) ScaleQuery(p);
  ApplyRope(p, il, p.s.k.data(), p.c.n_head_kv);
  StoreKv(p, il);
  Attention(p, il);                                                     // attn: (n_tokens, n_head * head_dim)
  Linear(p, l.wo, l.bo, p.s.attn.data(), p.s.proj.data(), p.n_tokens);  // (n_tokens, n_embd)
  if (!l.attn_post_norm.empty()) RmsNorm(p, p.s.proj.data(), p.s.proj.data(), l.attn_post_norm, p.n_tokens);
  AddResidual(p, p.s.proj.data());
}

// x += W_down (act(W_gate h) * W_up h), h = norm(x), for layer il; act is SiLU or GELU.
void FeedForwardBlock(const Pass& p, int il) {
  const LayerWeights& l = p.w.layers[il];
  RmsNorm(p, p.s.x.data(), p.s.xn.data(), l.ffn_norm, p.n_tokens);
  // gate and up: (n_tokens, n_ff), in one pass over the pool.
  const MatMulTarget gate_up[] = {{&l.ffn_gate, p.s.gate.data()}, {&l.ffn_up, p.s.up.data()}};
  MatMulShared(p.pool, gate_up, p.s.xn.data(), p.n_tokens, p.s.act, p.s.observer);
  AddBias(p.s.gate.data(), l.ffn_gate_b, p.n_tokens);
  AddBias(p.s.up.data(), l.ffn_up_b, p.n_tokens);
  // gate = act(gate) * up, row by row (ggml's vector loop runs per row, its tail per row too).
  const ActivationMath& math = ActivationMathFor();
  const bool gelu = p.c.ffn_activation == FfnActivation::kGeluTanh;
  for (int t = 0; t < p.n_tokens; ++t) {
    const size_t row = static_cast<size_t>(t) * p.c.n_ff;
    if (gelu) {
      GeluMulRow(p.s.gate.data() + row, p.s.up.data() + row, p.c.n_ff);
    } else {
      math.silu_mul_row(p.s.gate.data() + row, p.s.up.data() + row, p.c.n_ff);
    }
  }
  Linear(p, l.ffn_down, l.ffn_down_b, p.s.gate.data(), p.s.proj.data(), p.n_tokens);  // (n_tokens, n_embd)
  if (!l.ffn_post_norm.empty()) RmsNorm(p, p.s.proj.data(), p.s.proj.data(), l.ffn_post_norm, p.n_tokens);
  AddResidual(p, p.s.proj.data());
}

// logits: (n_outputs, n_vocab) for the last n_outputs tokens of the batch.
void OutputLogits(const Pass& p, int n_outputs, float* logits) {
  const float* last = p.s.x.data() + static_cast<size_t>(p.n_tokens - n_outputs) * p.c.n_embd;
  RmsNorm(p, last, p.s.xn.data(), p.w.output_norm, n_outputs);
  MatMul(p.pool, p.w.output, p.s.xn.data(), n_outputs, logits, p.s.act, p.s.observer);
  if (p.c.final_softcap != 0.0f)
    SoftCap(logits, static_cast<int64_t>(n_outputs) * p.c.n_vocab, p.c.final_softcap);
}

}  // namespace

void ForwardBatch(const LlamaConfig& config, const ModelWeights& weights, KvCache& kv,
                  ForwardScratch& scratch, ThreadPool& pool, std::span<const int32_t> tokens, int n_outputs,
                  float* logits) {
  const int n_tokens = static_cast<int>(tokens.size());
  QL_CHECK(n_tokens >= 1 && n_tokens <= scratch.n_batch);
  QL_CHECK(kv.n_past() + n_tokens <= kv.n_ctx());
  QL_CHECK(n_outputs >= 0 && n_outputs <= n_tokens);
  const Pass p{config, weights, kv, scratch, pool, n_tokens, kv.n_past()};

  EmbedTokens(p, tokens);
  ComputeRopeAngles(p, config.rope_freq_base, config.rope_freq_scale, scratch.rope.data());
  if (!scratch.rope_swa.empty()) {
    ComputeRopeAngles(p, config.rope_freq_base_swa, config.rope_freq_scale_swa, scratch.rope_swa.data());
  }
  for (int il = 0; il < config.n_layer; ++il) {
    AttentionBlock(p, il);
    FeedForwardBlock(p, il);
  }
  kv.set_n_past(p.pos0 + n_tokens);
  if (n_outputs > 0) OutputLogits(p, n_outputs, logits);
}

}  // namespace quantlab
