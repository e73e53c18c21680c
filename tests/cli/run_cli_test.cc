// `quantlab run / report / score` end to end on a tiny synthetic model, including real kills (SIGKILL at
// several moments) followed by a rerun that completes the lab without measuring finished rows again.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "quantlab/lab/lab.h"
#include "quantlab/lab/store.h"
#include "quantlab/synth/synth_model.h"
#include "report/report_checks.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {
namespace fs = std::filesystem;

using Outcome = testing::CommandOutcome;
Outcome Quantlab(const std::string& args) { return testing::RunQuantlab(args); }

// Rows in the lab's database as another process sees them (0 before the lab has made it).
int64_t StoredRows(const fs::path& db) {
  if (!fs::exists(db)) return 0;
  sqlite3* handle = nullptr;
  int64_t rows = 0;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(handle, 1000);
    sqlite3_stmt* count = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT COUNT(*) FROM measurements", -1, &count, nullptr) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW) {
      rows = sqlite3_column_int64(count, 0);
    }
    sqlite3_finalize(count);
  }
  sqlite3_close(handle);
  return rows;
}

// Starts `quantlab run ...`, waits until its database holds at least `min_rows` rows and SIGKILLs it
// then. Returns true only when the kill landed on a running lab (false: it had exited, or never got
// that far within a minute).
bool RunAndKillAfterRows(const std::string& args, const fs::path& db, int64_t min_rows) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command = testing::QuantlabBinary().string() + " " + args + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool running = true;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) != 0) {
      running = false;  // exited (and reaped) before the kill
      break;
    }
    if (StoredRows(db) >= min_rows) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!running) return false;
  const bool reached = StoredRows(db) >= min_rows;
  running = waitpid(pid, nullptr, WNOHANG) == 0;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return running && reached;
}

std::map<std::string, double> RowTimes(const fs::path& out) {
  std::map<std::string, double> times;
  auto store = lab::ResultsStore::Open((out / "results.sqlite").string());
  if (!store.ok()) return times;
  auto rows = (*store)->ListRows();
  if (!rows.ok()) return times;
  for (const auto& r : *rows)
    times[r.kind + "/" + r.format + "/" + r.dataset_hash + "/" + std::to_string(r.item)] = r.created_at;
  return times;
}

class RunCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_ctx_train = 256;
    ASSERT_TRUE(WriteSynthModel(spec, (dir_ / "tiny.gguf").string()).ok());
    std::string text;
    for (int i = 0; i < 120; ++i) text += "the small cat sat on a warm mat and looked at the rain. ";
    std::ofstream(dir_ / "prose.txt") << text;
  }
  std::string Args(const std::string& out, const std::string& formats = "F16,Q8_0,Q4_K_M") const {
    return (dir_ / "tiny.gguf").string() + " --formats " + formats +
           " --data prose=" + (dir_ / "prose.txt").string() +
           " -c 64 --chunks 3 -t 2 --n-predict 8 --bench-reps 1 --no-progress --out " + (dir_ / out).string();
  }
  testing::TempDir dir_;
};

TEST_F(RunCliTest, KilledRunsResumeAndReportAndScoreReadTheDatabase) {
  // quantize 3, ppl 3 chunks x 3, kld 3 x 2, samples 5 default prompts x 3, speed 3, ram 3.
  constexpr size_t kAllRows = 39;
  const fs::path db = dir_ / "lab" / "results.sqlite";
  // Kill each run once it has stored this many rows: during the quantization, the chunks, the samples
  // and the speed step (rows are written in that order). Each run continues the previous one's database.
  std::map<std::string, double> before;
  for (int64_t min_rows : {2, 9, 20, 34}) {
    ASSERT_TRUE(RunAndKillAfterRows("run " + Args("lab"), db, min_rows))
        << "the lab was not killed while running (after " << min_rows << " rows)";
    const auto now = RowTimes(dir_ / "lab");
    // The run measured something new (it resumed) and was cut before the end.
    EXPECT_GE(now.size(), static_cast<size_t>(min_rows));
    EXPECT_GT(now.size(), before.size());
    EXPECT_LT(now.size(), kAllRows) << "the kill after " << min_rows << " rows came after the last row";
    for (const auto& [key, t] : before) {
      ASSERT_TRUE(now.count(key)) << key;
      EXPECT_EQ(now.at(key), t) << key << " measured again after a kill after " << min_rows << " rows";
    }
    before = now;
  }
  const Outcome done = Quantlab("run " + Args("lab"));
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("Recommendation:"), std::string::npos);
  // Only what was missing was measured; everything else was reused.
  EXPECT_NE(
      done.output.find(std::to_string(before.size()) + " reused; " + std::to_string(kAllRows) + " in all"),
      std::string::npos)
      << done.output;
  const auto rows = RowTimes(dir_ / "lab");
  EXPECT_EQ(rows.size(), kAllRows);
  for (const auto& [key, t] : before) EXPECT_EQ(rows.at(key), t) << key;

  // Same perplexity table as an uninterrupted lab.
  const Outcome clean = Quantlab("run " + Args("clean"));
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_EQ(testing::ReadAll(dir_ / "lab" / "tables" / "perplexity.csv"),
            testing::ReadAll(dir_ / "clean" / "tables" / "perplexity.csv"));
  EXPECT_EQ(testing::ReadAll(dir_ / "lab" / "tables" / "kld.csv"),
            testing::ReadAll(dir_ / "clean" / "tables" / "kld.csv"));

  // report and score measure nothing.
  fs::remove(dir_ / "lab" / "report.html");
  const Outcome report = Quantlab("report " + (dir_ / "lab").string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_EQ(testing::HtmlBalanceError(testing::ReadAll(dir_ / "lab" / "report.html")), "");
  const Outcome score = Quantlab("score " + (dir_ / "lab").string() + " --weights size=1,quality=0,speed=0");
  ASSERT_EQ(score.exit_code, 0) << score.output;
  EXPECT_NE(score.output.find("Winner: Q4_K_M"), std::string::npos) << score.output;
  EXPECT_EQ(RowTimes(dir_ / "lab"), rows);
}

