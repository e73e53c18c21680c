#include "quantlab/synth/synth_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/summary.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/synth/synth_vocab.h"
#include "quantlab/util/fp16.h"
#include "quantlab/util/hash.h"
#include "support/paths.h"

namespace quantlab {
namespace {

SynthModelSpec SmallSpec() {
  SynthModelSpec s;
  s.n_layer = 2;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 96;
  s.n_vocab = 400;
  s.n_ctx_train = 128;
  return s;
}

std::vector<float> ToFloats(const GgufFile& file, const GgufTensorInfo& t) {
  const auto data = file.TensorData(t);
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (t.type == GgmlType::kF32) {
      std::memcpy(&out[i], data.data() + 4 * i, 4);
    } else {
      uint16_t bits;
      std::memcpy(&bits, data.data() + 2 * i, 2);
      out[i] = t.type == GgmlType::kF16 ? Fp16ToFp32(bits) : Bf16ToFp32(bits);
    }
  }
  return out;
}

void MeanStd(const std::vector<float>& v, double& mean, double& std_dev) {
  double sum = 0, sum2 = 0;
  for (float x : v) {
    sum += x;
    sum2 += static_cast<double>(x) * x;
  }
  mean = sum / static_cast<double>(v.size());
  std_dev = std::sqrt(sum2 / static_cast<double>(v.size()) - mean * mean);
}

TEST(SynthModelTest, WritesLlamaMetadataAsLlamaCppExpects) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  ASSERT_TRUE(WriteSynthModel(SmallSpec(), path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "llama");
  EXPECT_EQ(*m.GetUint("general.file_type"), 1u);  // mostly F16
  EXPECT_EQ(*m.GetUint("llama.context_length"), 128u);
  EXPECT_EQ(*m.GetUint("llama.embedding_length"), 64u);
  EXPECT_EQ(*m.GetUint("llama.block_count"), 2u);
  EXPECT_EQ(*m.GetUint("llama.feed_forward_length"), 96u);
  EXPECT_EQ(*m.GetUint("llama.attention.head_count"), 4u);
  EXPECT_EQ(*m.GetUint("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(*m.GetUint("llama.rope.dimension_count"), 16u);
  EXPECT_EQ(m.Find("llama.rope.dimension_count")->type, GgufValueType::kUint32);
  EXPECT_FLOAT_EQ(static_cast<float>(*m.GetFloat("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(m.Find("llama.rope.freq_base")->type, GgufValueType::kFloat32);
  EXPECT_EQ(*m.GetString("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(m.GetArray("tokenizer.ggml.tokens")->items.size(), 400u);
  EXPECT_EQ(m.GetArray("tokenizer.ggml.scores")->element_type, GgufValueType::kFloat32);
  EXPECT_EQ(m.GetArray("tokenizer.ggml.token_type")->element_type, GgufValueType::kInt32);
  EXPECT_EQ(*m.GetUint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*m.GetUint("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(*m.GetUint("tokenizer.ggml.unknown_token_id"), 0u);
}

TEST(SynthModelTest, TensorNamesShapesAndTypes) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  ASSERT_TRUE(WriteSynthModel(SmallSpec(), path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->tensors().size(), 1u + 2 * 9 + 2);
  auto expect = [&](const std::string& name, std::vector<int64_t> shape, GgmlType type) {
    const GgufTensorInfo* t = file->FindTensor(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->shape, shape) << name;
    EXPECT_EQ(t->type, type) << name;
  };
  expect("token_embd.weight", {64, 400}, GgmlType::kF16);
  expect("blk.1.attn_norm.weight", {64}, GgmlType::kF32);
  expect("blk.1.attn_q.weight", {64, 64}, GgmlType::kF16);
  expect("blk.1.attn_k.weight", {64, 32}, GgmlType::kF16);  // 2 kv heads of 16
  expect("blk.1.attn_v.weight", {64, 32}, GgmlType::kF16);
  expect("blk.1.attn_output.weight", {64, 64}, GgmlType::kF16);
  expect("blk.1.ffn_norm.weight", {64}, GgmlType::kF32);
  expect("blk.1.ffn_gate.weight", {64, 96}, GgmlType::kF16);
  expect("blk.1.ffn_up.weight", {64, 96}, GgmlType::kF16);
  expect("blk.1.ffn_down.weight", {96, 64}, GgmlType::kF16);
  expect("output_norm.weight", {64}, GgmlType::kF32);
  expect("output.weight", {64, 400}, GgmlType::kF16);
  EXPECT_EQ(file->FindTensor("blk.2.attn_q.weight"), nullptr);
}

// phi3 as llama.cpp's converter writes it: phi3.* keys with the sliding window, Q/K/V fused in
// attn_qkv ((n_embd + 2 n_embd_kv) rows), gate and up fused in ffn_up (2 n_ff rows), no ffn_gate.
TEST(SynthModelTest, Phi3LayoutAsLlamaCppExpects) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  SynthModelSpec spec = SmallSpec();
  spec.arch = "phi3";
  spec.sliding_window = 2047;
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "phi3");
  EXPECT_EQ(*m.GetUint("phi3.attention.sliding_window"), 2047u);
  EXPECT_EQ(*m.GetUint("phi3.rope.dimension_count"), 16u);
  EXPECT_EQ(*m.GetUint("phi3.attention.head_count_kv"), 2u);
  EXPECT_FALSE(m.Contains("llama.block_count"));
  EXPECT_EQ(file->tensors().size(), 1u + 2 * 6 + 2);
  EXPECT_EQ(file->FindTensor("blk.1.attn_qkv.weight")->shape, (std::vector<int64_t>{64, 64 + 2 * 32}));
  EXPECT_EQ(file->FindTensor("blk.1.ffn_up.weight")->shape, (std::vector<int64_t>{64, 2 * 96}));
  EXPECT_EQ(file->FindTensor("blk.1.ffn_down.weight")->shape, (std::vector<int64_t>{96, 64}));
  EXPECT_EQ(file->FindTensor("blk.1.ffn_gate.weight"), nullptr);
  EXPECT_EQ(file->FindTensor("blk.1.attn_q.weight"), nullptr);
  EXPECT_NE(file->FindTensor("output.weight"), nullptr);

  spec.tied_embeddings = true;  // phi3 always has output.weight
  EXPECT_FALSE(ValidateSynthModelSpec(spec).ok());
  spec.tied_embeddings = false;
  spec.arch = "gemma7";
  const Status unknown = ValidateSynthModelSpec(spec);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("supported: llama, llama3, qwen3, phi3"), std::string::npos)
      << unknown.error().message;
}

// gemma2 as llama.cpp's converter writes it: gemma2.* keys with key/value length, soft-caps and (when
// set) the window, post norms in every block, no output.weight, no space prefix in the vocabulary.
TEST(SynthModelTest, Gemma2LayoutAsLlamaCppExpects) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  SynthModelSpec spec = SmallSpec();
  spec.arch = "gemma2";
  spec.sliding_window = 64;
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "gemma2");
  EXPECT_EQ(*m.GetUint("gemma2.attention.sliding_window"), 64u);
  EXPECT_EQ(*m.GetUint("gemma2.attention.key_length"), 16u);
  EXPECT_EQ(*m.GetFloat("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_EQ(*m.GetFloat("gemma2.final_logit_softcapping"), 30.0);
  EXPECT_EQ(m.GetBool("tokenizer.ggml.add_space_prefix"), std::optional<bool>(false));
  EXPECT_FALSE(m.Contains("llama.block_count"));
  EXPECT_EQ(file->tensors().size(), 1u + 2 * 11 + 1);
  EXPECT_NE(file->FindTensor("blk.1.post_attention_norm.weight"), nullptr);
  EXPECT_NE(file->FindTensor("blk.1.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(file->FindTensor("output.weight"), nullptr);

  spec.sliding_window = 0;  // no key: llama.cpp's default applies
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto plain = GgufFile::Open(path);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->metadata().Contains("gemma2.attention.sliding_window"));
  spec.attn_softcap = 0;
  EXPECT_FALSE(ValidateSynthModelSpec(spec).ok());
}

// qwen3 as its converter writes it: qwen3.* keys with attention.key_length / value_length (the head size,
// here wider than n_embd / n_head) and no rope.dimension_count, per-head Q/K norm weights, wider Q and
// attention-output matrices.
TEST(SynthModelTest, Qwen3LayoutAsTheConverterWritesIt) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  SynthModelSpec spec = SmallSpec();
  spec.arch = "qwen3";
  spec.head_dim = 32;  // 4 heads of 32 on a 64 embedding
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "qwen3");
  EXPECT_EQ(*m.GetUint("qwen3.attention.key_length"), 32u);
  EXPECT_EQ(*m.GetUint("qwen3.attention.value_length"), 32u);
  EXPECT_FALSE(m.Contains("qwen3.rope.dimension_count"));
  EXPECT_FLOAT_EQ(static_cast<float>(*m.Find("qwen3.rope.freq_base")->AsFloat()), 1e6f);
  EXPECT_EQ(file->FindTensor("blk.1.attn_q.weight")->shape, (std::vector<int64_t>{64, 4 * 32}));
  EXPECT_EQ(file->FindTensor("blk.1.attn_k.weight")->shape, (std::vector<int64_t>{64, 2 * 32}));
  EXPECT_EQ(file->FindTensor("blk.1.attn_output.weight")->shape, (std::vector<int64_t>{4 * 32, 64}));
  EXPECT_EQ(file->FindTensor("blk.1.attn_q_norm.weight")->shape, (std::vector<int64_t>{32}));
  EXPECT_EQ(file->FindTensor("blk.1.attn_k_norm.weight")->type, GgmlType::kF32);

  spec.arch = "llama";  // a head size of its own is for qwen3 only
  EXPECT_FALSE(ValidateSynthModelSpec(spec).ok());
}

// llama3: a llama file with rope base 500000 and Llama 3.1's rope_freqs.weight (first, as the converter
// yields it), no rope scaling key.
TEST(SynthModelTest, Llama3HasRopeFactors) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  SynthModelSpec spec = SmallSpec();
  spec.arch = "llama3";
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "llama");
  EXPECT_FLOAT_EQ(static_cast<float>(*m.Find("llama.rope.freq_base")->AsFloat()), 500000.0f);
  EXPECT_FALSE(m.Contains("llama.rope.scaling.type"));
  ASSERT_FALSE(file->tensors().empty());
  const GgufTensorInfo& factors = file->tensors().front();
  EXPECT_EQ(factors.name, "rope_freqs.weight");
  EXPECT_EQ(factors.shape, (std::vector<int64_t>{8}));  // head size 16: 8 rotated pairs
  EXPECT_EQ(factors.type, GgmlType::kF32);
}

// --bpe: a gpt2 vocabulary as Llama 3's and Qwen's converters write it: byte symbols first, merges whose
// parts and result are all tokens, the special tokens last (control), no scores.
TEST(SynthModelTest, BpeVocabularyAsTheConvertersWriteIt) {
  for (const char* arch : {"llama3", "qwen3"}) {
    SCOPED_TRACE(arch);
    SynthModelSpec spec = SmallSpec();
    spec.arch = arch;
    spec.bpe_vocab = true;
    const GgufMetadata m = SynthModelMetadata(spec);
    const bool llama3 = std::string(arch) == "llama3";
    EXPECT_EQ(*m.GetString("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(*m.GetString("tokenizer.ggml.pre"), llama3 ? "llama-bpe" : "qwen2");
    EXPECT_EQ(*m.GetBool("tokenizer.ggml.add_bos_token"), llama3);
    EXPECT_FALSE(m.Contains("tokenizer.ggml.scores"));
    const GgufArray* tokens = m.GetArray("tokenizer.ggml.tokens");
    const GgufArray* merges = m.GetArray("tokenizer.ggml.merges");
    ASSERT_NE(tokens, nullptr);
    ASSERT_NE(merges, nullptr);
    ASSERT_EQ(tokens->items.size(), 400u);
    std::set<std::string> texts;
    for (const auto& t : tokens->items) texts.insert(*t.AsString());
    EXPECT_EQ(texts.size(), 400u);                          // distinct
    EXPECT_EQ(*tokens->items[' '].AsString(), "\xC4\xA0");  // 'Ġ' stands for the space byte
    EXPECT_EQ(*tokens->items[399].AsString(), llama3 ? "<|end_of_text|>" : "<|im_end|>");
    for (const auto& item : merges->items) {
      const std::string merge = *item.AsString();
      const size_t space = merge.find(' ', 1);
      ASSERT_NE(space, std::string::npos) << merge;
      const std::string left = merge.substr(0, space), right = merge.substr(space + 1);
      EXPECT_TRUE(texts.contains(left) && texts.contains(right) && texts.contains(left + right)) << merge;
    }
  }
  SynthModelSpec phi3 = SmallSpec();
  phi3.arch = "phi3";
  phi3.bpe_vocab = true;
  EXPECT_FALSE(ValidateSynthModelSpec(phi3).ok());  // --bpe is for llama3 and qwen3
}

// gemma3 as its converter writes it: the window always (Gemma 3's 512 by default), linear rope scaling
// when set, rope base 1e6, Q/K norms and post norms in every block, no soft-capping keys, no output.weight.
TEST(SynthModelTest, Gemma3LayoutAsTheConverterWritesIt) {
  testing::TempDir dir;
  const auto path = (dir / "m.gguf").string();
  SynthModelSpec spec = SmallSpec();
  spec.arch = "gemma3";
  spec.rope_scaling_factor = 8.0f;
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const GgufMetadata& m = file->metadata();
  EXPECT_EQ(*m.GetString("general.architecture"), "gemma3");
  EXPECT_EQ(*m.GetUint("gemma3.attention.sliding_window"), 512u);
  EXPECT_EQ(*m.GetString("gemma3.rope.scaling.type"), "linear");
  EXPECT_EQ(*m.GetFloat("gemma3.rope.scaling.factor"), 8.0);
  EXPECT_EQ(*m.GetFloat("gemma3.rope.freq_base"), 1e6);
  EXPECT_FALSE(m.Contains("gemma3.attn_logit_softcapping"));
  EXPECT_EQ(file->tensors().size(), 1u + 2 * 13 + 1);
  EXPECT_NE(file->FindTensor("blk.1.attn_q_norm.weight"), nullptr);
  EXPECT_NE(file->FindTensor("blk.1.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(file->FindTensor("output.weight"), nullptr);

  spec.arch = "gemma2";  // linear rope scaling is for gemma3 only
  EXPECT_FALSE(ValidateSynthModelSpec(spec).ok());
}

TEST(SynthModelTest, TiedEmbeddingsHaveNoOutputTensor) {
  testing::TempDir dir;
  SynthModelSpec spec = SmallSpec();
  spec.tied_embeddings = true;
  spec.weight_type = GgmlType::kF32;
  const auto path = (dir / "tied.gguf").string();
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->FindTensor("output.weight"), nullptr);
  EXPECT_NE(file->FindTensor("output_norm.weight"), nullptr);
  EXPECT_EQ(file->FindTensor("token_embd.weight")->type, GgmlType::kF32);
  EXPECT_EQ(*file->metadata().GetUint("general.file_type"), 0u);
}

TEST(SynthModelTest, WeightsHaveRealisticScale) {
  testing::TempDir dir;
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    SynthModelSpec spec = SmallSpec();
    spec.weight_type = type;
    const auto path = (dir / "w.gguf").string();
    ASSERT_TRUE(WriteSynthModel(spec, path).ok());
    auto file = GgufFile::Open(path);
    ASSERT_TRUE(file.ok());
    double mean, std_dev;
    MeanStd(ToFloats(*file, *file->FindTensor("blk.0.ffn_up.weight")), mean, std_dev);
    EXPECT_NEAR(mean, 0.0, 0.002) << TypeName(type);
    EXPECT_NEAR(std_dev, 0.02, 0.001) << TypeName(type);
    MeanStd(ToFloats(*file, *file->FindTensor("blk.0.attn_norm.weight")), mean, std_dev);
    EXPECT_NEAR(mean, 1.0, 0.02);
    EXPECT_GT(std_dev, 0.0);
    EXPECT_LT(std_dev, 0.1);
  }
}

TEST(SynthModelTest, SameSeedSameBytesOtherSeedOtherWeights) {
  testing::TempDir dir;
  SynthModelSpec spec = SmallSpec();
  ASSERT_TRUE(WriteSynthModel(spec, (dir / "a.gguf").string()).ok());
  ASSERT_TRUE(WriteSynthModel(spec, (dir / "b.gguf").string()).ok());
  spec.seed = 43;
  ASSERT_TRUE(WriteSynthModel(spec, (dir / "c.gguf").string()).ok());
  const auto a = Sha256FileHex((dir / "a.gguf").string());
  const auto b = Sha256FileHex((dir / "b.gguf").string());
  const auto c = Sha256FileHex((dir / "c.gguf").string());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  // Different tensors get different values, not one repeated stream.
  auto file = GgufFile::Open((dir / "a.gguf").string());
  ASSERT_TRUE(file.ok());
  const auto q = file->TensorData(*file->FindTensor("blk.0.attn_q.weight"));
  const auto o = file->TensorData(*file->FindTensor("blk.0.attn_output.weight"));
  EXPECT_NE(std::memcmp(q.data(), o.data(), q.size()), 0);
}

TEST(SynthModelTest, RoundTripsToIdenticalBytes) {
  testing::TempDir dir;
  SynthModelSpec spec = SmallSpec();
  spec.weight_type = GgmlType::kBF16;
  ASSERT_TRUE(WriteSynthModel(spec, (dir / "a.gguf").string()).ok());
  auto file = GgufFile::Open((dir / "a.gguf").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(MakeWriterFromFile(*file).WriteTo((dir / "b.gguf").string()).ok());
  EXPECT_EQ(*Sha256FileHex((dir / "a.gguf").string()), *Sha256FileHex((dir / "b.gguf").string()));
}

TEST(SynthModelTest, SummaryTotals) {
  testing::TempDir dir;
  const SynthModelSpec spec = SmallSpec();
  ASSERT_TRUE(WriteSynthModel(spec, (dir / "a.gguf").string()).ok());
  auto file = GgufFile::Open((dir / "a.gguf").string());
  ASSERT_TRUE(file.ok());
  const GgufSummary s = SummarizeGguf(*file);
  const uint64_t per_layer = 64 + 64 * 64 * 2 + 64 * 32 * 2 + 64 + 3 * 64 * 96;
  const uint64_t params = 2 * 64 * 400 + 2 * per_layer + 64;
  EXPECT_EQ(s.n_parameters, params);
  const uint64_t norm_params = 2 * 2 * 64 + 64;
  EXPECT_EQ(s.tensor_bytes, (params - norm_params) * 2 + norm_params * 4);
  EXPECT_NEAR(s.bits_per_weight, 8.0 * static_cast<double>(s.tensor_bytes) / static_cast<double>(params),
              1e-9);
  EXPECT_EQ(s.architecture, "llama");
  EXPECT_EQ(s.file_type_name, "F16");
  ASSERT_TRUE(s.tokenizer.has_value());
  EXPECT_EQ(s.tokenizer->model, "llama");
  EXPECT_EQ(s.tokenizer->n_tokens, 400u);
  EXPECT_EQ(s.tokenizer->special.at("bos"), (std::pair<int64_t, std::string>{1, "<s>"}));
  EXPECT_EQ(s.tensors_per_type.at("f32"), 5u);
  EXPECT_EQ(s.tensors_per_type.at("f16"), 16u);
  EXPECT_TRUE(s.unsupported_types.empty());
  const std::string text = RenderSummaryText(s);
  EXPECT_NE(text.find("file type       F16 (1)"), std::string::npos) << text;
  EXPECT_NE(text.find("blk.1.ffn_down.weight"), std::string::npos);
  const auto json = SummaryToJson(s);
  EXPECT_EQ(json["totals"]["parameters"], params);
  EXPECT_EQ(json["hyperparameters"]["block_count"], "2");
  EXPECT_EQ(json["tensors"].size(), 21u);
}

TEST(SynthModelTest, RejectsInvalidSpecs) {
  testing::TempDir dir;
  auto expect_error = [&](SynthModelSpec spec, const std::string& problem) {
    Status status = WriteSynthModel(spec, (dir / "bad.gguf").string());
    ASSERT_FALSE(status.ok()) << problem;
    EXPECT_NE(status.error().message.find(problem), std::string::npos) << status.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir / "bad.gguf"));
  };
  SynthModelSpec s = SmallSpec();
  s.n_head = 5;
  expect_error(s, "not a multiple of the head count 5");
  s = SmallSpec();
  s.n_head_kv = 3;
  expect_error(s, "not a multiple of the kv head count 3");
  s = SmallSpec();
  s.n_vocab = 100;
  expect_error(s, "vocabulary of 100 is too small");
  s = SmallSpec();
  s.weight_type = GgmlType::kQ4_0;
  expect_error(s, "weight type q4_0 not supported");
  s = SmallSpec();
  s.n_layer = 0;
  expect_error(s, "must be positive");
}

TEST(SynthVocabTest, SentencePieceLayout) {
  const SynthVocab v = MakeSynthVocab(5000);
  ASSERT_EQ(v.tokens.size(), 5000u);
  ASSERT_EQ(v.scores.size(), 5000u);
  ASSERT_EQ(v.types.size(), 5000u);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.types[0], SpmTokenType::kUnknown);
  EXPECT_EQ(v.tokens[1], "<s>");
  EXPECT_EQ(v.types[1], SpmTokenType::kControl);
  EXPECT_EQ(v.tokens[2], "</s>");
  for (int byte = 0; byte < 256; ++byte) {
    char expected[8];
    std::snprintf(expected, sizeof(expected), "<0x%02X>", byte);
    EXPECT_EQ(v.tokens[3 + byte], expected);
    EXPECT_EQ(v.types[3 + byte], SpmTokenType::kByte);
  }
  std::set<std::string> unique(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(unique.size(), v.tokens.size()) << "tokens must be distinct";
  EXPECT_TRUE(unique.count("\xE2\x96\x81the")) << "word-initial pieces carry the U+2581 prefix";
  EXPECT_TRUE(unique.count("\xE2\x96\x81"));
  EXPECT_TRUE(unique.count("a"));
  // Normal pieces: scores strictly decreasing, so earlier (more common) pieces merge first.
  for (size_t i = 260; i < v.tokens.size(); ++i) {
    EXPECT_EQ(v.types[i], SpmTokenType::kNormal);
    EXPECT_LT(v.scores[i], v.scores[i - 1]);
  }
  EXPECT_EQ(MakeSynthVocab(kMinSynthVocab).tokens.size(), static_cast<size_t>(kMinSynthVocab));
  EXPECT_EQ(MakeSynthVocab(40000).tokens.size(), 40000u);  // beyond all trigrams
}

}  // namespace
}  // namespace quantlab
