// The lab's importance-matrix settings: TOML keys, "+imatrix" format names, and the choices refused
// before any work.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "quantlab/lab/config.h"
#include "quantlab/recipes/imatrix_rules.h"
#include "support/paths.h"

namespace quantlab::lab {
namespace {

TEST(ImatrixConfigTest, TomlKeysAreReadRelativeToTheLabFile) {
  testing::TempDir dir;
  std::ofstream(dir / "lab.toml")
      << "formats = [\"Q4_K_M\", \"Q4_K_M+imatrix\"]\ncalibration = \"calib.txt\"\n"
         "calibration_chunks = 8\nimatrix = \"/abs/m.gguf\"\n";
  LabConfig c;
  auto s = ApplyLabToml((dir / "lab.toml").string(), c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(c.calibration_file, (dir / "calib.txt").string());
  EXPECT_EQ(c.imatrix_file, "/abs/m.gguf");
  EXPECT_EQ(c.calibration_chunks, 8);
  EXPECT_EQ(c.formats, (std::vector<std::string>{"Q4_K_M", "Q4_K_M+imatrix"}));
  // Both sources at once are refused.
  auto both = CheckImatrixChoice(c);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("not both"), std::string::npos) << both.error().message;
}

TEST(ImatrixConfigTest, ImatrixSuffixIsSplitCaseInsensitively) {
  EXPECT_EQ(SplitImatrixSuffix("Q4_K_M+imatrix").recipe, "Q4_K_M");
  EXPECT_TRUE(SplitImatrixSuffix("q4_k_m+IMatrix").imatrix);
  EXPECT_EQ(SplitImatrixSuffix("q4_k_m+IMatrix").recipe, "q4_k_m");
  EXPECT_FALSE(SplitImatrixSuffix("Q4_K_M").imatrix);
  EXPECT_FALSE(SplitImatrixSuffix("+imatrix").imatrix);  // no recipe before it
}

TEST(ImatrixConfigTest, WhichRecipesTakeOrNeedAnImatrix) {
  EXPECT_TRUE(RecipeTakesImatrix(Recipe::kQ4_K_M));
  EXPECT_TRUE(RecipeTakesImatrix(Recipe::kIQ4_XS));
  EXPECT_TRUE(RecipeTakesImatrix(Recipe::kQ4_0));
  EXPECT_FALSE(RecipeTakesImatrix(Recipe::kQ8_0));
  EXPECT_FALSE(RecipeTakesImatrix(Recipe::kF16));
  // llama-quantize's list; IQ4_XS and the K-quants do not need one.
  for (const char* name : {"IQ1_S", "IQ1_M", "IQ2_XXS", "iq2_xs", "IQ2_S", "Q2_K_S"}) {
    EXPECT_TRUE(RecipeNeedsImatrix(name)) << name;
  }
  for (const char* name : {"IQ4_XS", "Q2_K", "Q4_K_M", "IQ3_XXS", "IQ2_S_X"}) {
    EXPECT_FALSE(RecipeNeedsImatrix(name)) << name;
  }
}

TEST(ImatrixConfigTest, ChoicesRefusedBeforeAnyWork) {
  struct Case {
    std::vector<std::string> formats;
    std::string imatrix, calibration;
    int calibration_chunks;
    std::string message;  // empty: accepted
  };
  const Case cases[] = {
      {{"F16", "Q4_K_M"}, "", "", -1, ""},
      {{"Q4_K_M", "Q4_K_M+imatrix"}, "m.gguf", "", -1, ""},
      {{"Q4_K_M+imatrix"}, "", "", -1, "'Q4_K_M+imatrix' needs an importance matrix"},
      {{"IQ2_XS"}, "", "", -1, "'IQ2_XS' needs an importance matrix (llama-quantize refuses"},
      {{"Q2_K_S"}, "", "", -1, "'Q2_K_S' needs an importance matrix"},
      {{"Q8_0+imatrix"}, "", "c.txt", -1, "Q8_0 does not use an importance matrix"},
      {{"F16+imatrix"}, "m.dat", "", -1, "F16 does not use an importance matrix"},
      {{"Q9_Z+imatrix"}, "m.dat", "", -1, "unknown format 'Q9_Z'"},
      {{"Q4_K_M"}, "", "c.txt", 0, "--calibration-chunks must be at least 1"},
  };
  for (const Case& k : cases) {
    LabConfig c;
    c.formats = k.formats;
    c.imatrix_file = k.imatrix;
    c.calibration_file = k.calibration;
    c.calibration_chunks = k.calibration_chunks;
    const Status s = CheckImatrixChoice(c);
    if (k.message.empty()) {
      EXPECT_TRUE(s.ok()) << k.formats.front() << ": " << s.error().message;
    } else {
      ASSERT_FALSE(s.ok()) << k.formats.front();
      EXPECT_NE(s.error().message.find(k.message), std::string::npos) << s.error().message;
    }
  }
}

}  // namespace
}  // namespace quantlab::lab