// Task accuracy: rows of kind "task" resume like the others. The lab is first run without task files;
// then each run with them stops after two units of work (the test hook, as a kill would: here two tasks
// scored) and the next continues its database, until the lab completes; no row is measured twice, and the
// task table equals an uninterrupted lab's.
TEST_F(RunCliTest, TaskRowsResumeWithoutRescoringFinishedTasks) {
  const std::string tasks =
      " --skip-speed --tasks hellaswag=" + testing::TestDataPath("tasks/hellaswag-ok.txt").string() +
      ",winogrande=" + testing::TestDataPath("tasks/winogrande-ok.csv").string() +
      ",mc=" + testing::TestDataPath("tasks/mc-ok.bin").string();
  constexpr size_t kTaskRows = 3 * (2 + 2 + 2);  // formats x (2 tasks in each file)
  const auto task_rows = [](const std::map<std::string, double>& rows) {
    size_t n = 0;
    for (const auto& [key, t] : rows) n += key.rfind("task/", 0) == 0 ? 1 : 0;
    return n;
  };
  const Outcome first = Quantlab("run " + Args("lab") + " --skip-speed");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::map<std::string, double> before = RowTimes(dir_ / "lab");
  bool stopped_among_tasks = false;
  int runs = 0;
  for (;; ++runs) {
    ASSERT_LT(runs, 20) << "the lab did not complete";
    const Outcome r = Quantlab("run " + Args("lab") + tasks + " --stop-after 2");
    const auto now = RowTimes(dir_ / "lab");
    for (const auto& [key, t] : before) {
      ASSERT_TRUE(now.count(key)) << key;
      EXPECT_EQ(now.at(key), t) << key << " measured again in run " << runs;
    }
    const size_t n = task_rows(now);
    stopped_among_tasks |= r.exit_code != 0 && n > 0 && n < kTaskRows;
    before = now;
    if (r.exit_code == 0) {
      EXPECT_NE(r.output.find("Task accuracy"), std::string::npos) << r.output;
      break;
    }
    ASSERT_NE(r.output.find("stopped after 2 units of work"), std::string::npos) << r.output;
    EXPECT_EQ(n, 2u * (runs + 1)) << "run " << runs << " scored other than two new tasks";
  }
  EXPECT_TRUE(stopped_among_tasks) << "no run stopped half way through the tasks";
  EXPECT_EQ(task_rows(before), kTaskRows);
  EXPECT_EQ(runs, static_cast<int>(kTaskRows / 2) - 1);  // the last run scores the last two and completes
  const Outcome clean = Quantlab("run " + Args("clean") + tasks);
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  const std::string table = testing::ReadAll(dir_ / "lab" / "tables" / "tasks.csv");
  EXPECT_NE(table.find("winogrande"), std::string::npos) << table;
  EXPECT_EQ(table, testing::ReadAll(dir_ / "clean" / "tables" / "tasks.csv"));
  EXPECT_NE(testing::ReadAll(dir_ / "lab" / "report.md").find("Task accuracy and flips vs the base"),
            std::string::npos);
  // A rerun measures nothing.
  const Outcome again = Quantlab("run " + Args("lab") + tasks);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(RowTimes(dir_ / "lab"), before);
}

