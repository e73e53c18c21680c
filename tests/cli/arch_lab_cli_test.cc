// The whole lab (`quantlab run`: quantize, perplexity and KLD, samples, speed, report) end to end on a
// small synthetic model of each architecture beyond plain llama (with the BPE vocabulary of its kind), as a
// user runs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::RunQuantlab;
using testing::TempDir;

struct ArchCase {
  const char* name;
  const char* synth_args;    // after `quantlab synth MODEL`
  const char* architecture;  // general.architecture the file carries
};

class ArchLabCli : public ::testing::TestWithParam<ArchCase> {};

TEST_P(ArchLabCli, RunsTheLabEndToEnd) {
  const ArchCase& c = GetParam();
  TempDir dir;
  const auto model = (dir / "model.gguf").string();
  auto synth = RunQuantlab("synth " + model + " " + c.synth_args);
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  auto inspect = RunQuantlab("inspect " + model);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find(c.architecture), std::string::npos) << inspect.output;

  std::string text;
  for (int i = 0; i < 120; ++i) text += "the small cat sat on a warm mat and looked at the rain. ";
  std::ofstream(dir / "prose.txt") << text;
  const auto out = dir / "lab";
  auto run =
      RunQuantlab("run " + model + " --formats F16,Q8_0,Q4_K_M --data prose=" + (dir / "prose.txt").string() +
                  " -c 64 --chunks 3 -t 2 --n-predict 8 --bench-reps 1 --no-progress --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* file : {"report.md", "report.html", "results.sqlite"}) {
    EXPECT_TRUE(std::filesystem::exists(out / file)) << file;
  }
  // Every format got a perplexity: the report's table names each.
  std::ifstream report(out / "report.md");
  const std::string md((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  for (const char* format : {"F16", "Q8_0", "Q4_K_M"}) {
    EXPECT_NE(md.find(format), std::string::npos) << format;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, ArchLabCli,
    ::testing::Values(
        ArchCase{"qwen3",
                 "--arch qwen3 --layers 2 --embd 256 --heads 4 --heads-kv 2 --head-dim 128 --ff 512 "
                 "--vocab 300 --ctx 256 --tied --bpe",
                 "qwen3"},
        ArchCase{"llama3",
                 "--arch llama3 --layers 2 --embd 256 --heads 4 --heads-kv 2 --ff 512 --vocab 300 "
                 "--ctx 256 --bpe",
                 "llama"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace quantlab
