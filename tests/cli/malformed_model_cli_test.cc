// Every command that loads a model refuses a malformed one (support/malformed_models.h) the same way:
// exit code 1 (no crash), an error naming the fault, and no output file or lab folder left behind.
// `inspect` still lists the file, so the fault can be seen, but flags it with the same error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/malformed_models.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::MalformedModel;

class MalformedModelCliTest : public ::testing::TestWithParam<MalformedModel> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::WriteMalformedModel(GetParam().defect, model_).ok());
    std::ofstream(text_) << "the small cat sat on a warm mat and looked at the rain. ";
  }

  // Runs `quantlab <args>` and checks it failed cleanly with the defect named.
  void ExpectRefused(const std::string& args) {
    SCOPED_TRACE(args);
    const testing::CommandOutcome r = testing::RunQuantlab(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(GetParam().expected_message), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
  }

  testing::TempDir dir_;
  const std::string model_ = (dir_ / "malformed.gguf").string();
  const std::string text_ = (dir_ / "text.txt").string();
};

TEST_P(MalformedModelCliTest, InspectListsTheFileAndFlagsTheFault) {
  ExpectRefused("inspect " + model_);
  const testing::CommandOutcome r = testing::RunQuantlab("inspect " + model_);
  EXPECT_NE(r.output.find("blk.0.attn_q.weight"), std::string::npos) << r.output;  // still listed
}

TEST_P(MalformedModelCliTest, GenerateRefuses) { ExpectRefused("generate -m " + model_ + " -p hello -n 2"); }

TEST_P(MalformedModelCliTest, QuantizeRefusesAndWritesNothing) {
  const std::string out = (dir_ / "q.gguf").string();
  const std::string json = (dir_ / "q.json").string();
  ExpectRefused("quantize " + model_ + " " + out + " Q8_0 --json " + json);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(json));
  // Nothing else either: no temporary file beside the model and the text.
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_.path())) ++files;
  EXPECT_EQ(files, 2u);
}

TEST_P(MalformedModelCliTest, PerplexityRefuses) {
  ExpectRefused("perplexity -m " + model_ + " -f " + text_ + " -c 16");
}

TEST_P(MalformedModelCliTest, RunRefusesBeforeMakingTheLabFolder) {
  const std::filesystem::path lab = dir_ / "lab";
  ExpectRefused("run " + model_ + " --formats Q8_0 --data " + text_ +
                " -c 16 --skip-speed --no-progress --out " + lab.string());
  EXPECT_FALSE(std::filesystem::exists(lab));
}

INSTANTIATE_TEST_SUITE_P(AllDefects, MalformedModelCliTest,
                         ::testing::ValuesIn(testing::AllMalformedModels()),
                         [](const ::testing::TestParamInfo<MalformedModel>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace quantlab
