// Test helpers for the engine: synthetic model files of any llama-family shape and weight type, and a
// plain scalar forward pass (dequantized weights, double accumulators, no KV cache, no F16 rounding)
// that defines what the engine should compute. Header-only so tests/model and tests/eval share it.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/model/model.h"
#include "quantlab/model/weights.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/fp16.h"

namespace quantlab::testing {

struct EngineTestModel {
  SynthModelSpec synth;                   // shape, seed; written as F32 then converted
  GgmlType matrix_type = GgmlType::kF32;  // type of every 2-D weight in the final file
  bool qwen2 = false;                     // rename to the qwen2 architecture and add Q/K/V biases
  std::string drop_tensor;                // leave this tensor out (error tests)
  std::string drop_key;                   // leave this metadata key out (error tests)
  std::string architecture;               // overwrite general.architecture only (error tests)
};

// Deterministic bias values (small, varied, sign-changing).
inline float TestBias(int layer, int which, int i) {
  return 0.05f * std::sin(0.37f * i + 1.3f * layer + which);
}

// Writes the model to `path`. Fails the current test on error.
inline void WriteEngineTestModel(const EngineTestModel& spec, const std::string& path) {
  SynthModelSpec synth = spec.synth;
  synth.weight_type = GgmlType::kF32;
  const std::string f32_path = path + ".f32.gguf";
  Status written = WriteSynthModel(synth, f32_path);
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto opened = GgufFile::Open(f32_path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const GgufFile& src = *opened;

  GgufMetadata metadata;
  for (const auto& [key, value] : src.metadata().entries()) {
    std::string k = key;
    if (spec.qwen2 && k.rfind("llama.", 0) == 0) k = "qwen2." + k.substr(6);
    metadata.Set(k, value);
  }
  if (!spec.drop_key.empty()) metadata.Remove(spec.drop_key);
  if (spec.qwen2) metadata.Set("general.architecture", GgufValue::Str("qwen2"));
  if (!spec.architecture.empty()) metadata.Set("general.architecture", GgufValue::Str(spec.architecture));
  if (spec.matrix_type != GgmlType::kF32) metadata.Remove("general.file_type");

  GgufWriter writer(std::move(metadata));
  for (const GgufTensorInfo& t : src.tensors()) {
    if (t.name == spec.drop_tensor) continue;
    const float* data = reinterpret_cast<const float*>(src.TensorData(t).data());
    const bool matrix = t.shape.size() == 2;
    const GgmlType type = matrix ? spec.matrix_type : GgmlType::kF32;
    const int64_t n_per_row = t.shape[0];
    const int64_t n_rows = t.n_rows();
    writer.AddTensor({t.name, t.shape, type, [=](std::span<std::byte> dst) -> Status {
                        if (type == GgmlType::kF32) {
                          std::memcpy(dst.data(), data, dst.size());
                        } else {
                          QuantizeRows(type, data, dst.data(), n_rows, n_per_row, nullptr);
                        }
                        return Ok();
                      }});
    if (spec.qwen2 && t.name.find("attn_q.weight") != std::string::npos) {
      // Biases for q, k, v of this layer, added after the Q weight.
      const int layer = std::stoi(t.name.substr(4));
      const int64_t n_q = t.shape[1];
      const int64_t n_kv = int64_t{synth.n_head_kv} * (synth.n_embd / synth.n_head);
      const std::pair<const char*, int64_t> biases[] = {
          {"attn_q.bias", n_q}, {"attn_k.bias", n_kv}, {"attn_v.bias", n_kv}};
      for (int which = 0; which < 3; ++which) {
        const auto [suffix, n] = biases[which];
        writer.AddTensor({"blk." + std::to_string(layer) + "." + suffix,
                          {n},
                          GgmlType::kF32,
                          [=](std::span<std::byte> dst) -> Status {
                            float* out = reinterpret_cast<float*>(dst.data());
                            for (int64_t i = 0; i < n; ++i)
                              out[i] = TestBias(layer, which, static_cast<int>(i));
                            return Ok();
                          }});
      }
    }
  }
  Status status = writer.WriteTo(path);
  ASSERT_TRUE(status.ok()) << status.error().message;
}

// The textbook forward pass on dequantized weights, in double, with no KV cache: logits for every
// position of `tokens` ((n_tokens, n_vocab) row-major). It rounds where llama.cpp's graph rounds by
// design (activations to each weight's vec_dot_type, q/K/V and attention probabilities to F16), because
// 8-bit activation quantization turns any upstream difference of 1e-4 into quantum-sized jumps; what is
// left to compare is the engine's arithmetic and data flow.
class ReferenceForward {
 public:
  explicit ReferenceForward(const Model& model) : c_(model.config()), w_(model.weights()) {}

  std::vector<float> Logits(const std::vector<int32_t>& tokens) const {
    const int n = static_cast<int>(tokens.size());
    const int hd = c_.head_dim;
    std::vector<std::vector<double>> x(n);
    for (int t = 0; t < n; ++t) {
      const auto row = Dequantize(w_.token_embd, tokens[t]);
      x[t].assign(row.begin(), row.end());
      if (c_.embd_scale != 0.0f) {
        for (double& e : x[t]) e *= c_.embd_scale;  // gemma2: sqrt(n_embd)
      }
    }
    for (int il = 0; il < c_.n_layer; ++il) {
      const LayerWeights& l = w_.layers[il];
      std::vector<std::vector<double>> q(n), k(n), v(n), attn(n);
      for (int t = 0; t < n; ++t) {
        const auto h = Norm(x[t], l.attn_norm);
        q[t] = Apply(l.wq, h, l.bq);
        k[t] = Apply(l.wk, h, l.bk);
        v[t] = Apply(l.wv, h, l.bv);
        HeadNorm(q[t], l.attn_q_norm);
        HeadNorm(k[t], l.attn_k_norm);
        Rope(q[t], c_.n_head, t, il);
        Rope(k[t], c_.n_head_kv, t, il);
        if (c_.query_prescaled) {
          for (double& e : q[t]) e *= c_.query_scale;
        }
        // The cache holds K and V in F16 and the query meets K in F16, as in llama.cpp.
        RoundToF16(q[t]);
        RoundToF16(k[t]);
        RoundToF16(v[t]);
      }
      for (int t = 0; t < n; ++t) {
        attn[t].assign(static_cast<size_t>(c_.n_head) * hd, 0.0);
        for (int h = 0; h < c_.n_head; ++h) {
          const int kvh = h / (c_.n_head / c_.n_head_kv);
          // A sliding window of n_swa positions keeps j in (t - n_swa, t].
          const int first = c_.LayerIsWindowed(il) ? std::max(0, t - c_.n_swa + 1) : 0;
          const double scale = c_.query_prescaled ? 1.0 : c_.query_scale;
          std::vector<double> s(t + 1, 0.0);
          double max_s = -1e300;
          for (int j = first; j <= t; ++j) {
            double dot = 0;
            for (int d = 0; d < hd; ++d) dot += q[t][h * hd + d] * k[j][kvh * hd + d];
            s[j] = SoftCap(dot * scale, c_.attn_softcap);
            max_s = std::max(max_s, s[j]);
          }
          double sum = 0;
          for (int j = first; j <= t; ++j) sum += (s[j] = std::exp(s[j] - max_s));
          for (int j = first; j <= t; ++j) {
            const double p =
                Fp16ToFp32(Fp32ToFp16(static_cast<float>(s[j] / sum)));  // probabilities meet V in F16
            for (int d = 0; d < hd; ++d) attn[t][h * hd + d] += p * v[j][kvh * hd + d];
          }
        }
      }
      for (int t = 0; t < n; ++t) {
        auto o = Apply(l.wo, attn[t], l.bo);
        if (!l.attn_post_norm.empty()) o = Norm(o, l.attn_post_norm);
        for (size_t i = 0; i < o.size(); ++i) x[t][i] += o[i];
        const auto h = Norm(x[t], l.ffn_norm);
        auto g = Apply(l.ffn_gate, h, l.ffn_gate_b);
        const auto u = Apply(l.ffn_up, h, l.ffn_up_b);
        const bool gelu = c_.ffn_activation == FfnActivation::kGeluTanh;
        for (size_t i = 0; i < g.size(); ++i)
          g[i] = (gelu ? Gelu(g[i]) : g[i] / (1 + std::exp(-g[i]))) * u[i];
        auto down = Apply(l.ffn_down, g, l.ffn_down_b);
        if (!l.ffn_post_norm.empty()) down = Norm(down, l.ffn_post_norm);
        for (size_t i = 0; i < down.size(); ++i) x[t][i] += down[i];
      }
    }
    std::vector<float> logits;
    for (int t = 0; t < n; ++t) {
      auto out = Apply(w_.output, Norm(x[t], w_.output_norm), {});
      for (double& e : out) e = SoftCap(e, c_.final_softcap);
      logits.insert(logits.end(), out.begin(), out.end());
    }
    return logits;
  }

 private:
  static std::vector<float> Dequantize(const LinearWeight& m, int64_t row) {
    std::vector<float> out(m.n_in);
    DequantizeRow(m.type, m.Row(row), out.data(), m.n_in);
    return out;
  }
  // The activation as the weight's dot product sees it: rounded through its vec_dot_type (Q8_K for
  // K-quants, Q8_0 for Q4_0/Q8_0, F16 for F16), which is part of what llama.cpp computes.
  static std::vector<double> RoundLikeActivation(const LinearWeight& m, const std::vector<double>& x) {
    std::vector<float> xf(x.begin(), x.end());
    const GgmlType vdt = m.kernels->vec_dot_type;
    if (vdt == GgmlType::kF16) {
      for (float& v : xf) v = Fp16ToFp32(Fp32ToFp16(v));
    } else if (vdt != GgmlType::kF32) {
      std::vector<std::byte> q(RowBytes(vdt, m.n_in));
      QuantizeRowReference(vdt, xf, q.data());
      DequantizeRow(vdt, q.data(), xf.data(), m.n_in);
    }
    return std::vector<double>(xf.begin(), xf.end());
  }
  std::vector<double> Apply(const LinearWeight& m, const std::vector<double>& x_in,
                            const std::vector<float>& b) const {
    const std::vector<double> x = RoundLikeActivation(m, x_in);
    std::vector<double> y(m.n_out);
    for (int64_t r = 0; r < m.n_out; ++r) {
      const auto row = Dequantize(m, r);
      double dot = 0;
      for (int64_t i = 0; i < m.n_in; ++i) dot += row[i] * x[i];
      y[r] = dot + (b.empty() ? 0.0 : b[r]);
    }
    return y;
  }
  std::vector<double> Norm(const std::vector<double>& x, const std::vector<float>& w) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / x.size() + c_.rms_norm_eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
    return y;
  }
  // cap * tanh(s / cap); 0: no cap.
  static double SoftCap(double s, float cap) { return cap == 0.0f ? s : cap * std::tanh(s / cap); }
  // GELU (tanh approximation) as llama.cpp computes it: looked up at the F16-rounded input, the result
  // rounded to F16 (ggml's table), exact outside [-10, 10].
  static double Gelu(double x) {
    if (x <= -10) return 0;
    if (x >= 10) return x;
    const double h = Fp16ToFp32(Fp32ToFp16(static_cast<float>(x)));
    const double g = 0.5 * h * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * h * (1 + 0.044715 * h * h)));
    return Fp16ToFp32(Fp32ToFp16(static_cast<float>(g)));
  }
  // Each head_dim slice of x RMS-normalized on its own with the shared weight (qwen3's Q/K norms).
  void HeadNorm(std::vector<double>& x, const std::vector<float>& w) const {
    if (w.empty()) return;
    const size_t hd = w.size();
    for (size_t first = 0; first + hd <= x.size(); first += hd) {
      double ss = 0;
      for (size_t i = 0; i < hd; ++i) ss += x[first + i] * x[first + i];
      const double scale = 1.0 / std::sqrt(ss / hd + c_.rms_norm_eps);
      for (size_t i = 0; i < hd; ++i) x[first + i] *= scale * w[i];
    }
  }
  static void RoundToF16(std::vector<double>& x) {
    for (double& v : x) v = Fp16ToFp32(Fp32ToFp16(static_cast<float>(v)));
  }
  // Rotation of pair i by scale * pos * base^(-2i/n_rot) / factor_i: adjacent pairs (llama) or split
  // halves (qwen2, qwen3, phi3); factor_i from rope_freqs.weight (Llama 3.1), else 1.
  // gemma3's windowed layers use a base and scale of their own.
  void Rope(std::vector<double>& x, int n_heads, int pos, int il) const {
    const bool own = c_.rope_freq_base_swa > 0 && c_.LayerIsWindowed(il);
    const double base = own ? c_.rope_freq_base_swa : c_.rope_freq_base;
    const double freq_scale = own ? c_.rope_freq_scale_swa : c_.rope_freq_scale;
    const int hd = c_.head_dim;
    const auto& factors = w_.rope_freq_factors;
    for (int h = 0; h < n_heads; ++h) {
      for (int i = 0; i < c_.n_rot / 2; ++i) {
        const double factor = factors.empty() ? 1.0 : factors[i];
        const double angle = freq_scale * pos * std::pow(base, -2.0 * i / c_.n_rot) / factor;
        const bool neox = c_.rope_style == RopeStyle::kNeox;
        const int a = h * hd + (neox ? i : 2 * i);
        const int b = h * hd + (neox ? i + c_.n_rot / 2 : 2 * i + 1);
        const double x0 = x[a], x1 = x[b];
        x[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
        x[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
      }
    }
  }

  const LlamaConfig& c_;
  const ModelWeights& w_;
};

}  // namespace quantlab::testing
