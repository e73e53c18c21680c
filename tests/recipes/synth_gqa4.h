// The 16-layer GQA-4 synthetic model whose llama-quantize output is recorded in
// tests/data/recipes/synth_gqa4_l16.json (the i-quant recipe tests quantize it and compare).
#pragma once

#include "quantlab/synth/synth_model.h"

namespace quantlab::testing {

// As `quantlab synth --layers 16 --embd 256 --heads 8 --heads-kv 2 --ff 512 --ctx 256 --std 0.05`.
inline SynthModelSpec SynthGqa4L16Spec() {
  SynthModelSpec spec;
  spec.n_layer = 16;
  spec.n_embd = 256;
  spec.n_head = 8;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.n_ctx_train = 256;
  spec.weight_std = 0.05f;
  return spec;
}

}  // namespace quantlab::testing
