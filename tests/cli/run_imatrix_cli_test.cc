// `quantlab run` with an importance matrix, end to end on a tiny synthetic model: computed once from a
// calibration text and reused on resume, a --imatrix file whose change is detected, "+imatrix" formats
// side by side with their plain versions, and the choices refused before any work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "quantlab/lab/lab.h"
#include "quantlab/lab/store.h"
#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/hash.h"
#include "report/report_checks.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {
namespace fs = std::filesystem;

using Outcome = testing::CommandOutcome;
Outcome Quantlab(const std::string& args) { return testing::RunQuantlab(args); }

class RunImatrixCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_ctx_train = 256;
    ASSERT_TRUE(WriteSynthModel(spec, (dir_ / "tiny.gguf").string()).ok());
    std::string prose, calibration;
    for (int i = 0; i < 60; ++i) prose += "the small cat sat on a warm mat and looked at the rain. ";
    for (int i = 0; i < 60; ++i) calibration += "a tall dog ran over green hills while birds sang loudly. ";
    std::ofstream(dir_ / "prose.txt") << prose;
    std::ofstream(dir_ / "calib.txt") << calibration;
  }
  std::string Args(const std::string& out, const std::string& formats) const {
    return "run " + (dir_ / "tiny.gguf").string() + " --formats " + formats +
           " --data prose=" + (dir_ / "prose.txt").string() +
           " -c 64 --chunks 2 -t 2 --n-predict 4 --skip-speed --no-progress --out " + (dir_ / out).string();
  }
  Result<analysis::LabResults> Results(const std::string& out) const {
    QL_ASSIGN_OR_RETURN(auto store, lab::ResultsStore::Open((dir_ / out / "results.sqlite").string()));
    return lab::LoadLabResults(*store);
  }
  testing::TempDir dir_;
};

TEST_F(RunImatrixCliTest, CalibrationImatrixIsComputedOnceAndComparedWithThePlainFormat) {
  const std::string args = Args("lab", "F16,Q4_K_M,Q4_K_M+imatrix") + " --calibration " +
                           (dir_ / "calib.txt").string() + " --calibration-chunks 2";
  const Outcome first = Quantlab(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("imatrix: computing the importance matrix from"), std::string::npos)
      << first.output;
  EXPECT_EQ(first.output.find("warning: the calibration text"), std::string::npos) << first.output;

  // The imatrix is stored in the lab folder in GGUF form, computed on the 2 chunks asked for.
  const fs::path stored = dir_ / "lab" / "imatrix.gguf";
  auto imatrix = ReadImatrixGgufFile(stored);
  ASSERT_TRUE(imatrix.ok()) << imatrix.error().message;
  EXPECT_EQ(imatrix->chunk_count, 2u);
  EXPECT_EQ(imatrix->datasets, std::vector<std::string>{(dir_ / "calib.txt").string()});

  // Both variants are formats of their own, from different files.
  auto results = Results("lab");
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_NE(results->Format("Q4_K_M"), nullptr);
  ASSERT_NE(results->Format("Q4_K_M+imatrix"), nullptr);
  EXPECT_EQ(results->imatrix.formats, std::vector<std::string>{"Q4_K_M+imatrix"});
  auto hash = Sha256FileHex(stored.string());
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(results->imatrix.hash, *hash);
  const fs::path models = dir_ / "lab" / "models";
  EXPECT_NE(testing::ReadAll(models / "tiny-Q4_K_M.gguf"),
            testing::ReadAll(models / "tiny-Q4_K_M-imatrix.gguf"));

  // The report names the variant and says what it was made with.
  const std::string md = testing::ReadAll(dir_ / "lab" / "report.md");
  EXPECT_NE(md.find("Q4_K_M+imatrix"), std::string::npos);
  EXPECT_NE(
      md.find("quantized with an importance matrix (computed by the lab from " +
              (dir_ / "calib.txt").string() + " on 2 chunks of 64 tokens, SHA-256 " + hash->substr(0, 16)),
      std::string::npos)
      << md;
  EXPECT_NE(testing::ReadAll(dir_ / "lab" / "tables" / "perplexity.csv").find("Q4_K_M+imatrix"),
            std::string::npos);

  // A rerun reuses the stored imatrix and every row.
  const auto written = fs::last_write_time(stored);
  const Outcome again = Quantlab(args);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("imatrix: reusing " + stored.string()), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("0 measurements made in this run"), std::string::npos) << again.output;
  EXPECT_EQ(fs::last_write_time(stored), written);
}

