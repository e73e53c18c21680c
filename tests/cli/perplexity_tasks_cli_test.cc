// `quantlab perplexity --hellaswag/--winogrande/--multiple-choice` end to end on the demo model and its
// committed task files: the figures are the ones llama-perplexity c392e50 printed on the same files
// (docs/verification.md), and malformed task files fail with the file and task named.
#include <gtest/gtest.h>

#include <string>

#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

std::string Demo(const std::string& name) { return testing::DemoPath(name).string(); }

testing::CommandOutcome Score(const std::string& mode, const std::string& file) {
  return testing::RunQuantlab("perplexity -m " + Demo("demo-f16.gguf") + " --" + mode + " " + file + " -t 2",
                              testing::Stderr::kDiscard);
}

TEST(PerplexityTasksCli, HellaswagMatchesLlamaPerplexity) {
  const auto run = Score("hellaswag", Demo("tasks/hellaswag.txt"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("task\tacc_norm\n"), std::string::npos);
  // llama-perplexity's last running-accuracy line on the same file and model.
  EXPECT_NE(run.output.find("\n147\t83.67346939\n"), std::string::npos) << run.output;
}

TEST(PerplexityTasksCli, WinograndeMatchesLlamaPerplexity) {
  const auto run = Score("winogrande", Demo("tasks/winogrande.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Final Winogrande score(150 tasks): 96.6667 +/- 1.4706"), std::string::npos)
      << run.output;
}

TEST(PerplexityTasksCli, MultipleChoiceMatchesLlamaPerplexityAndDraws) {
  const auto run = Score("multiple-choice", Demo("tasks/mc.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Final result: 78.7671 +/- 3.3962"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Random chance: 34.3529 +/- 3.9437"), std::string::npos) << run.output;
  // Fewer tasks than the file holds: drawn, and (under 100) no final lines, as the reference does.
  const auto drawn =
      testing::RunQuantlab("perplexity -m " + Demo("demo-f16.gguf") + " --multiple-choice " +
                               Demo("tasks/mc.bin") + " --multiple-choice-tasks 10 -t 2 --json",
                           testing::Stderr::kDiscard);
  ASSERT_EQ(drawn.exit_code, 0) << drawn.output;
  EXPECT_NE(drawn.output.find("\"tasks\": 10"), std::string::npos) << drawn.output;
}

TEST(PerplexityTasksCli, MalformedFilesAndBadOptionsAreRefused) {
  const std::string bad = testing::TestDataPath("tasks/winogrande-no-blank.csv").string();
  const auto run = testing::RunQuantlab("perplexity -m " + Demo("demo-f16.gguf") + " --winogrande " + bad);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("winogrande-no-blank.csv: task 2 (line 2)"), std::string::npos) << run.output;

  const auto both = testing::RunQuantlab("perplexity -m " + Demo("demo-f16.gguf") + " --hellaswag " +
                                         Demo("tasks/hellaswag.txt") + " --winogrande " + bad);
  EXPECT_EQ(both.exit_code, 2) << both.output;
  const auto neither = testing::RunQuantlab("perplexity -m " + Demo("demo-f16.gguf"));
  EXPECT_EQ(neither.exit_code, 2) << neither.output;
}

}  // namespace
}  // namespace quantlab
