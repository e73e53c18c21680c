// The task file readers (eval/task_files.h) on small committed files, valid and malformed, and the
// llama-perplexity task draws (eval/task_random.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "quantlab/eval/task_files.h"
#include "quantlab/eval/task_random.h"
#include "support/paths.h"

namespace quantlab {
namespace {

std::string Data(const std::string& name) {
  return testing::ReadTestFile(testing::TestDataPath("tasks/" + name));
}

TEST(HellaswagFile, ReadsSixLinesPerTask) {
  auto tasks = ParseHellaswag(Data("hellaswag-ok.txt"), "hs.txt");
  ASSERT_TRUE(tasks.ok()) << tasks.error().message;
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].context, "Ctx one.");
  EXPECT_EQ((*tasks)[0].gold, 2);
  EXPECT_EQ((*tasks)[1].endings[3], "H.");
  EXPECT_EQ((*tasks)[1].line, 7);
}

TEST(HellaswagFile, BadRightEndingNamesFileTaskAndLine) {
  auto tasks = ParseHellaswag(Data("hellaswag-bad-gold.txt"), "hs.txt");
  ASSERT_FALSE(tasks.ok());
  EXPECT_NE(tasks.error().message.find("hs.txt: task 2 (line 8)"), std::string::npos)
      << tasks.error().message;
}

TEST(HellaswagFile, IncompleteTaskIsNamed) {
  auto tasks = ParseHellaswag(Data("hellaswag-short.txt"), "hs.txt");
  ASSERT_FALSE(tasks.ok());
  EXPECT_NE(tasks.error().message.find("9 lines"), std::string::npos) << tasks.error().message;
  EXPECT_NE(tasks.error().message.find("task 2 (from line 7)"), std::string::npos) << tasks.error().message;
  EXPECT_FALSE(ParseHellaswag("", "empty.txt").ok());
}

TEST(WinograndeFile, SkipsHeaderUnquotesSentenceAndReadsAll) {
  auto file = ParseWinogrande(Data("winogrande-ok.csv"), "wg.csv");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->header_line, 1);
  EXPECT_EQ(file->ignored_last_line, 0);
  ASSERT_EQ(file->tasks.size(), 2u);
  EXPECT_EQ(file->tasks[0].first, "Anna, not Bob, said ");
  EXPECT_EQ(file->tasks[0].second, " was late.");
  EXPECT_EQ(file->tasks[0].choices[1], "Bob");
  EXPECT_EQ(file->tasks[0].answer, 2);
  EXPECT_EQ(file->tasks[1].first, "The cat sat on ");
  EXPECT_EQ(file->tasks[1].line, 3);
}

// llama-perplexity -f drops one trailing newline and its reader then never reads the last line.
TEST(WinograndeFile, LastLineWithoutSecondNewlineIsNotRead) {
  auto file = ParseWinogrande(Data("winogrande-last-line.csv"), "wg.csv");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->tasks.size(), 1u);
  EXPECT_EQ(file->ignored_last_line, 2);
}

TEST(WinograndeFile, MalformedLinesNameFileTaskAndLine) {
  auto no_blank = ParseWinogrande(Data("winogrande-no-blank.csv"), "wg.csv");
  ASSERT_FALSE(no_blank.ok());
  EXPECT_NE(no_blank.error().message.find("wg.csv: task 2 (line 2)"), std::string::npos)
      << no_blank.error().message;
  EXPECT_NE(no_blank.error().message.find("'_'"), std::string::npos);
  auto bad_answer = ParseWinogrande(Data("winogrande-bad-answer.csv"), "wg.csv");
  ASSERT_FALSE(bad_answer.ok());
  EXPECT_NE(bad_answer.error().message.find("task 1 (line 1): the answer '3' is not 1 or 2"),
            std::string::npos)
      << bad_answer.error().message;
  auto few_commas = ParseWinogrande("0,a _ b,x,1\n\n", "wg.csv");
  ASSERT_FALSE(few_commas.ok());
  EXPECT_NE(few_commas.error().message.find("3 separating comma(s)"), std::string::npos);
}

