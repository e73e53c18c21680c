// `quantlab imatrix` end to end on a small synthetic model: the file it writes, the overlap warning, and
// bad input refused before any work with the option named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "quantlab/quant/imatrix.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::TempDir;

class ImatrixCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_vocab = 400;
    spec.n_ff = 512;
    spec.n_ctx_train = 64;
    model_ = (dir_ / "m.gguf").string();
    ASSERT_TRUE(WriteSynthModel(spec, model_).ok());
    text_ = (dir_ / "calibration.txt").string();
    std::ofstream out(text_);
    for (int i = 0; i < 12; ++i) out << "The quick brown fox jumps over the lazy dog near the river bank. ";
  }
  std::string Args(const std::string& extra) const {
    return "imatrix -m " + model_ + " -f " + text_ + " -t 2 " + extra;
  }
  TempDir dir_;
  std::string model_;
  std::string text_;
};

TEST_F(ImatrixCliTest, WritesLlamaImatrixsFile) {
  const std::string out = (dir_ / "m.imatrix").string();
  const std::string other = (dir_ / "other.txt").string();
  std::ofstream(other) << "An unrelated evaluation text about rivers, mountains and the weather in spring.";
  const auto run = testing::RunQuantlab(Args("-c 32 --chunks 2 -o " + out + " --eval-text " + other));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("warning"), std::string::npos) << run.output;
  auto dat = ReadImatrixDatFile(out);
  ASSERT_TRUE(dat.ok()) << dat.error().message;
  EXPECT_EQ(dat->entries.size(), 14u);
  EXPECT_EQ(dat->last_call, 2);
  EXPECT_EQ(dat->dataset, text_);
  for (const auto& e : dat->entries) EXPECT_EQ(e.ncall, 2) << e.name;
}

TEST_F(ImatrixCliTest, WarnsWhenTheCalibrationTextIsTheEvaluationText) {
  const std::string copy = (dir_ / "eval.txt").string();
  std::filesystem::copy_file(text_, copy);
  const auto run =
      testing::RunQuantlab(Args("-c 32 --chunks 1 -o " + (dir_ / "a.dat").string() + " --eval-text " + copy));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("warning: the calibration text " + text_ + " is the evaluation text"),
            std::string::npos)
      << run.output;
}

TEST_F(ImatrixCliTest, BadInputIsRefusedBeforeWork) {
  const std::string out = (dir_ / "never.dat").string();
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const Case cases[] = {
      {Args("-c 0 -o " + out), 2, "-c: context size must be at least 1"},
      {Args("--chunks 0 -o " + out), 2, "--chunks"},
      {Args("--output-format gguf -o " + out), 2, "--output-format gguf is not supported"},
      {Args("-c 96 -o " + out), 1, "larger than the model's training context 64"},
      {Args("-o " + (dir_ / "no-such-folder" / "x.dat").string()), 1, "does not exist"},
      {"imatrix -m " + model_ + " -f " + (dir_ / "missing.txt").string() + " -o " + out, 1, "missing.txt"},
  };
  for (const Case& c : cases) {
    const auto run = testing::RunQuantlab(c.args);
    EXPECT_EQ(run.exit_code, c.exit_code) << c.args << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.args << "\n" << run.output;
    EXPECT_EQ(run.output.find("imatrix  "), std::string::npos) << "work started: " << run.output;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace quantlab
