// Loading llama-family files: configuration from metadata, tied embeddings, and clear errors for files
// quantlab cannot run.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/engine_test_models.h"
#include "support/malformed_models.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using testing::EngineTestModel;
using testing::TempDir;

EngineTestModel SmallModel() {
  EngineTestModel m;
  m.synth.n_layer = 2;
  m.synth.n_embd = 256;
  m.synth.n_head = 4;
  m.synth.n_head_kv = 2;
  m.synth.n_ff = 512;
  m.synth.n_vocab = 300;
  m.synth.n_ctx_train = 64;
  return m;
}

TEST(ModelLoadTest, ReadsConfiguration) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.rope_freq_base = 50000.0f;
  spec.synth.rms_norm_eps = 1e-6f;
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kLlama);
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_embd, 256);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_rot, 64);
  EXPECT_EQ(c.n_ff, 512);
  EXPECT_EQ(c.n_vocab, 300);
  EXPECT_EQ(c.n_ctx_train, 64);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 50000.0f);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.rope_style, RopeStyle::kNormal);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_GT((*model)->weight_bytes(), 0u);
  EXPECT_EQ((*model)->dominant_type_name(), "f32");
}

TEST(ModelLoadTest, Qwen2UsesNeoxRopeAndBiases) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.qwen2 = true;
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_EQ((*model)->config().arch, LlamaArch::kQwen2);
  EXPECT_EQ((*model)->config().rope_style, RopeStyle::kNeox);
  EXPECT_TRUE((*model)->config().qkv_bias);
}

TEST(ModelLoadTest, Phi3BindsItsFusedMatricesByRows) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "phi3";
  spec.synth.sliding_window = 2047;
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kPhi3);
  EXPECT_EQ(c.rope_style, RopeStyle::kNeox);
  EXPECT_TRUE(c.query_prescaled);
  EXPECT_EQ(c.n_swa, 2047);
  const LayerWeights& l = (*model)->weights().layers[1];
  // Q, K, V are consecutive row ranges of attn_qkv; gate then up of ffn_up.
  EXPECT_EQ(l.wk.data, l.wq.Row(l.wq.n_out));
  EXPECT_EQ(l.wv.data, l.wk.Row(l.wk.n_out));
  EXPECT_EQ(l.wq.n_out, c.n_embd);
  EXPECT_EQ(l.wk.n_out, c.n_embd_kv());
  EXPECT_EQ(l.ffn_up.data, l.ffn_gate.Row(c.n_ff));
  EXPECT_EQ(l.ffn_up.n_out, c.n_ff);
}

TEST(ModelLoadTest, Qwen3ReadsHeadSizeAndBindsQkNorms) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "qwen3";
  spec.synth.head_dim = 96;  // 4 x 96 = 384 attention width on a 256 embedding
  spec.synth.tied_embeddings = true;
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kQwen3);
  EXPECT_EQ(c.rope_style, RopeStyle::kNeox);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.head_dim, 96);
  EXPECT_EQ(c.n_rot, 96);  // no rope.dimension_count: the whole head
  EXPECT_FLOAT_EQ(c.rope_freq_base, 1e6f);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  const LayerWeights& l = (*model)->weights().layers[1];
  EXPECT_EQ(l.wq.n_out, 4 * 96);
  EXPECT_EQ(l.wo.n_in, 4 * 96);
  EXPECT_EQ(l.attn_q_norm.size(), 96u);
  EXPECT_EQ(l.attn_k_norm.size(), 96u);
}

TEST(ModelLoadTest, Llama3ReadsRopeFactors) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "llama3";
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kLlama);
  EXPECT_EQ(c.rope_style, RopeStyle::kNormal);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 500000.0f);
  EXPECT_FLOAT_EQ(c.rope_freq_scale, 1.0f);
  const std::vector<float>& f = (*model)->weights().rope_freq_factors;
  ASSERT_EQ(f.size(), 32u);
  // Llama 3.1's divisors: 1 for the fast pairs, 8 for the slowest, a blend between.
  EXPECT_FLOAT_EQ(f.front(), 1.0f);
  EXPECT_FLOAT_EQ(f.back(), 8.0f);
  EXPECT_TRUE(std::any_of(f.begin(), f.end(), [](float v) { return v > 1.0f && v < 8.0f; }));
}

