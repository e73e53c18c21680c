#include "quantlab/synth/synth_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "quantlab/gguf/file_type.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/synth/synth_vocab.h"
#include "quantlab/util/fp16.h"

namespace quantlab {
namespace {

// SplitMix64: tiny, fast and identical on every compiler (std::normal_distribution is not), so a seed
// names the same model everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1].
  double Uniform() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
  // Standard normal via Box-Muller (one value per call, for simplicity).
  float Normal() {
    const double r = std::sqrt(-2.0 * std::log(Uniform()));
    return static_cast<float>(r * std::cos(2.0 * std::numbers::pi * Uniform()));
  }

 private:
  uint64_t state_;
};

uint64_t NameHash(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

// Fills `dst` with `count` values drawn as mean + std * N(0,1), stored as `type`.
void FillNormal(std::span<std::byte> dst, GgmlType type, uint64_t seed, float mean, float std_dev) {
  Random rng(seed);
  const size_t width = TypeInfo(type).block_bytes;
  const size_t count = dst.size() / width;
  for (size_t i = 0; i < count; ++i) {
    const float value = mean + std_dev * rng.Normal();
    std::byte* p = dst.data() + i * width;
    if (type == GgmlType::kF32) {
      std::memcpy(p, &value, 4);
    } else {
      const uint16_t bits = type == GgmlType::kF16 ? Fp32ToFp16(value) : Fp32ToBf16(value);
      std::memcpy(p, &bits, 2);
    }
  }
}

struct TensorPlan {
  std::string name;
  std::vector<int64_t> shape;
  GgmlType type;
  float mean;
  float std_dev;
  std::vector<float> values;  // F32 values to write as they are instead of random ones (rope_freqs)
};

// Llama 3.1's rope_freqs as its converter derives them from rope_scaling (rope_type llama3, factor 8,
// low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 8192): one divisor per
// rotated pair, 1 for short wavelengths, the factor for long ones, a smooth blend between.
std::vector<float> Llama3RopeFactors(float base, int head_dim) {
  constexpr double kFactor = 8.0, kLowFreqFactor = 1.0, kHighFreqFactor = 4.0, kOldContext = 8192.0;
  const double low_freq_wavelen = kOldContext / kLowFreqFactor;
  const double high_freq_wavelen = kOldContext / kHighFreqFactor;
  std::vector<float> factors;
  for (int i = 0; i < head_dim; i += 2) {
    const float freq = 1.0f / std::pow(base, static_cast<float>(i) / static_cast<float>(head_dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    if (wavelen < high_freq_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_freq_wavelen) {
      factors.push_back(static_cast<float>(kFactor));
    } else {
      const double smooth = (kOldContext / wavelen - kLowFreqFactor) / (kHighFreqFactor - kLowFreqFactor);
      factors.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / kFactor + smooth)));
    }
  }
  return factors;
}

std::vector<TensorPlan> PlanTensors(const SynthModelSpec& s) {
  const int64_t embd = s.n_embd;
  const int64_t head_dim = SynthHeadDim(s);
  const int64_t embd_q = head_dim * s.n_head;
  const int64_t embd_kv = head_dim * s.n_head_kv;
  const GgmlType w = s.weight_type;
  const float sd = s.weight_std;
  // Norm weights sit near 1, as in trained models.
  const float norm_sd = 0.05f;
  const bool phi3 = s.arch == "phi3";
  // gemma3 has gemma2's post norms and tied output, and qwen3's per-head Q/K norms.
  const bool gemma2 = s.arch == "gemma2" || s.arch == "gemma3";
  const bool qwen3 = s.arch == "qwen3" || s.arch == "gemma3";
  std::vector<TensorPlan> plan;
  if (s.arch == "llama3") {
    // The converter yields its generated tensors before the checkpoint's.
    plan.push_back({"rope_freqs.weight",
                    {head_dim / 2},
                    GgmlType::kF32,
                    0.0f,
                    0.0f,
                    Llama3RopeFactors(SynthRopeBase(s), static_cast<int>(head_dim))});
  }
  plan.push_back({"token_embd.weight", {embd, s.n_vocab}, w, 0.0f, sd});
  for (int l = 0; l < s.n_layer; ++l) {
    auto name = [l](std::string_view part) { return fmt::format("blk.{}.{}.weight", l, part); };
    plan.push_back({name("attn_norm"), {embd}, GgmlType::kF32, 1.0f, norm_sd});
    if (phi3) {
      // The order llama.cpp's phi3 converter writes a block in.
      plan.push_back({name("attn_qkv"), {embd, embd + 2 * embd_kv}, w, 0.0f, sd});
      plan.push_back({name("attn_output"), {embd, embd}, w, 0.0f, sd});
      plan.push_back({name("ffn_up"), {embd, 2 * int64_t{s.n_ff}}, w, 0.0f, sd});
      plan.push_back({name("ffn_down"), {s.n_ff, embd}, w, 0.0f, sd});
      plan.push_back({name("ffn_norm"), {embd}, GgmlType::kF32, 1.0f, norm_sd});
      continue;
    }
    plan.push_back({name("attn_q"), {embd, embd_q}, w, 0.0f, sd});
    plan.push_back({name("attn_k"), {embd, embd_kv}, w, 0.0f, sd});
    plan.push_back({name("attn_v"), {embd, embd_kv}, w, 0.0f, sd});
    plan.push_back({name("attn_output"), {embd_q, embd}, w, 0.0f, sd});
    if (qwen3) {
      // One weight per head dimension, shared by all heads; trained ones vary far more than the
      // block norms, so they get a wider spread.
      plan.push_back({name("attn_q_norm"), {head_dim}, GgmlType::kF32, 1.0f, 0.3f});
      plan.push_back({name("attn_k_norm"), {head_dim}, GgmlType::kF32, 1.0f, 0.3f});
    }
    // gemma2's norm weights sit near 1 too: its converter stores w + 1.
    if (gemma2) plan.push_back({name("post_attention_norm"), {embd}, GgmlType::kF32, 1.0f, norm_sd});
    plan.push_back({name("ffn_norm"), {embd}, GgmlType::kF32, 1.0f, norm_sd});
    plan.push_back({name("ffn_gate"), {embd, s.n_ff}, w, 0.0f, sd});
    plan.push_back({name("ffn_up"), {embd, s.n_ff}, w, 0.0f, sd});
    plan.push_back({name("ffn_down"), {s.n_ff, embd}, w, 0.0f, sd});
    if (gemma2) plan.push_back({name("post_ffw_norm"), {embd}, GgmlType::kF32, 1.0f, norm_sd});
  }
  plan.push_back({"output_norm.weight", {embd}, GgmlType::kF32, 1.0f, norm_sd});
  if (!s.tied_embeddings && !gemma2) plan.push_back({"output.weight", {embd, s.n_vocab}, w, 0.0f, sd});
  return plan;
}

// tokenizer.* keys as the gpt2-vocabulary converters write them (no scores).
void SetBpeVocab(const SynthModelSpec& s, GgufMetadata& m) {
  const bool llama3 = s.arch == "llama3";
  const SynthBpeVocab vocab =
      MakeSynthBpeVocab(s.n_vocab, llama3 ? SynthBpeFlavor::kLlama3 : SynthBpeFlavor::kQwen2);
  std::vector<GgufValue> tokens, types, merges;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    tokens.push_back(GgufValue::Str(vocab.tokens[i]));
    types.push_back(GgufValue::I32(static_cast<int32_t>(vocab.types[i])));
  }
  for (const std::string& merge : vocab.merges) merges.push_back(GgufValue::Str(merge));
  m.Set("tokenizer.ggml.model", GgufValue::Str("gpt2"));
  m.Set("tokenizer.ggml.pre", GgufValue::Str(llama3 ? "llama-bpe" : "qwen2"));
  m.Set("tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, std::move(tokens)));
  m.Set("tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, std::move(types)));
  m.Set("tokenizer.ggml.merges", GgufValue::Array(GgufValueType::kString, std::move(merges)));
  m.Set("tokenizer.ggml.bos_token_id", GgufValue::U32(static_cast<uint32_t>(vocab.bos_id)));
  m.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(static_cast<uint32_t>(vocab.eos_id)));
  m.Set("tokenizer.ggml.add_bos_token", GgufValue::Bool(llama3));
}

}  // namespace

