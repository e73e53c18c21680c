#include "quantlab/model/model.h"

#include <fmt/format.h>

#include <map>

#include "quantlab/gguf/model_checks.h"
#include "quantlab/model/weights.h"

namespace quantlab {
namespace {

// Finds and checks the tensors of one model file.
class TensorBinder {
 public:
  explicit TensorBinder(const GgufFile& file) : file_(file) {}

  // A required matrix of shape (n_in, n_out) in ggml order.
  Result<LinearWeight> Matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
    const GgufTensorInfo* info = file_.FindTensor(name);
    if (info == nullptr) return MakeError("missing tensor '{}'", name);
    if (info->shape.size() != 2 || info->shape[0] != n_in || info->shape[1] != n_out) {
      return MakeError("tensor '{}' has shape {}, expected [{}, {}]", name, ShapeString(*info), n_in, n_out);
    }
    const TypeKernels* kernels = KernelsFor(info->type);
    if (kernels == nullptr) {
      return MakeError("tensor '{}' has type {} which quantlab cannot compute with", name,
                       TypeName(info->type));
    }
    LinearWeight m;
    m.name = name;
    m.type = info->type;
    m.n_in = n_in;
    m.n_out = n_out;
    m.data = file_.TensorData(*info).data();
    m.row_bytes = RowBytes(info->type, n_in);
    m.kernels = kernels;
    return m;
  }

  // A vector of n floats (stored as any type with a to_float kernel); `required` false -> empty if absent.
  Result<std::vector<float>> Vector(const std::string& name, int64_t n, bool required = true) const {
    const GgufTensorInfo* info = file_.FindTensor(name);
    if (info == nullptr) {
      if (required) return MakeError("missing tensor '{}'", name);
      return std::vector<float>{};
    }
    if (info->n_elements() != n || info->shape[0] != n) {
      return MakeError("tensor '{}' has shape {}, expected [{}]", name, ShapeString(*info), n);
    }
    const TypeKernels* kernels = KernelsFor(info->type);
    if (kernels == nullptr || n % TypeInfo(info->type).block_size != 0) {
      return MakeError("tensor '{}' has type {} which quantlab cannot read", name, TypeName(info->type));
    }
    std::vector<float> values(n);
    kernels->to_float(file_.TensorData(*info).data(), values.data(), n);
    return values;
  }

