// quantlab quantize IQ4_XS without an importance matrix on the demo model: every tensor must equal what
// llama-quantize c392e509 wrote (SHA-256 per tensor, tests/data/recipes/demo_iq4_xs/). With the demo's
// imatrix the same check runs in real_imatrix_test.cc. Skipped when the demo model is absent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "quantlab/gguf/reader.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/util/hash.h"
#include "support/paths.h"

namespace quantlab {
namespace {

TEST(DemoIq4Xs, TensorsEqualLlamaQuantizesWithoutImatrix) {
  const auto model = testing::DemoPath("demo-f16.gguf");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "demo model not found at " << model;
  std::ifstream in(testing::TestDataPath("recipes/demo_iq4_xs/expected_tensors.json"));
  ASSERT_TRUE(in);
  const nlohmann::json tensors = nlohmann::json::parse(in)["recipes"]["IQ4_XS"];
  ASSERT_FALSE(tensors.empty());
  testing::TempDir dir;
  QuantizeModelOptions options;
  options.recipe = Recipe::kIQ4_XS;
  options.threads = 2;
  const std::string out = (dir / "iq4_xs.gguf").string();
  auto report = QuantizeModel(model.string(), out, options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  auto file = GgufFile::Open(out);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->tensors().size(), tensors.size());
  int iq4_xs = 0;
  for (const GgufTensorInfo& t : file->tensors()) {
    ASSERT_TRUE(tensors.contains(t.name)) << t.name;
    EXPECT_EQ(Sha256Hex(file->TensorData(t)), tensors[t.name].get<std::string>())
        << t.name << " differs from llama-quantize's";
    iq4_xs += t.type == GgmlType::kIQ4_XS ? 1 : 0;
  }
  EXPECT_EQ(iq4_xs, 29);  // all 2-D weights but output.weight (Q6_K)
}

}  // namespace
}  // namespace quantlab
