// Shared by the eval tests: a small synthetic model on disk, loaded, and a text long enough for a few
// perplexity chunks.
#pragma once

#include <memory>
#include <string>

#include "model/engine_test_models.h"
#include "support/paths.h"

namespace quantlab::testing {

inline EngineTestModel EvalTestModelSpec(GgmlType type = GgmlType::kF32, uint64_t seed = 42) {
  EngineTestModel m;
  m.synth.n_layer = 2;
  m.synth.n_embd = 256;
  m.synth.n_head = 4;
  m.synth.n_head_kv = 2;
  m.synth.n_ff = 512;
  m.synth.n_vocab = 400;
  m.synth.n_ctx_train = 64;
  m.synth.seed = seed;
  m.synth.weight_std = 0.05f;
  m.matrix_type = type;
  return m;
}

inline std::unique_ptr<Model> LoadEvalTestModel(const TempDir& dir, const std::string& name,
                                                GgmlType type = GgmlType::kF32, uint64_t seed = 42) {
  const std::string path = (dir / name).string();
  WriteEngineTestModel(EvalTestModelSpec(type, seed), path);
  auto model = Model::Load(path);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(model).value() : nullptr;
}

inline std::string EvalTestText() {
  std::string text;
  for (int i = 0; i < 12; ++i) {
    text += "The quick brown fox jumps over the lazy dog near the river bank, and the birds sing. ";
  }
  return text;
}

}  // namespace quantlab::testing