// Task files are checked before any work: a malformed one stops the run before the lab folder is made,
// with an error naming the file and the task; a malformed --tasks is a usage error.
TEST_F(RunCliTest, BadTaskFilesStopTheRunBeforeAnyWork) {
  const fs::path bad = testing::TestDataPath("tasks/hellaswag-bad-gold.txt");
  const Outcome r = Quantlab("run " + Args("badtasks") + " --tasks hellaswag=" + bad.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("task 2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "badtasks"));
  const Outcome missing = Quantlab("run " + Args("badtasks") + " --tasks mc=" + (dir_ / "none.bin").string());
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("none.bin"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir_ / "badtasks"));
  // A task longer than the lab's context (-c 64) is found before any work too, by its number.
  std::string long_context;
  for (int i = 0; i < 100; ++i) long_context += "the small cat sat ";
  std::ofstream(dir_ / "long.txt") << "Short one.\n1\nA.\nB.\nC.\nD.\n"
                                   << long_context << "\n0\nE.\nF.\nG.\nH.\n";
  const Outcome too_long =
      Quantlab("run " + Args("badtasks") + " --tasks hellaswag=" + (dir_ / "long.txt").string());
  EXPECT_EQ(too_long.exit_code, 1) << too_long.output;
  EXPECT_NE(too_long.output.find("long.txt"), std::string::npos) << too_long.output;
  EXPECT_NE(too_long.output.find("HellaSwag task 2 (line 7)"), std::string::npos) << too_long.output;
  EXPECT_FALSE(fs::exists(dir_ / "badtasks"));
  const Outcome kind = Quantlab("run " + Args("badtasks") + " --tasks arc=x.txt");
  EXPECT_EQ(kind.exit_code, 2) << kind.output;
  EXPECT_NE(kind.output.find("unknown task kind 'arc'"), std::string::npos) << kind.output;
  const Outcome form = Quantlab("run " + Args("badtasks") + " --tasks hellaswag");
  EXPECT_EQ(form.exit_code, 2) << form.output;
  EXPECT_NE(form.output.find("expected KIND=FILE"), std::string::npos) << form.output;
}

TEST_F(RunCliTest, DamagedDatabaseAndBadArguments) {
  fs::create_directories(dir_ / "bad");
  std::ofstream(dir_ / "bad" / "results.sqlite") << "SQLite format 3" << std::string(5000, '#');
  const Outcome r = Quantlab("run " + Args("bad"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("damaged"), std::string::npos) << r.output;
  EXPECT_NE(Quantlab("run " + Args("x") + " --weights size=abc").exit_code, 0);
  EXPECT_NE(Quantlab("run " + Args("x") + " --ram-budget 8Q").exit_code, 0);
  const Outcome unknown = Quantlab("run " + Args("y", "F16,Q9_Z"));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("unknown format 'Q9_Z'"), std::string::npos) << unknown.output;
  const Outcome missing = Quantlab("report " + (dir_ / "nothing").string());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("no results database"), std::string::npos) << missing.output;
}

// --reference Q8_0: the lab's KLD of Q4_K_M is `quantlab perplexity --kl-base Q8_0.gguf` on the same
// chunks, and the base is not evaluated. A reference that is not one of the formats is a usage error
// before any work.
TEST_F(RunCliTest, ReferenceFormatIsWhatPerplexityKlBaseMeasures) {
  const Outcome lab = Quantlab("run " + Args("ref") + " --reference Q8_0 --skip-speed");
  ASSERT_EQ(lab.exit_code, 0) << lab.output;
  auto store = lab::ResultsStore::Open((dir_ / "ref" / "results.sqlite").string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto results = lab::LoadLabResults(**store);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->formats.size(), 2u);
  EXPECT_TRUE(results->Format("Q8_0")->is_base);
  EXPECT_EQ(results->Format("F16"), nullptr);
  ASSERT_EQ(results->kld.size(), 1u);
  EXPECT_EQ(results->kld[0].format, "Q4_K_M");

  const fs::path models = dir_ / "ref" / "models";
  const Outcome direct = Quantlab("perplexity -m " + (models / "tiny-Q4_K_M.gguf").string() + " -f " +
                                  (dir_ / "prose.txt").string() + " -c 64 --chunks 3 -t 2 --json --kl-base " +
                                  (models / "tiny-Q8_0.gguf").string());
  ASSERT_EQ(direct.exit_code, 0) << direct.output;
  const auto j = nlohmann::json::parse(direct.output.substr(direct.output.find('{')));
  EXPECT_EQ(results->kld[0].tokens, j.at("count").get<int64_t>());
  EXPECT_DOUBLE_EQ(results->kld[0].mean_kld, j.at("kld").at("value").get<double>());
  EXPECT_DOUBLE_EQ(results->kld[0].same_top_fraction, j.at("same_top").at("value").get<double>());

  for (const char* bad : {"Q5_K_M", "Q9_Z"}) {
    const Outcome r = Quantlab("run " + Args("bad-ref") + " --reference " + bad);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("--reference"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir_ / "bad-ref")) << bad;
  }
}

}  // namespace
}  // namespace quantlab