TEST(MultipleChoiceFile, ReadsSequentiallyAndAtOffsets) {
  const std::string bytes = Data("mc-ok.bin");
  auto header = ParseMultipleChoiceHeader(bytes, "mc.bin");
  ASSERT_TRUE(header.ok()) << header.error().message;
  ASSERT_EQ(header->n_tasks, 2u);
  auto all = ParseMultipleChoiceTasks(bytes, "mc.bin", *header, {0, 1}, false);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ((*all)[0].question, "Q one?");
  EXPECT_EQ((*all)[0].labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ((*all)[1].answers, (std::vector<std::string>{"a", "b", "c"}));
  auto second = ParseMultipleChoiceTasks(bytes, "mc.bin", *header, {1}, true);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)[0].question, "Q two?");
  EXPECT_EQ((*second)[0].offset, header->offsets[1]);
}

TEST(MultipleChoiceFile, MalformedFilesNameTaskAndOffset) {
  const std::string truncated = Data("mc-truncated.bin");
  auto header = ParseMultipleChoiceHeader(truncated, "mc.bin");
  ASSERT_TRUE(header.ok());
  auto tasks = ParseMultipleChoiceTasks(truncated, "mc.bin", *header, {0, 1}, false);
  ASSERT_FALSE(tasks.ok());
  EXPECT_NE(tasks.error().message.find("mc.bin: task 2 (byte"), std::string::npos) << tasks.error().message;
  EXPECT_NE(tasks.error().message.find("truncated"), std::string::npos) << tasks.error().message;

  const std::string many = Data("mc-too-many-answers.bin");
  auto many_header = ParseMultipleChoiceHeader(many, "mc.bin");
  ASSERT_TRUE(many_header.ok());
  auto many_tasks = ParseMultipleChoiceTasks(many, "mc.bin", *many_header, {0}, false);
  ASSERT_FALSE(many_tasks.ok());
  EXPECT_NE(many_tasks.error().message.find("task 1 (byte 8)"), std::string::npos)
      << many_tasks.error().message;
  EXPECT_NE(many_tasks.error().message.find("101 answers, more than 100"), std::string::npos);

  EXPECT_FALSE(ParseMultipleChoiceHeader(std::string(4, '\0'), "mc.bin").ok());          // no task
  EXPECT_FALSE(ParseMultipleChoiceHeader(std::string("\x05\0\0\0", 4), "mc.bin").ok());  // no offsets table
}

#ifdef __GLIBCXX__
// The explicit algorithm must draw what GCC's std::uniform_int_distribution draws (the reference's).
TEST(TaskRandom, UniformBelowMatchesLibstdcxx) {
  TaskRandom ours;
  std::mt19937 rng(1);
  for (size_t n : {1u, 2u, 3u, 7u, 100u, 147u, 10042u, 1000000u}) {
    for (int i = 0; i < 200; ++i) {
      std::uniform_int_distribution<size_t> dist(0, n - 1);
      ASSERT_EQ(ours.UniformBelow(n), dist(rng)) << "n " << n << " draw " << i;
    }
  }
}
#endif

TEST(TaskRandom, SelectionsArePermutationsOrAllInOrder) {
  auto hs = HellaswagSelection(147, 400);
  ASSERT_EQ(hs.size(), 147u);
  std::vector<size_t> sorted = hs;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(hs[0], 0u);  // drawn, not in file order
  EXPECT_EQ(HellaswagSelection(147, 10).size(), 10u);
  // The first 10 of a 10-task draw are the first 10 of the full draw (same generator, same sequence).
  EXPECT_TRUE(std::equal(hs.begin(), hs.begin() + 10, HellaswagSelection(147, 10).begin()));

  auto all = ScaledSelection(5, 0);
  EXPECT_EQ(all, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ScaledSelection(5, 9), all);
  auto some = ScaledSelection(100, 20);
  ASSERT_EQ(some.size(), 20u);
  std::sort(some.begin(), some.end());
  EXPECT_EQ(std::unique(some.begin(), some.end()), some.end());
  EXPECT_LT(some.back(), 100u);
}

}  // namespace
}  // namespace quantlab
