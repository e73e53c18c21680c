// `quantlab imatrix` end to end on a small synthetic model: the file it writes, the overlap warning, and
// bad input refused before any work with the option named.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "quantlab/quant/imatrix.h"
#include "quantlab/quant/imatrix_gguf.h"
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

TEST_F(ImatrixCliTest, WritesLlamaImatrixsLegacyFile) {
  const std::string out = (dir_ / "m.imatrix").string();
  const std::string other = (dir_ / "other.txt").string();
  std::ofstream(other) << "An unrelated evaluation text about rivers, mountains and the weather in spring.";
  const auto run =
      testing::RunQuantlab(Args("-c 32 --chunks 2 --output-format dat -o " + out + " --eval-text " + other));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("warning"), std::string::npos) << run.output;
  auto dat = ReadImatrixDatFile(out);
  ASSERT_TRUE(dat.ok()) << dat.error().message;
  EXPECT_EQ(dat->entries.size(), 14u);
  EXPECT_EQ(dat->last_call, 2);
  EXPECT_EQ(dat->dataset, text_);
  for (const auto& e : dat->entries) EXPECT_EQ(e.ncall, 2) << e.name;
}

// The default is current llama-imatrix's GGUF form: the same sums as the .dat (which stores them divided by
// the rows and multiplied by ncall), the rows as counts, and the importance llama-quantize derives from
// either within float rounding.
TEST_F(ImatrixCliTest, WritesTheGgufFormatByDefault) {
  const std::string gguf = (dir_ / "m.gguf.imatrix.gguf").string();
  const std::string dat = (dir_ / "m.dat").string();
  const auto run = testing::RunQuantlab(Args("-c 32 --chunks 2 -o " + gguf));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("warning"), std::string::npos) << run.output;
  const auto run_dat = testing::RunQuantlab(Args("-c 32 --chunks 2 --output-format dat -o " + dat));
  ASSERT_EQ(run_dat.exit_code, 0) << run_dat.output;

  auto g = ReadImatrixGgufFile(gguf);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->entries.size(), 14u);
  EXPECT_EQ(g->chunk_count, 2u);
  EXPECT_EQ(g->chunk_size, 32u);
  ASSERT_EQ(g->datasets.size(), 1u);
  EXPECT_EQ(g->datasets[0], text_);
  EXPECT_TRUE(std::is_sorted(g->entries.begin(), g->entries.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
  for (const auto& e : g->entries) {
    ASSERT_EQ(e.counts.size(), 1u) << e.name;
    EXPECT_EQ(e.counts[0], 64.0f) << e.name;  // two chunks of 32 tokens, every token counted
  }
  auto from_gguf = ReadImatrixFile(gguf);
  auto from_dat = ReadImatrixFile(dat);
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.error().message;
  ASSERT_TRUE(from_dat.ok()) << from_dat.error().message;
  ASSERT_EQ(from_gguf->entries.size(), from_dat->entries.size());
  for (const auto& [name, values] : from_dat->entries) {
    const std::vector<float>* other = from_gguf->Find(name);
    ASSERT_NE(other, nullptr) << name;
    ASSERT_EQ(other->size(), values.size()) << name;
    for (size_t j = 0; j < values.size(); ++j) EXPECT_NEAR((*other)[j], values[j], 1e-6f * values[j]) << name;
  }
  EXPECT_EQ(from_gguf->chunks, 2);
  EXPECT_EQ(from_gguf->dataset, text_);

  // quantize --imatrix takes either form; a GGUF file that is not an imatrix is refused, named.
  for (const std::string& imatrix : {gguf, dat}) {
    const auto q = testing::RunQuantlab("quantize " + model_ + " " + (dir_ / "q.gguf").string() +
                                        " Q4_K_M --threads 2 --imatrix " + imatrix);
    EXPECT_EQ(q.exit_code, 0) << q.output;
    EXPECT_NE(q.output.find("imatrix: 14 entries from " + imatrix), std::string::npos) << q.output;
  }
  const auto not_imatrix = testing::RunQuantlab("quantize " + model_ + " " + (dir_ / "q2.gguf").string() +
                                                " Q4_K_M --imatrix " + model_);
  EXPECT_EQ(not_imatrix.exit_code, 1) << not_imatrix.output;
  EXPECT_NE(not_imatrix.output.find(model_ + ": a GGUF file, but not an importance matrix"),
            std::string::npos)
      << not_imatrix.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "q2.gguf"));

  // Another suffix still gets GGUF, with llama-imatrix's warning.
  const std::string odd = (dir_ / "odd.dat").string();
  const auto run_odd = testing::RunQuantlab(Args("-c 32 --chunks 2 -o " + odd));
  ASSERT_EQ(run_odd.exit_code, 0) << run_odd.output;
  EXPECT_NE(run_odd.output.find("does not end in .gguf"), std::string::npos) << run_odd.output;
  EXPECT_TRUE(ReadImatrixGgufFile(odd).ok());
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
      {Args("--output-format f16 -o " + out), 2, "--output-format: 'f16' is neither gguf nor dat"},
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
