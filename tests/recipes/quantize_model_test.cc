// The whole pipeline against llama-quantize's files: for small synthetic models (rebuilt bit for bit)
// every recipe and option case must give the same tensor order, types, metadata keys and tensor bytes
// (SHA-256 recorded from llama-quantize's output at dev time).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "quantlab/gguf/reader.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/util/hash.h"
#include "recipes/expectations.h"
#include "recipes/synth_source.h"
#include "support/malformed_models.h"

namespace quantlab {
namespace {

using testing::LoadShapeExpectations;
using testing::RecipeExpectationFiles;
using testing::ShapeExpectations;
using testing::TempDir;

std::vector<std::filesystem::path> ShapesWithBytes() {
  std::vector<std::filesystem::path> files;
  for (const auto& path : RecipeExpectationFiles()) {
    const auto shape = LoadShapeExpectations(path);
    if (!shape.cases.empty() && !shape.PlainCase(Recipe::kF16)->sha256.empty()) files.push_back(path);
  }
  return files;
}

class QuantizeModelMatchesLlamaQuantize : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(QuantizeModelMatchesLlamaQuantize, TypesMetadataAndBytes) {
  const ShapeExpectations shape = LoadShapeExpectations(GetParam());
  TempDir dir;
  const std::string source = (dir / "source.gguf").string();
  ASSERT_TRUE(testing::WriteSynthSource(shape, source).ok());

  int compared_cases = 0;
  for (size_t ci = 0; ci < shape.cases.size(); ++ci) {
    const auto& c = shape.cases[ci];
    SCOPED_TRACE(shape.shape_name + " " + c.Label());
    std::string input = source;
    if (c.source_recipe) {
      input = (dir / "requant-source.gguf").string();
      QuantizeModelOptions first;
      first.recipe = *c.source_recipe;
      first.threads = 2;
      ASSERT_TRUE(QuantizeModel(source, input, first).ok());
    }
    QuantizeModelOptions options;
    options.recipe = c.recipe;
    options.plan = c.options;
    options.threads = 1 + ci % 3;  // 1, 2 or 3 threads: chunking must not change the bytes
    const std::string output = (dir / "out.gguf").string();
    std::filesystem::remove(output);
    auto report = QuantizeModel(input, output, options);

    bool producible = true;
    for (GgmlType type : c.types) producible &= !TypeInfo(type).quantized || CanQuantizeRows(type);
    if (c.error || !producible) {
      ASSERT_FALSE(report.ok()) << "llama-quantize: "
                                << (c.error ? c.llama_message : "wrote a type quantlab lacks");
      EXPECT_FALSE(std::filesystem::exists(output));
      if (!producible) {
        EXPECT_NE(report.error().message.find("a type quantlab cannot produce"), std::string::npos)
            << report.error().message;
      }
      continue;
    }
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->n_fallback, c.n_fallback);

    auto written = GgufFile::Open(output);
    ASSERT_TRUE(written.ok()) << written.error().message;
    std::vector<std::string> keys;
    for (const auto& [key, value] : written->metadata().entries()) keys.push_back(key);
    EXPECT_EQ(keys, shape.output_metadata_keys);
    EXPECT_EQ(written->metadata().GetUint("general.file_type"), c.file_type);
    EXPECT_EQ(written->metadata().GetUint("general.quantization_version"), 2u);