// Loading `spec` fails with a message that contains `expected`.
void ExpectLoadError(const EngineTestModel& spec, const std::string& expected) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find(expected), std::string::npos) << model.error().message;
}

TEST(ModelLoadTest, Phi3WithoutSlidingWindowKeyIsRefusedLikeLlamaCpp) {
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "phi3";
  spec.drop_key = "phi3.attention.sliding_window";
  ExpectLoadError(spec, "missing metadata key 'phi3.attention.sliding_window'");
}

TEST(ModelLoadTest, Phi3MissingFusedTensorIsNamed) {
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "phi3";
  spec.drop_tensor = "blk.0.attn_qkv.weight";
  ExpectLoadError(spec, "missing tensor 'blk.0.attn_qkv.weight'");
}

// gemma2 as llama.cpp c392e50 reads it: soft-caps and window from the file, llama.cpp's defaults where
// absent (window 4096, caps 50 and 30), the even layers windowed, the query scaled by 1/sqrt(key_length),
// embeddings by sqrt(n_embd), post norms bound, token_embd as the output matrix.
TEST(ModelLoadTest, Gemma2ReadsItsKeysWithLlamaCppDefaults) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "gemma2";
  spec.synth.attn_softcap = 40.0f;
  spec.synth.final_softcap = 20.0f;
  spec.drop_key = "gemma2.final_logit_softcapping";
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kGemma2);
  EXPECT_EQ(c.rope_style, RopeStyle::kNeox);
  EXPECT_EQ(c.ffn_activation, FfnActivation::kGeluTanh);
  EXPECT_EQ(c.attn_softcap, 40.0f);
  EXPECT_EQ(c.final_softcap, 30.0f);
  EXPECT_EQ(c.n_swa, 4096);
  EXPECT_TRUE(c.LayerIsWindowed(0));
  EXPECT_FALSE(c.LayerIsWindowed(1));
  EXPECT_TRUE(c.LayerIsWindowed(2));
  EXPECT_TRUE(c.query_prescaled);
  EXPECT_EQ(c.query_scale, 1.0f / std::sqrt(static_cast<float>(c.head_dim)));
  EXPECT_EQ(c.embd_scale, std::sqrt(static_cast<float>(c.n_embd)));
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ((*model)->weights().output.data, (*model)->weights().token_embd.data);
  EXPECT_EQ((*model)->weights().layers[1].attn_post_norm.size(), static_cast<size_t>(c.n_embd));
  EXPECT_EQ((*model)->weights().layers[1].ffn_post_norm.size(), static_cast<size_t>(c.n_embd));
}

TEST(ModelLoadTest, Gemma2MissingPostNormIsNamed) {
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "gemma2";
  spec.drop_tensor = "blk.1.post_ffw_norm.weight";
  ExpectLoadError(spec, "missing tensor 'blk.1.post_ffw_norm.weight'");
}

TEST(ModelLoadTest, Qwen3MissingQkNormIsNamed) {
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "qwen3";
  spec.drop_tensor = "blk.1.attn_k_norm.weight";
  ExpectLoadError(spec, "missing tensor 'blk.1.attn_k_norm.weight'");
}

// gemma3 as ik_llama.cpp reads it: the window required, every sixth layer global (rope.freq_base and the
// file's linear scaling) and the others windowed (base 10000, unscaled), the scores scaled by
// 1/sqrt(key_length), Q/K and post norms bound, no soft-capping.
TEST(ModelLoadTest, Gemma3ReadsItsLayerPattern) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "gemma3";
  spec.synth.n_layer = 7;
  spec.synth.sliding_window = 64;
  spec.synth.rope_scaling_factor = 8.0f;
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.arch, LlamaArch::kGemma3);
  EXPECT_EQ(c.rope_style, RopeStyle::kNeox);
  EXPECT_EQ(c.n_swa, 64);
  for (int il = 0; il < 7; ++il) EXPECT_EQ(c.LayerIsWindowed(il), il != 5) << il;
  EXPECT_EQ(c.rope_freq_base, 1e6f);
  EXPECT_EQ(c.rope_freq_scale, 1.0f / 8.0f);
  EXPECT_EQ(c.rope_freq_base_swa, 10000.0f);
  EXPECT_EQ(c.rope_freq_scale_swa, 1.0f);
  EXPECT_FALSE(c.query_prescaled);
  EXPECT_EQ(c.query_scale, 1.0f / std::sqrt(static_cast<float>(c.head_dim)));
  EXPECT_EQ(c.attn_softcap, 0.0f);
  EXPECT_EQ(c.final_softcap, 0.0f);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ((*model)->weights().layers[6].attn_q_norm.size(), static_cast<size_t>(c.head_dim));
  EXPECT_EQ((*model)->weights().layers[6].ffn_post_norm.size(), static_cast<size_t>(c.n_embd));
}

