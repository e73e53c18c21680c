// `quantlab synth OUT.gguf [--arch llama|llama3|qwen3|phi3|gemma2|gemma3 --sliding-window N --head-dim N
//  --rope-scaling-factor X --attn-softcap X --final-softcap X --layers N --embd N --heads N --heads-kv N
//  --ff N --vocab N --ctx N --rope-base F --type f32|f16|bf16 --seed N --bpe --tied]`: writes a synthetic
//  model of that architecture (random weights, valid vocabulary).
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <memory>

#include "command_registry.h"
#include "quantlab/gguf/types.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/format.h"

#include <filesystem>

namespace quantlab::cli {
namespace {

struct SynthOptions {
  std::string output;
  std::string type = "f16";
  SynthModelSpec spec;
};

Status RunSynth(SynthOptions& opts) {
  const auto type = GgmlTypeFromName(opts.type);
  if (!type) return UsageError("unknown weight type '{}' (f32, f16 or bf16)", opts.type);
  opts.spec.weight_type = *type;
  // gemma2 and gemma3 have no output.weight
  if (opts.spec.arch == "gemma2" || opts.spec.arch == "gemma3") opts.spec.tied_embeddings = true;
  QL_RETURN_IF_ERROR(WriteSynthModel(opts.spec, opts.output));
  std::error_code ec;
  const auto size = std::filesystem::file_size(opts.output, ec);
  const SynthModelSpec& s = opts.spec;
  fmt::print("wrote {} ({}): {}, {} layers, embd {}, heads {}/{} kv, ffn {}, vocab {}, {}{}\n", opts.output,
             ec ? std::string("?") : HumanBytes(size), s.arch, s.n_layer, s.n_embd, s.n_head, s.n_head_kv,
             s.n_ff, s.n_vocab, TypeName(s.weight_type), s.tied_embeddings ? ", tied embeddings" : "");
  return Ok();
}

CommandRegistration registration{
    "synth",
    "Write a synthetic llama, llama3, qwen3, phi3, gemma2 or gemma3 GGUF model (random weights, valid "
    "vocabulary)",
    [](CLI::App& app) {
      auto opts = std::make_shared<SynthOptions>();
      SynthModelSpec& s = opts->spec;
      app.add_option("output", opts->output, "Output GGUF file")->required();
      app.add_option("--arch", s.arch, fmt::format("Architecture: {}", fmt::join(kSynthArchitectures, ", ")))
          ->capture_default_str();
      app.add_option("--sliding-window", s.sliding_window,
                     "phi3, gemma2: attention.sliding_window (0: none; gemma2: no key, llama.cpp's 4096)")
          ->capture_default_str();
      app.add_option("--rope-scaling-factor", s.rope_scaling_factor,
                     "gemma3: linear rope scaling of the global layers (0: none)")
          ->capture_default_str();
      app.add_option("--attn-softcap", s.attn_softcap, "gemma2: attn_logit_softcapping")
          ->capture_default_str();
      app.add_option("--final-softcap", s.final_softcap, "gemma2: final_logit_softcapping")
          ->capture_default_str();
      app.add_option("--head-dim", s.head_dim,
                     "qwen3, gemma2: head size when not embd / heads (0: embd / heads)")
          ->capture_default_str();
      app.add_option("--layers", s.n_layer, "Number of transformer blocks")->capture_default_str();
      app.add_option("--embd", s.n_embd, "Embedding size")->capture_default_str();
      app.add_option("--heads", s.n_head, "Attention heads")->capture_default_str();
      app.add_option("--heads-kv", s.n_head_kv, "Key/value heads (grouped-query attention)")
          ->capture_default_str();
      app.add_option("--ff", s.n_ff, "Feed-forward width")->capture_default_str();
      app.add_option("--vocab", s.n_vocab, "Vocabulary size")->capture_default_str();
      app.add_option("--ctx", s.n_ctx_train, "Training context length")->capture_default_str();
      app.add_option("--rope-base", s.rope_freq_base,
                     "RoPE frequency base (0: the architecture's usual, 500000 for llama3, 1e6 for qwen3)")
          ->capture_default_str();
      app.add_option("--type", opts->type, "Weight type: f32, f16 or bf16")->capture_default_str();
      app.add_option("--seed", s.seed, "Random seed")->capture_default_str();
      app.add_option("--std", s.weight_std, "Standard deviation of the weight matrices")
          ->capture_default_str();
      app.add_option("--name", s.name, "general.name")->capture_default_str();
      app.add_flag("--bpe", s.bpe_vocab,
                   "llama3, qwen3: byte-level BPE vocabulary (llama-bpe / qwen2 pre-tokenizer) instead of "
                   "SentencePiece");
      app.add_flag("--tied", s.tied_embeddings, "Tie the output projection to the token embeddings");
      return [opts] { return RunSynth(*opts); };
    }};

}  // namespace
}  // namespace quantlab::cli
