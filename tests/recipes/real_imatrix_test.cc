// quantlab quantize with a real llama-imatrix output (tests/data/recipes/demo_imatrix/demo.imatrix,
// computed by llama.cpp on the demo model): every tensor must equal what llama-quantize wrote with the
// same file (SHA-256 per tensor, recorded at dev time). The other recipe tests use importance data of
// their own making; this one checks the reader against the real file format as well.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "quantlab/gguf/reader.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/util/hash.h"
#include "support/paths.h"

namespace quantlab {
namespace {

// Quantizes the demo model with every recipe of expected_tensors.json and the imatrix at `imatrix_path`.
void ExpectLlamaQuantizesTensors(const std::filesystem::path& imatrix_path) {
  const auto model = testing::DemoPath("demo-f16.gguf");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "demo model not found at " << model;
  auto imatrix = ReadImatrixFile(imatrix_path);
  ASSERT_TRUE(imatrix.ok()) << imatrix.error().message;
  EXPECT_GT(imatrix->entries.size(), 20u);

  std::ifstream in(testing::TestDataPath("recipes/demo_imatrix/expected_tensors.json"));
  ASSERT_TRUE(in);
  const nlohmann::json expected = nlohmann::json::parse(in)["recipes"];
  ASSERT_FALSE(expected.empty());
  testing::TempDir dir;
  for (const auto& [recipe_name, tensors] : expected.items()) {
    SCOPED_TRACE(recipe_name);
    const std::optional<Recipe> recipe = FindRecipe(recipe_name);
    ASSERT_TRUE(recipe.has_value());
    QuantizeModelOptions options;
    options.recipe = *recipe;
    options.threads = 2;
    options.imatrix = &*imatrix;
    options.imatrix_path = imatrix_path.string();
    const std::string out = (dir / (recipe_name + ".gguf")).string();
    auto report = QuantizeModel(model.string(), out, options);
    ASSERT_TRUE(report.ok()) << report.error().message;
    auto file = GgufFile::Open(out);
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_EQ(file->tensors().size(), tensors.size());
    for (const GgufTensorInfo& t : file->tensors()) {
      ASSERT_TRUE(tensors.contains(t.name)) << t.name;
      EXPECT_EQ(Sha256Hex(file->TensorData(t)), tensors[t.name].get<std::string>())
          << t.name << " differs from llama-quantize's";
    }
  }
}

TEST(RealImatrix, DemoModelTensorsEqualLlamaQuantizes) {
  ExpectLlamaQuantizesTensors(testing::TestDataPath("recipes/demo_imatrix/demo.imatrix"));
}

// The same file converted to the GGUF form: the importance is bit for bit the .dat's, so every quantized
// tensor is still the one llama-quantize wrote from the .dat.
TEST(RealImatrix, GgufFormOfTheDemoImatrixGivesTheSameTensors) {
  auto dat = ReadImatrixDatFile(testing::TestDataPath("recipes/demo_imatrix/demo.imatrix"));
  ASSERT_TRUE(dat.ok()) << dat.error().message;
  testing::TempDir dir;
  const auto gguf = dir / "demo.imatrix.gguf";
  ASSERT_TRUE(WriteImatrixGgufFile(gguf, ImatrixGgufFromDat(*dat, 128)).ok());
  ExpectLlamaQuantizesTensors(gguf);
}

}  // namespace
}  // namespace quantlab