int SynthHeadDim(const SynthModelSpec& s) { return s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head; }

float SynthRopeBase(const SynthModelSpec& s) {
  if (s.rope_freq_base != 0.0f) return s.rope_freq_base;
  if (s.arch == "llama3") return 500000.0f;
  if (s.arch == "qwen3" || s.arch == "gemma3") return 1000000.0f;
  return 10000.0f;
}

float SynthRmsNormEps(const SynthModelSpec& s) {
  if (s.rms_norm_eps != 0.0f) return s.rms_norm_eps;
  return s.arch == "qwen3" ? 1e-6f : 1e-5f;
}

Status ValidateSynthModelSpec(const SynthModelSpec& s) {
  if (std::find(kSynthArchitectures.begin(), kSynthArchitectures.end(), s.arch) ==
      kSynthArchitectures.end()) {
    return MakeError("synthetic model: architecture '{}' not supported (supported: {})", s.arch,
                     fmt::join(kSynthArchitectures, ", "));
  }
  if (s.arch == "phi3" && s.tied_embeddings) {
    return MakeError("synthetic model: phi3 has an untied output matrix (--tied is for llama)");
  }
  const bool windowed = s.arch == "phi3" || s.arch == "gemma2" || s.arch == "gemma3";
  if (s.sliding_window < 0 || (s.sliding_window > 0 && !windowed)) {
    return MakeError(
        "synthetic model: a sliding window ({}) must be non-negative and is for phi3, gemma2 and gemma3",
        s.sliding_window);
  }
  if (s.rope_scaling_factor < 0 || (s.rope_scaling_factor > 0 && s.arch != "gemma3")) {
    return MakeError(
        "synthetic model: a rope scaling factor ({}) must be non-negative and is for gemma3 only",
        s.rope_scaling_factor);
  }
  if (s.arch == "gemma2" && (!(s.attn_softcap > 0) || !(s.final_softcap > 0))) {
    return MakeError("synthetic model: gemma2's soft-capping values ({}, {}) must be positive",
                     s.attn_softcap, s.final_softcap);
  }
  if (s.n_layer < 1 || s.n_embd < 1 || s.n_head < 1 || s.n_head_kv < 1 || s.n_ff < 1 || s.n_ctx_train < 1) {
    return MakeError("synthetic model: layers, embedding, heads, kv heads, ffn and context must be positive");
  }
  if (s.head_dim < 0 || (s.head_dim > 0 && s.arch != "qwen3" && s.arch != "gemma2" && s.arch != "gemma3")) {
    return MakeError("synthetic model: a head size ({}) must be non-negative and is for qwen3 and gemma",
                     s.head_dim);
  }
  if (s.head_dim == 0 && s.n_embd % s.n_head != 0) {
    return MakeError("synthetic model: embedding size {} is not a multiple of the head count {}", s.n_embd,
                     s.n_head);
  }
  if (SynthHeadDim(s) % 2 != 0) {
    return MakeError("synthetic model: head size {} must be even for rotary embeddings", SynthHeadDim(s));
  }
  if (s.n_head % s.n_head_kv != 0) {
    return MakeError("synthetic model: head count {} is not a multiple of the kv head count {}", s.n_head,
                     s.n_head_kv);
  }
  if (s.bpe_vocab && s.arch != "llama3" && s.arch != "qwen3") {
    return MakeError("synthetic model: a BPE vocabulary is for llama3 and qwen3 only");
  }
  if (s.bpe_vocab && s.n_vocab < kMinSynthBpeVocab) {
    return MakeError("synthetic model: BPE vocabulary of {} is too small (at least {})", s.n_vocab,
                     kMinSynthBpeVocab);
  }
  if (s.n_vocab < kMinSynthVocab) {
    return MakeError(
        "synthetic model: vocabulary of {} is too small (at least {}: 3 special + 256 byte tokens + 1)",
        s.n_vocab, kMinSynthVocab);
  }
  if (s.weight_type != GgmlType::kF32 && s.weight_type != GgmlType::kF16 &&
      s.weight_type != GgmlType::kBF16) {
    return MakeError("synthetic model: weight type {} not supported (f32, f16 or bf16)",
                     TypeName(s.weight_type));
  }
  if (!(s.weight_std > 0) || !(SynthRopeBase(s) > 0) || !(SynthRmsNormEps(s) > 0)) {
    return MakeError("synthetic model: weight std, rope base and norm epsilon must be positive");
  }
  return Ok();
}

