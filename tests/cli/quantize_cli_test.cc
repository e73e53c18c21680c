// `quantlab quantize` end to end on a small synthetic model: the file, the JSON report, the options and
// the errors a user meets (unknown recipe or type, requantization without permission).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "quantlab/gguf/reader.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::TempDir;

using Outcome = testing::CommandOutcome;
Outcome Quantlab(const std::string& args) { return testing::RunQuantlab(args); }

class QuantizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_embd = 256;
    spec.n_head = 4;
    spec.n_head_kv = 1;
    spec.n_ff = 512;
    spec.n_vocab = 300;
    model_ = (dir_ / "m.gguf").string();
    ASSERT_TRUE(WriteSynthModel(spec, model_).ok());
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  TempDir dir_;
  std::string model_;
};

TEST_F(QuantizeCliTest, WritesModelAndJsonReport) {
  const Outcome r =
      Quantlab("quantize " + model_ + " " + Path("q.gguf") + " Q4_K_M --threads 2 --json " + Path("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("compression"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bits per weight"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blk.1.ffn_down.weight"), std::string::npos) << r.output;  // per-tensor line

  auto file = GgufFile::Open(Path("q.gguf"));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->metadata().GetUint("general.file_type"), 15u);
  EXPECT_EQ(file->metadata().GetUint("general.quantization_version"), 2u);
  // GQA with 4 query heads per KV head, 2 layers: attn_v and ffn_down of the last layer get Q6_K.
  EXPECT_EQ(file->FindTensor("blk.1.attn_v.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(file->FindTensor("blk.0.attn_q.weight")->type, GgmlType::kQ4_K);
  EXPECT_EQ(file->FindTensor("output.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(file->FindTensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);

  std::ifstream in(Path("r.json"));
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["recipe"], "Q4_K_M");
  EXPECT_EQ(report["threads"], 2);
  EXPECT_EQ(report["tensors"].size(), file->tensors().size());
  EXPECT_GT(report["bits_per_weight"].get<double>(), 4.5);
  EXPECT_LT(report["bits_per_weight"].get<double>(), 6.0);
  EXPECT_GT(report["compression_ratio"].get<double>(), 2.5);
  EXPECT_EQ(report["output_file_bytes"].get<uint64_t>(), std::filesystem::file_size(Path("q.gguf")));
  int measured = 0;
  for (const auto& t : report["tensors"]) {
    if (!t["converted"].get<bool>()) continue;
    ++measured;
    EXPECT_GT(t["rmse"].get<double>(), 0) << t["name"];
    EXPECT_GT(t["cosine"].get<double>(), 0.98) << t["name"];
  }
  EXPECT_GT(measured, 10);
}

// Streaming: the model is mapped, converted tensor by tensor and written through a buffer, so the
// process's peak memory stays well below the model's size.
TEST(QuantizeCliMemory, PeakResidentMemoryFarBelowModelSize) {
  TempDir dir;
  SynthModelSpec spec;
  spec.n_layer = 6;
  spec.n_embd = 768;
  spec.n_head = 12;
  spec.n_head_kv = 4;
  spec.n_ff = 2048;
  spec.n_vocab = 4000;
  const std::string model = (dir / "big.gguf").string();
  ASSERT_TRUE(WriteSynthModel(spec, model).ok());
  const uint64_t model_bytes = std::filesystem::file_size(model);
  ASSERT_GT(model_bytes, 60u << 20);
  const Outcome r = Quantlab("quantize " + model + " " + (dir / "q.gguf").string() +
                             " Q4_K_M -t 2 -q --json " + (dir / "r.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(dir / "r.json");
  const auto report = nlohmann::json::parse(in);
  const uint64_t peak = report["peak_rss_bytes"].get<uint64_t>();
  ASSERT_GT(peak, 0u);
  EXPECT_LT(peak, model_bytes / 2) << "peak RSS " << peak << " for a model of " << model_bytes << " bytes";
}

TEST_F(QuantizeCliTest, PureAndForcedTypes) {
  const Outcome r = Quantlab("quantize " + model_ + " " + Path("p.gguf") +
                             " q4_k_m --pure --output-tensor-type q8_0 --token-embedding-type f16 -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto file = GgufFile::Open(Path("p.gguf"));
  ASSERT_TRUE(file.ok());
  for (const auto& t : file->tensors()) {
    if (t.name == "output.weight") {
      EXPECT_EQ(t.type, GgmlType::kQ8_0);
    } else if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.type, GgmlType::kF16);
    } else if (t.shape.size() >= 2) {
      EXPECT_EQ(t.type, GgmlType::kQ4_K) << t.name;
    } else {
      EXPECT_EQ(t.type, GgmlType::kF32) << t.name;
    }
  }
}

TEST_F(QuantizeCliTest, RequantizationNeedsTheFlag) {
  ASSERT_EQ(Quantlab("quantize " + model_ + " " + Path("q8.gguf") + " Q8_0 -q").exit_code, 0);
  const Outcome refused = Quantlab("quantize " + Path("q8.gguf") + " " + Path("q4.gguf") + " Q4_K_S -q");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("--allow-requantize"), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(Path("q4.gguf")));

  const Outcome allowed =
      Quantlab("quantize " + Path("q8.gguf") + " " + Path("q4.gguf") + " Q4_K_S -q --allow-requantize");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("warning: tensor"), std::string::npos) << allowed.output;
  EXPECT_TRUE(std::filesystem::exists(Path("q4.gguf")));
}

TEST_F(QuantizeCliTest, BadArgumentsAreNamed) {
  const Outcome recipe = Quantlab("quantize " + model_ + " " + Path("x.gguf") + " Q4_K_XL");
  EXPECT_EQ(recipe.exit_code, 2);
  EXPECT_NE(recipe.output.find("unknown recipe 'Q4_K_XL'"), std::string::npos) << recipe.output;
  EXPECT_NE(recipe.output.find("Q4_K_M"), std::string::npos) << recipe.output;  // lists the valid ones

  const Outcome type =
      Quantlab("quantize " + model_ + " " + Path("x.gguf") + " Q4_K_M --output-tensor-type q9_9");
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.output.find("q9_9"), std::string::npos) << type.output;

  const Outcome missing = Quantlab("quantize " + Path("absent.gguf") + " " + Path("x.gguf") + " Q8_0");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("absent.gguf"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(Path("x.gguf")));
}

}  // namespace
}  // namespace quantlab