TEST(ModelLoadTest, Gemma3WithoutSlidingWindowKeyIsRefused) {
  EngineTestModel spec = SmallModel();
  spec.synth.arch = "gemma3";
  spec.drop_key = "gemma3.attention.sliding_window";
  ExpectLoadError(spec, "missing metadata key 'gemma3.attention.sliding_window'");
}

TEST(ModelLoadTest, UnsupportedArchitectureListsSupported) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.architecture = "falcon";
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("unsupported architecture 'falcon'"), std::string::npos)
      << model.error().message;
  EXPECT_NE(model.error().message.find("llama, mistral, qwen2, qwen3, phi3"), std::string::npos)
      << model.error().message;
  EXPECT_NE(model.error().message.find(path), std::string::npos);
}

TEST(ModelLoadTest, MissingTensorIsNamed) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.drop_tensor = "blk.1.ffn_up.weight";
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("missing tensor 'blk.1.ffn_up.weight'"), std::string::npos)
      << model.error().message;
}

TEST(ModelLoadTest, MissingConfigurationKeyIsNamed) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  EngineTestModel spec = SmallModel();
  spec.architecture = "qwen2";  // keys stay llama.*: the qwen2 configuration is missing
  testing::WriteEngineTestModel(spec, path);
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("missing metadata key 'qwen2.context_length'"), std::string::npos)
      << model.error().message;
}

TEST(ModelLoadTest, MalformedModelsAreRefusedWithTheFaultNamed) {
  for (const testing::MalformedModel& m : testing::AllMalformedModels()) {
    SCOPED_TRACE(m.name);
    TempDir dir;
    const std::string path = (dir / "m.gguf").string();
    ASSERT_TRUE(testing::WriteMalformedModel(m.defect, path).ok());
    auto model = Model::Load(path);
    ASSERT_FALSE(model.ok());
    EXPECT_NE(model.error().message.find(path), std::string::npos) << model.error().message;
    EXPECT_NE(model.error().message.find(m.expected_message), std::string::npos) << model.error().message;
  }
}

TEST(ModelLoadTest, NotAGgufFile) {
  TempDir dir;
  const std::string path = (dir / "bad.gguf").string();
  FILE* f = fopen(path.c_str(), "wb");
  fputs("definitely not gguf", f);
  fclose(f);
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_FALSE(model.error().message.empty());
}

TEST(SessionTest, RejectsBadOptionsAndTokens) {
  TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  testing::WriteEngineTestModel(SmallModel(), path);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;

  auto too_long = Session::Create(**model, {.n_ctx = 65});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("larger than the model's training context 64"), std::string::npos)
      << too_long.error().message;

  auto session = Session::Create(**model, {.n_ctx = 8, .n_threads = 1});
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->n_ctx(), 8);
  const std::vector<int32_t> bad = {1, 300};
  auto out = (*session)->Decode(bad);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("token id 300 at index 1 is outside the vocabulary"), std::string::npos);
  EXPECT_EQ((*session)->n_past(), 0);

  const std::vector<int32_t> nine(9, 1);
  auto overflow = (*session)->Decode(nine);
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message.find("do not fit in the context"), std::string::npos);
  EXPECT_FALSE((*session)->Decode({}).ok());

  const std::vector<int32_t> ok_tokens = {1, 2, 3};
  ASSERT_TRUE((*session)->Decode(ok_tokens).ok());
  EXPECT_EQ((*session)->n_past(), 3);
  (*session)->Truncate(1);
  EXPECT_EQ((*session)->n_past(), 1);
  (*session)->Reset();
  EXPECT_EQ((*session)->n_past(), 0);
  EXPECT_GT((*session)->kv_cache_bytes(), 0u);
}

}  // namespace
}  // namespace quantlab