uint32_t SynthFileType(const SynthModelSpec& spec) {
  switch (spec.weight_type) {
    case GgmlType::kF32:
      return static_cast<uint32_t>(LlamaFileType::kAllF32);
    case GgmlType::kBF16:
      return static_cast<uint32_t>(LlamaFileType::kMostlyBF16);
    default:
      return static_cast<uint32_t>(LlamaFileType::kMostlyF16);
  }
}

GgufMetadata SynthModelMetadata(const SynthModelSpec& s) {
  GgufMetadata m;
  const std::string a = s.arch == "llama3" ? "llama" : s.arch;  // the key prefix and architecture name
  m.Set("general.architecture", GgufValue::Str(a));
  m.Set("general.name", GgufValue::Str(s.name));
  m.Set("general.file_type", GgufValue::U32(SynthFileType(s)));
  // phi3's and qwen3's converters write no vocab_size key; llama's does.
  if (a == "llama") m.Set("llama.vocab_size", GgufValue::U32(static_cast<uint32_t>(s.n_vocab)));
  m.Set(a + ".context_length", GgufValue::U32(static_cast<uint32_t>(s.n_ctx_train)));
  m.Set(a + ".embedding_length", GgufValue::U32(static_cast<uint32_t>(s.n_embd)));
  m.Set(a + ".block_count", GgufValue::U32(static_cast<uint32_t>(s.n_layer)));
  m.Set(a + ".feed_forward_length", GgufValue::U32(static_cast<uint32_t>(s.n_ff)));
  m.Set(a + ".attention.head_count", GgufValue::U32(static_cast<uint32_t>(s.n_head)));
  m.Set(a + ".attention.head_count_kv", GgufValue::U32(static_cast<uint32_t>(s.n_head_kv)));
  const auto head_dim = static_cast<uint32_t>(SynthHeadDim(s));
  if (s.arch == "qwen3" || s.arch == "gemma2" || s.arch == "gemma3") {
    // The Qwen and Gemma converters name the head size (head_dim) and let RoPE default to all of it.
    m.Set(a + ".attention.key_length", GgufValue::U32(head_dim));
    m.Set(a + ".attention.value_length", GgufValue::U32(head_dim));
  } else {
    m.Set(a + ".rope.dimension_count", GgufValue::U32(head_dim));
  }
  m.Set(a + ".rope.freq_base", GgufValue::F32(SynthRopeBase(s)));
  m.Set(a + ".attention.layer_norm_rms_epsilon", GgufValue::F32(SynthRmsNormEps(s)));
  if (a == "phi3") {
    m.Set("phi3.attention.sliding_window", GgufValue::U32(static_cast<uint32_t>(s.sliding_window)));
  }
  if (a == "gemma2") {
    // The keys Gemma2's converter writes besides the common ones.
    m.Set("gemma2.attn_logit_softcapping", GgufValue::F32(s.attn_softcap));
    m.Set("gemma2.final_logit_softcapping", GgufValue::F32(s.final_softcap));
    if (s.sliding_window > 0) {
      m.Set("gemma2.attention.sliding_window", GgufValue::U32(static_cast<uint32_t>(s.sliding_window)));
    }
  }
  if (a == "gemma3") {
    // Gemma 3's converter always writes the window (512 in the released models) and, for the 4B and
    // larger, linear scaling of the global layers' RoPE (factor 8).
    const int window = s.sliding_window > 0 ? s.sliding_window : 512;
    m.Set("gemma3.attention.sliding_window", GgufValue::U32(static_cast<uint32_t>(window)));
    if (s.rope_scaling_factor > 0) {
      m.Set("gemma3.rope.scaling.type", GgufValue::Str("linear"));
      m.Set("gemma3.rope.scaling.factor", GgufValue::F32(s.rope_scaling_factor));
    }
  }

  if (s.bpe_vocab) {
    SetBpeVocab(s, m);
    return m;
  }
  const SynthVocab vocab = MakeSynthVocab(s.n_vocab);
  std::vector<GgufValue> tokens, scores, types;
  tokens.reserve(vocab.tokens.size());
  scores.reserve(vocab.tokens.size());
  types.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    tokens.push_back(GgufValue::Str(vocab.tokens[i]));
    scores.push_back(GgufValue::F32(vocab.scores[i]));
    types.push_back(GgufValue::I32(static_cast<int32_t>(vocab.types[i])));
  }
  m.Set("tokenizer.ggml.model", GgufValue::Str("llama"));
  m.Set("tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, std::move(tokens)));
  m.Set("tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, std::move(scores)));
  m.Set("tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, std::move(types)));
  m.Set("tokenizer.ggml.bos_token_id", GgufValue::U32(static_cast<uint32_t>(vocab.bos_id)));
  m.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(static_cast<uint32_t>(vocab.eos_id)));
  m.Set("tokenizer.ggml.unknown_token_id", GgufValue::U32(static_cast<uint32_t>(vocab.unk_id)));
  m.Set("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  m.Set("tokenizer.ggml.add_eos_token", GgufValue::Bool(false));
  // Gemma's SentencePiece vocabulary adds no space before the text.
  if (a == "gemma2" || a == "gemma3") m.Set("tokenizer.ggml.add_space_prefix", GgufValue::Bool(false));
  return m;
}

Status WriteSynthModel(const SynthModelSpec& spec, const std::string& path) {
  QL_RETURN_IF_ERROR(ValidateSynthModelSpec(spec));
  GgufWriter writer(SynthModelMetadata(spec));
  for (TensorPlan& t : PlanTensors(spec)) {
    const uint64_t seed = spec.seed ^ NameHash(t.name);
    const GgmlType type = t.type;
    const float mean = t.mean;
    const float std_dev = t.std_dev;
    std::vector<float> values = std::move(t.values);
    writer.AddTensor({std::move(t.name), std::move(t.shape), type,
                      [=, values = std::move(values)](std::span<std::byte> dst) {
                        if (values.empty()) {
                          FillNormal(dst, type, seed, mean, std_dev);
                        } else {
                          std::memcpy(dst.data(), values.data(), dst.size());
                        }
                        return Ok();
                      }});
  }
  return writer.WriteTo(path);
}

}  // namespace quantlab
