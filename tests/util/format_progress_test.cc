#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "quantlab/util/format.h"
#include "quantlab/util/progress.h"

namespace quantlab {
namespace {

TEST(FormatTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(12897485), "12.3 MiB");
  EXPECT_EQ(HumanBytes(uint64_t{3} << 30), "3.0 GiB");
}

TEST(FormatTest, HumanCountAndDuration) {
  EXPECT_EQ(HumanCount(999), "999");
  EXPECT_EQ(HumanCount(12345), "12.3 K");
  EXPECT_EQ(HumanCount(7.2e9), "7.2 B");
  EXPECT_EQ(HumanDuration(0.42), "0.4s");
  EXPECT_EQ(HumanDuration(59), "59s");
  EXPECT_EQ(HumanDuration(185), "3m05s");
  EXPECT_EQ(HumanDuration(7260), "2h01m");
}

std::string ReadBack(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  return text;
}

TEST(ProgressBarTest, LogModePrintsSparseLinesAndFinal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("quantize", 1000, "tensors", f);
    bar.SetInteractive(false);
    for (int i = 0; i < 1000; ++i) bar.Add();
    EXPECT_NE(bar.StatusLine().find("1000/1000 tensors"), std::string::npos);
  }
  const std::string text = ReadBack(f);
  std::fclose(f);
  // One line when it started, one at the end: not a thousand.
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_LE(lines, 3u) << text;
  EXPECT_NE(text.find("quantize  1/1000 tensors"), std::string::npos) << text;
  EXPECT_NE(text.find("quantize  1000/1000 tensors (100%)"), std::string::npos) << text;
  EXPECT_NE(text.find("done in"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressBarTest, TerminalModeRedrawsInPlace) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("eval", 10, "chunks", f);
    bar.SetInteractive(true);
    bar.Update(5);
    EXPECT_NE(bar.StatusLine().find("5/10 chunks (50%)"), std::string::npos);
    bar.Update(10);
    bar.Finish();
  }
  const std::string text = ReadBack(f);
  std::fclose(f);
  EXPECT_NE(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("10/10 chunks"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(ProgressBarTest, ResumedWorkCountsButDoesNotInflateTheRate) {
  ProgressBar bar("eval", 100, "chunks", nullptr);
  bar.SetAlreadyDone(90);
  // Nothing done in this run yet: no rate, no ETA.
  EXPECT_NE(bar.StatusLine().find("eval  90/100 chunks (90%)"), std::string::npos) << bar.StatusLine();
  EXPECT_EQ(bar.StatusLine().find("/s"), std::string::npos) << bar.StatusLine();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  bar.Add();
  // One chunk in >= 50 ms is at most 20 chunks/s; counting the 90 resumed ones would give >= 91/s.
  const std::string line = bar.StatusLine();
  const size_t unit = line.find(" chunks/s");
  ASSERT_NE(unit, std::string::npos) << line;
  const size_t start = line.rfind(' ', unit - 1) + 1;
  EXPECT_LE(std::stod(line.substr(start, unit - start)), 20.0) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
}

TEST(ProgressBarTest, ConcurrentAddsAreCounted) {
  ProgressBar bar("threads", 0, "items", nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) bar.Add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_NE(bar.StatusLine().find("threads  40000 items"), std::string::npos) << bar.StatusLine();
}

}  // namespace
}  // namespace quantlab