    ASSERT_EQ(written->tensors().size(), shape.output_order.size());
    for (size_t i = 0; i < shape.output_order.size(); ++i) {
      const GgufTensorInfo& t = written->tensors()[i];
      EXPECT_EQ(t.name, shape.output_order[i]);
      EXPECT_EQ(TypeName(t.type), TypeName(c.types[i])) << t.name;
      EXPECT_EQ(Sha256Hex(written->TensorData(t)), c.sha256[i])
          << t.name << " bytes differ from llama-quantize's";
    }
    ++compared_cases;
  }
  EXPECT_GT(compared_cases, 0);
}

INSTANTIATE_TEST_SUITE_P(SmallShapes, QuantizeModelMatchesLlamaQuantize,
                         ::testing::ValuesIn(ShapesWithBytes()),
                         [](const auto& info) { return info.param.stem().string(); });

ShapeExpectations SmallShape() {
  return LoadShapeExpectations(testing::TestDataPath("recipes/l2_gqa4.json"));
}

TEST(QuantizeModel, ReportTotalsAndDistortion) {
  const ShapeExpectations shape = SmallShape();
  TempDir dir;
  const std::string source = (dir / "source.gguf").string();
  ASSERT_TRUE(testing::WriteSynthSource(shape, source).ok());
  QuantizeModelOptions options;
  options.recipe = Recipe::kQ8_0;
  options.threads = 2;
  size_t callbacks = 0;
  options.on_tensor = [&](const TensorReport&, size_t index, size_t count) {
    EXPECT_EQ(index, callbacks);
    EXPECT_EQ(count, shape.tensors.size());
    ++callbacks;
    return true;
  };
  auto report = QuantizeModel(source, (dir / "q8.gguf").string(), options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(callbacks, shape.tensors.size());
  EXPECT_EQ(report->threads, 2);

  uint64_t source_bytes = 0;
  int64_t elements = 0;
  for (const auto& t : report->tensors) {
    source_bytes += t.source_bytes;
    elements += t.distortion.count;
    if (!t.converted) {
      EXPECT_EQ(t.type, t.source_type);
      EXPECT_EQ(t.bytes, t.source_bytes);
      continue;
    }
    EXPECT_EQ(t.type, GgmlType::kQ8_0) << t.name;
    // 8 bits per value: tiny error, near-perfect direction, but not exact (outliers widen the scale).
    EXPECT_GT(t.distortion.rmse, 0) << t.name;
    EXPECT_LT(t.distortion.rmse, 2e-3) << t.name;
    EXPECT_GT(t.distortion.cosine, 0.9999) << t.name;
    EXPECT_LE(t.distortion.max_abs_error, 2.0 / 127) << t.name;  // half a step of the largest scale
  }
  EXPECT_EQ(report->source_tensor_bytes, source_bytes);
  EXPECT_GT(elements, 0);
  // Q8_0 is 34 bytes per 32 values: 8.5 bits, diluted a little by the F32 norms kept as they are.
  EXPECT_GT(report->bits_per_weight(), 8.5);
  EXPECT_LT(report->bits_per_weight(), 8.7);
  EXPECT_NEAR(report->compression_ratio(), 16.0 / report->bits_per_weight(), 0.1);
  EXPECT_EQ(report->output_file_bytes, std::filesystem::file_size(dir / "q8.gguf"));

  const auto json = QuantizeReportToJson(*report);
  EXPECT_EQ(json["recipe"], "Q8_0");
  EXPECT_EQ(json["file_type"], 7);
  EXPECT_EQ(json["tensors"].size(), shape.tensors.size());
  EXPECT_TRUE(json["tensors"][2].contains("rmse"));
}

TEST(QuantizeModel, NonFiniteSourceValueNamesTensorAndLeavesNoFile) {
  const ShapeExpectations shape = SmallShape();
  TempDir dir;
  for (const char* poisoned : {"blk.1.ffn_up.weight", "blk.0.attn_norm.weight"}) {
    SCOPED_TRACE(poisoned);
    const std::string source = (dir / "nan.gguf").string();
    ASSERT_TRUE(testing::WriteSynthSource(shape, source, poisoned).ok());
    const std::string output = (dir / "out.gguf").string();
    QuantizeModelOptions options;
    options.recipe = Recipe::kQ4_K_M;
    auto report = QuantizeModel(source, output, options);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find(poisoned), std::string::npos) << report.error().message;
    EXPECT_NE(report.error().message.find("NaN"), std::string::npos) << report.error().message;
    EXPECT_FALSE(std::filesystem::exists(output));
    // Nothing else was left in the folder either (no temporary file).
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    EXPECT_EQ(files, 1u);
  }
}

TEST(QuantizeModel, MalformedModelsAreRefusedBeforeAnyWork) {
  for (const testing::MalformedModel& m : testing::AllMalformedModels()) {
    SCOPED_TRACE(m.name);
    TempDir dir;
    const std::string source = (dir / "m.gguf").string();
    ASSERT_TRUE(testing::WriteMalformedModel(m.defect, source).ok());
    const std::string output = (dir / "out.gguf").string();
    QuantizeModelOptions options;
    options.recipe = Recipe::kQ4_K_M;
    size_t tensors_written = 0;
    options.on_tensor = [&](const TensorReport&, size_t, size_t) { return ++tensors_written > 0; };
    auto report = QuantizeModel(source, output, options);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find(m.expected_message), std::string::npos) << report.error().message;
    EXPECT_EQ(tensors_written, 0u);
    EXPECT_FALSE(std::filesystem::exists(output));
  }
}