TEST_F(RunImatrixCliTest, ChangedImatrixFileIsDetectedAndItsFormatsMeasuredAgain) {
  // Two imatrices of the same model: one in GGUF form, one (other chunks) in the legacy form.
  const std::string model = (dir_ / "tiny.gguf").string();
  const std::string calib = (dir_ / "calib.txt").string();
  const std::string file = (dir_ / "given.imatrix").string();
  ASSERT_EQ(Quantlab("imatrix -m " + model + " -f " + calib + " -c 64 --chunks 1 -t 2 -o " + file).exit_code,
            0);
  const std::string args = Args("lab", "Q8_0,Q4_K_M") + " --imatrix " + file;
  const Outcome first = Quantlab(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto results = Results("lab");
  ASSERT_TRUE(results.ok()) << results.error().message;
  // Without "+imatrix" names every format an imatrix changes uses it; Q8_0 does not take one.
  ASSERT_NE(results->Format("Q4_K_M+imatrix"), nullptr);
  ASSERT_NE(results->Format("Q8_0"), nullptr);
  EXPECT_EQ(results->imatrix.formats, std::vector<std::string>{"Q4_K_M+imatrix"});
  EXPECT_EQ(testing::ReadAll(dir_ / "lab" / "imatrix.gguf"), testing::ReadAll(file));
  const std::string made_first = testing::ReadAll(dir_ / "lab" / "models" / "tiny-Q4_K_M-imatrix.gguf");

  ASSERT_EQ(Quantlab("imatrix -m " + model + " -f " + calib +
                     " -c 64 --chunks 2 -t 2 --output-format dat -o " + file)
                .exit_code,
            0);
  const Outcome second = Quantlab(args);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("differs from the last run's importance matrix"), std::string::npos)
      << second.output;
  EXPECT_EQ(second.output.find("0 measurements made in this run"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("[1/5] quantize: 1 of 2 formats to make (1 reused)"), std::string::npos)
      << second.output;
  EXPECT_NE(testing::ReadAll(dir_ / "lab" / "models" / "tiny-Q4_K_M-imatrix.gguf"), made_first);
  EXPECT_EQ(testing::ReadAll(dir_ / "lab" / "imatrix.dat"), testing::ReadAll(file));
  EXPECT_FALSE(fs::exists(dir_ / "lab" / "imatrix.gguf"));  // the first run's copy is gone
}

TEST_F(RunImatrixCliTest, OverlapWithTheEvaluationTextIsWarnedAndCaveatedInTheReport) {
  const Outcome r =
      Quantlab(Args("overlap", "F16,Q4_K_M+imatrix") + " --calibration " + (dir_ / "prose.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: the calibration text " + (dir_ / "prose.txt").string() +
                          " is the evaluation text 'prose'"),
            std::string::npos)
      << r.output;
  // The plan keeps the overlap, so the report (made from the store, also on resume) says it.
  auto results = Results("overlap");
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->imatrix.overlaps.size(), 1u);
  EXPECT_EQ(results->imatrix.overlaps[0].dataset, "prose");
  EXPECT_TRUE(results->imatrix.overlaps[0].identical);
  const std::string report = testing::ReadAll(dir_ / "overlap" / "report.md");
  EXPECT_NE(
      report.find("The calibration text is the evaluation text 'prose': the importance matrix was tuned "
                  "on text it is measured on"),
      std::string::npos)
      << report;

  // An unrelated calibration text leaves no caveat.
  const Outcome clean =
      Quantlab(Args("clean", "F16,Q4_K_M+imatrix") + " --calibration " + (dir_ / "calib.txt").string());
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  auto clean_results = Results("clean");
  ASSERT_TRUE(clean_results.ok()) << clean_results.error().message;
  EXPECT_TRUE(clean_results->imatrix.overlaps.empty());
  EXPECT_EQ(testing::ReadAll(dir_ / "clean" / "report.md").find("The calibration text"), std::string::npos);
}

TEST_F(RunImatrixCliTest, ImatrixChoicesAreRefusedBeforeAnyWork) {
  std::ofstream(dir_ / "broken.gguf") << "GGUF" << std::string(40, '\x01');
  const struct {
    std::string args;
    int exit_code;
    std::string message;
  } cases[] = {
      {Args("a", "F16,IQ2_XS"), 2, "'IQ2_XS' needs an importance matrix (llama-quantize refuses"},
      {Args("b", "Q4_K_M,Q4_K_M+imatrix"), 2, "'Q4_K_M+imatrix' needs an importance matrix"},
      {Args("c", "Q8_0+imatrix") + " --calibration " + (dir_ / "calib.txt").string(), 2,
       "Q8_0 does not use an importance matrix"},
      {Args("d", "Q4_K_M") + " --imatrix " + (dir_ / "broken.gguf").string(), 1,
       (dir_ / "broken.gguf").string()},
      {Args("e", "Q4_K_M") + " --calibration " + (dir_ / "missing.txt").string(), 1, "missing.txt"},
  };
  for (const auto& c : cases) {
    const Outcome r = Quantlab(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
  }
  for (const char* out : {"a", "b", "c", "d", "e"}) EXPECT_FALSE(fs::exists(dir_ / out)) << out;
}

}  // namespace
}  // namespace quantlab