 private:
  static std::string ShapeString(const GgufTensorInfo& info) {
    return fmt::format("[{}]", fmt::join(info.shape, ", "));
  }
  const GgufFile& file_;
};

// phi3's attn_qkv: the rows of Q (n_embd), then K and V (n_embd_kv each).
Status BindFusedQkv(const TensorBinder& bind, const LlamaConfig& c, const std::string& p, LayerWeights& l) {
  const int64_t n_q = int64_t{c.n_head} * c.head_dim;
  const int64_t n_kv = c.n_embd_kv();
  QL_ASSIGN_OR_RETURN(const LinearWeight qkv, bind.Matrix(p + "attn_qkv.weight", c.n_embd, n_q + 2 * n_kv));
  l.wq = qkv.Rows(0, n_q, qkv.name + "[q]");
  l.wk = qkv.Rows(n_q, n_kv, qkv.name + "[k]");
  l.wv = qkv.Rows(n_q + n_kv, n_kv, qkv.name + "[v]");
  return Ok();
}

Result<LayerWeights> BindLayer(const TensorBinder& bind, const LlamaConfig& c, int i) {
  const std::string p = fmt::format("blk.{}.", i);
  const int64_t n_q = int64_t{c.n_head} * c.head_dim;
  LayerWeights l;
  QL_ASSIGN_OR_RETURN(l.attn_norm, bind.Vector(p + "attn_norm.weight", c.n_embd));
  if (c.fused_qkv_ffn) {
    QL_RETURN_IF_ERROR(BindFusedQkv(bind, c, p, l));
  } else {
    QL_ASSIGN_OR_RETURN(l.wq, bind.Matrix(p + "attn_q.weight", c.n_embd, n_q));
    QL_ASSIGN_OR_RETURN(l.wk, bind.Matrix(p + "attn_k.weight", c.n_embd, c.n_embd_kv()));
    QL_ASSIGN_OR_RETURN(l.wv, bind.Matrix(p + "attn_v.weight", c.n_embd, c.n_embd_kv()));
  }
  QL_ASSIGN_OR_RETURN(l.wo, bind.Matrix(p + "attn_output.weight", n_q, c.n_embd));
  const bool bias_required = c.arch == LlamaArch::kQwen2;
  QL_ASSIGN_OR_RETURN(l.bq, bind.Vector(p + "attn_q.bias", n_q, bias_required));
  QL_ASSIGN_OR_RETURN(l.bk, bind.Vector(p + "attn_k.bias", c.n_embd_kv(), bias_required));
  QL_ASSIGN_OR_RETURN(l.bv, bind.Vector(p + "attn_v.bias", c.n_embd_kv(), bias_required));
  QL_ASSIGN_OR_RETURN(l.bo, bind.Vector(p + "attn_output.bias", c.n_embd, false));
  if (c.qk_norm) {
    QL_ASSIGN_OR_RETURN(l.attn_q_norm, bind.Vector(p + "attn_q_norm.weight", c.head_dim));
    QL_ASSIGN_OR_RETURN(l.attn_k_norm, bind.Vector(p + "attn_k_norm.weight", c.head_dim));
  }
  QL_ASSIGN_OR_RETURN(l.ffn_norm, bind.Vector(p + "ffn_norm.weight", c.n_embd));
  if (c.fused_qkv_ffn) {
    // ffn_up holds gate (rows 0 .. n_ff) then up, as llama.cpp's SWIGLU splits it.
    QL_ASSIGN_OR_RETURN(const LinearWeight fused,
                        bind.Matrix(p + "ffn_up.weight", c.n_embd, 2 * int64_t{c.n_ff}));
    l.ffn_gate = fused.Rows(0, c.n_ff, fused.name + "[gate]");
    l.ffn_up = fused.Rows(c.n_ff, c.n_ff, fused.name + "[up]");
  } else {
    QL_ASSIGN_OR_RETURN(l.ffn_gate, bind.Matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
    QL_ASSIGN_OR_RETURN(l.ffn_up, bind.Matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
  }
  QL_ASSIGN_OR_RETURN(l.ffn_down, bind.Matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
  QL_ASSIGN_OR_RETURN(l.ffn_gate_b, bind.Vector(p + "ffn_gate.bias", c.n_ff, false));
  QL_ASSIGN_OR_RETURN(l.ffn_up_b, bind.Vector(p + "ffn_up.bias", c.n_ff, false));
  QL_ASSIGN_OR_RETURN(l.ffn_down_b, bind.Vector(p + "ffn_down.bias", c.n_embd, false));
  if (c.post_norms) {
    QL_ASSIGN_OR_RETURN(l.attn_post_norm, bind.Vector(p + "post_attention_norm.weight", c.n_embd));
    QL_ASSIGN_OR_RETURN(l.ffn_post_norm, bind.Vector(p + "post_ffw_norm.weight", c.n_embd));
  }
  return l;
}

Result<std::unique_ptr<ModelWeights>> BindWeights(const GgufFile& file, LlamaConfig& c) {
  const TensorBinder bind(file);
  auto w = std::make_unique<ModelWeights>();
  QL_ASSIGN_OR_RETURN(w->token_embd, bind.Matrix("token_embd.weight", c.n_embd, c.n_vocab));
  for (int i = 0; i < c.n_layer; ++i) {
    QL_ASSIGN_OR_RETURN(LayerWeights layer, BindLayer(bind, c, i));
    w->layers.push_back(std::move(layer));
  }
  c.qkv_bias = !w->layers.empty() && !w->layers[0].bq.empty();
  QL_ASSIGN_OR_RETURN(w->output_norm, bind.Vector("output_norm.weight", c.n_embd));
  c.tied_embeddings = file.FindTensor("output.weight") == nullptr;
  if (c.tied_embeddings && c.arch == LlamaArch::kPhi3) return MakeError("missing tensor 'output.weight'");
  if (c.tied_embeddings) {
    w->output = w->token_embd;
  } else {
    QL_ASSIGN_OR_RETURN(w->output, bind.Matrix("output.weight", c.n_embd, c.n_vocab));
  }
  QL_ASSIGN_OR_RETURN(w->rope_freq_factors, bind.Vector("rope_freqs.weight", c.n_rot / 2, false));
  // Phi-3's long-context files choose between two factor sets by the context size: not computed yet.
  for (const char* name : {"rope_factors_long.weight", "rope_factors_short.weight"}) {
    if (file.FindTensor(name) != nullptr) {
      return MakeError("tensor '{}': phi3 long-context RoPE factors are not supported", name);
    }
  }
  return w;
}

}  // namespace

Model::Model() = default;
Model::~Model() = default;

const std::string& Model::path() const { return file_->path(); }

Result<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  QL_ASSIGN_OR_RETURN(GgufFile opened, GgufFile::Open(path));
  QL_RETURN_IF_ERROR(CheckModelFile(opened));
  std::unique_ptr<Model> model(new Model());
  model->file_ = std::make_unique<GgufFile>(std::move(opened));
  const GgufFile& file = *model->file_;

  const GgufTensorInfo* embd = file.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->shape.size() != 2) {
    return MakeError("{}: missing 2-D tensor 'token_embd.weight' (not a llama-family model?)", path);
  }
  if (file.metadata().Contains(
          fmt::format("{}.expert_count", file.metadata().GetString("general.architecture").value_or("")))) {
    return MakeError("{}: mixture-of-experts models are not supported", path);
  }
  QL_ASSIGN_OR_RETURN_CTX(model->config_, ReadLlamaConfig(file.metadata(), static_cast<int>(embd->shape[1])),
                          "{}", path);
  QL_ASSIGN_OR_RETURN_CTX(model->weights_, BindWeights(file, model->config_), "{}", path);
  QL_ASSIGN_OR_RETURN_CTX(Tokenizer tokenizer, Tokenizer::FromGguf(file.metadata()), "{}", path);
  model->tokenizer_ = std::make_unique<Tokenizer>(std::move(tokenizer));
  if (model->tokenizer_->n_vocab() > model->config_.n_vocab) {
    return MakeError("{}: tokenizer has {} tokens but token_embd.weight only {} rows", path,
                     model->tokenizer_->n_vocab(), model->config_.n_vocab);
  }
  return model;
}

uint64_t Model::weight_bytes() const {
  uint64_t total = 0;
  for (const auto& t : file_->tensors()) total += t.n_bytes;
  return total;
}

uint64_t Model::n_params() const {
  uint64_t total = 0;
  for (const auto& t : file_->tensors()) total += t.n_elements();
  return total;
}

std::string Model::dominant_type_name() const {
  std::map<GgmlType, uint64_t> elements;
  for (const auto& t : file_->tensors()) {
    if (t.shape.size() == 2) elements[t.type] += t.n_elements();
  }
  GgmlType best = GgmlType::kF32;
  uint64_t most = 0;
  for (const auto& [type, n] : elements) {
    if (n > most) {
      most = n;
      best = type;
    }
  }
  return std::string(TypeName(best));
}

}  // namespace quantlab