TEST(QuantizeModel, ProgressCallbackReturningFalseStopsWithoutAFile) {
  const ShapeExpectations shape = SmallShape();
  TempDir dir;
  const std::string source = (dir / "source.gguf").string();
  ASSERT_TRUE(testing::WriteSynthSource(shape, source).ok());
  const std::string output = (dir / "stopped.gguf").string();
  QuantizeModelOptions options;
  options.recipe = Recipe::kQ8_0;
  size_t callbacks = 0;
  options.on_tensor = [&](const TensorReport&, size_t, size_t) { return ++callbacks < 2; };
  auto report = QuantizeModel(source, output, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(callbacks, 2u);  // no tensor is written after the callback said stop
  EXPECT_NE(report.error().message.find("stopped"), std::string::npos) << report.error().message;
  EXPECT_FALSE(std::filesystem::exists(output));
}

TEST(QuantizeModel, ImportanceMatrixChangesBytesAndIsRecorded) {
  const ShapeExpectations shape = SmallShape();
  TempDir dir;
  const std::string source = (dir / "source.gguf").string();
  ASSERT_TRUE(testing::WriteSynthSource(shape, source).ok());
  ImportanceMatrix imatrix;
  for (const auto& t : shape.tensors) {
    std::vector<float> weights(static_cast<size_t>(t.shape[0]));
    for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.1f + static_cast<float>(i % 7);
    imatrix.entries[t.name] = weights;
  }
  imatrix.chunks = 12;
  imatrix.dataset = "wiki.train.raw";
  QuantizeModelOptions options;
  options.recipe = Recipe::kQ4_K_S;
  options.imatrix = &imatrix;
  options.imatrix_path = "test.imatrix";
  auto with = QuantizeModel(source, (dir / "with.gguf").string(), options);
  ASSERT_TRUE(with.ok()) << with.error().message;
  options.imatrix = nullptr;
  auto without = QuantizeModel(source, (dir / "without.gguf").string(), options);
  ASSERT_TRUE(without.ok());

  auto a = GgufFile::Open((dir / "with.gguf").string());
  auto b = GgufFile::Open((dir / "without.gguf").string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->metadata().GetString("quantize.imatrix.file"), "test.imatrix");
  EXPECT_EQ(a->metadata().GetString("quantize.imatrix.dataset"), "wiki.train.raw");
  EXPECT_EQ(a->metadata().GetInt("quantize.imatrix.entries_count"),
            static_cast<int64_t>(shape.tensors.size()));
  EXPECT_EQ(a->metadata().GetInt("quantize.imatrix.chunks_count"), 12);
  EXPECT_FALSE(b->metadata().Contains("quantize.imatrix.file"));
  const GgufTensorInfo* qa = a->FindTensor("blk.0.attn_q.weight");
  const GgufTensorInfo* qb = b->FindTensor("blk.0.attn_q.weight");
  ASSERT_TRUE(qa && qb);
  EXPECT_NE(Sha256Hex(a->TensorData(*qa)), Sha256Hex(b->TensorData(*qb)));
  EXPECT_TRUE(with->tensors[3].used_importance || with->tensors[4].used_importance);

  // A wrong-sized entry is an error naming the tensor.
  imatrix.entries["blk.0.attn_q.weight"].resize(10);
  options.imatrix = &imatrix;
  auto bad = QuantizeModel(source, (dir / "bad.gguf").string(), options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("blk.0.attn_q.weight"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
