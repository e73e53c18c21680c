#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "quantlab/lab/config.h"
#include "quantlab/lab/store.h"
#include "report/report_checks.h"
#include "support/paths.h"

namespace quantlab::lab {
namespace {

MeasurementKey Key(const std::string& kind) {
  return {"hash", "Q4_K_M", "data", "{\"n_ctx\":64}", "0.1.0", kind};
}

TEST(StoreTest, RowsRoundTripAndTransactionsAreAllOrNothing) {
  testing::TempDir dir;
  auto store = ResultsStore::Open((dir / "r.sqlite").string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->Put(Key("ppl_chunk"), 0, {{"sum", 1.5}}, std::string("\x01\x02", 2)).ok());
  auto got = (*store)->Get(Key("ppl_chunk"), 0);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((**got).value["sum"], 1.5);
  EXPECT_EQ((**got).blob, std::string("\x01\x02", 2));
  EXPECT_FALSE((*(*store)->Get(Key("ppl_chunk"), 1)).has_value());
  EXPECT_FALSE((*(*store)->Get(Key("kld_chunk"), 0)).has_value());
  {
    auto tx = Transaction::Start(**store);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*store)->Put(Key("ppl_chunk"), 1, {{"sum", 2}}).ok());
    ASSERT_TRUE((*store)->Put(Key("kld_chunk"), 1, {{"sum", 3}}).ok());
    // Destroyed without Commit: rolled back, as a kill before the commit would.
  }
  EXPECT_EQ(*(*store)->Count(), 1);
  {
    auto tx = Transaction::Start(**store);
    ASSERT_TRUE((*store)->Put(Key("ppl_chunk"), 1, {{"sum", 2}}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(*(*store)->Count(), 2);
  EXPECT_EQ(*(*store)->Count("ppl_chunk"), 2);
  EXPECT_EQ((*(*store)->GetAll(Key("ppl_chunk"))).size(), 2u);
  ASSERT_TRUE((*store)->SetMeta("lab", "{}").ok());
  EXPECT_EQ(**(*store)->GetMeta("lab"), "{}");
  // Invalid UTF-8 from a model's byte tokens is stored, not rejected.
  EXPECT_TRUE((*store)->Put(Key("sample"), 0, {{"text", std::string("a\xff")}}).ok());
}

TEST(StoreTest, DamagedDatabaseIsReportedNotRebuilt) {
  testing::TempDir dir;
  const auto path = (dir / "r.sqlite").string();
  {
    auto store = ResultsStore::Open(path);
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 400; ++i)
      ASSERT_TRUE((*store)->Put(Key("ppl_chunk"), i, {{"sum", i}, {"pad", std::string(200, 'x')}}).ok());
  }
  // Fold the WAL into the file, then overwrite pages in the middle with garbage.
  { auto store = ResultsStore::Open(path); }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 8192u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const std::string before = testing::ReadAll(path);
  auto store = ResultsStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("damaged"), std::string::npos) << store.error().message;
  EXPECT_EQ(testing::ReadAll(path), before);  // untouched

  const auto text = (dir / "not-a-db.sqlite").string();
  std::ofstream(text) << std::string(5000, 'q');
  auto other = ResultsStore::Open(text);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("damaged"), std::string::npos) << other.error().message;
}

TEST(ConfigTest, SizesAndWeights) {
  EXPECT_EQ(*ParseByteSize("8G"), 8ull << 30);
  EXPECT_EQ(*ParseByteSize("512M"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("1.5GiB"), 3ull << 29);
  EXPECT_EQ(*ParseByteSize("1000"), 1000u);
  EXPECT_FALSE(ParseByteSize("8X").ok());
  EXPECT_FALSE(ParseByteSize("lots").ok());
  auto w = ParseWeights("size=0.2,quality=0.3,speed=0.5");
  ASSERT_TRUE(w.ok());
  EXPECT_DOUBLE_EQ(w->speed, 0.5);
  EXPECT_DOUBLE_EQ(ParseWeights("speed=1")->quality, 0.4);  // others keep their defaults
  EXPECT_FALSE(ParseWeights("colour=1").ok());
  EXPECT_FALSE(ParseWeights("size=0,quality=0,speed=0").ok());
  EXPECT_EQ(ParseDataSet("code=src/x.txt").name, "code");
  EXPECT_EQ(ParseDataSet("/data/wiki.test.raw").name, "wiki.test");
}

TEST(ConfigTest, TomlLabFile) {
  testing::TempDir dir;
  std::ofstream(dir / "lab.toml")
      << "base = \"m.gguf\"\nformats = [\"Q8_0\", \"Q4_K_M\"]\n"
         "data = { prose = \"p.txt\", code = \"/abs/c.txt\" }\n"
         "ram_budget = \"4G\"\nweights = { size = 0.2, quality = 0.3, speed = 0.5 }\n"
         "context = 256\nchunks = 10\nthreads = 3\nprompts = [\"Hi\"]\nseed = 7\n"
         "mem_limit = \"3G\"\nfull = true\nreference = \"Q8_0\"\n";
  LabConfig c;
  auto s = ApplyLabToml((dir / "lab.toml").string(), c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(c.base_model, (dir / "m.gguf").string());  // relative to the lab file
  EXPECT_EQ(c.formats, (std::vector<std::string>{"Q8_0", "Q4_K_M"}));
  ASSERT_EQ(c.data.size(), 2u);
  EXPECT_EQ(c.ram_budget_bytes, 4ull << 30);
  EXPECT_DOUBLE_EQ(c.weights.speed, 0.5);
  EXPECT_EQ(c.n_ctx, 256);
  EXPECT_EQ(c.chunks, 10);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.prompts, std::vector<std::string>{"Hi"});
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.mem_limit_bytes, 3ull << 30);
  EXPECT_TRUE(c.full);
  EXPECT_EQ(c.reference, "Q8_0");

  std::ofstream(dir / "bad.toml") << "context = 256\nflavour = \"x\"\n";
  auto bad = ApplyLabToml((dir / "bad.toml").string(), c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(":2: unknown setting 'flavour'"), std::string::npos)
      << bad.error().message;
  std::ofstream(dir / "limit.toml") << "mem_limit = -3\n";
  auto negative = ApplyLabToml((dir / "limit.toml").string(), c);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find(":1: mem_limit must be a size"), std::string::npos)
      << negative.error().message;
  std::ofstream(dir / "type.toml") << "\n\ncontext = \"big\"\n";
  auto wrong = ApplyLabToml((dir / "type.toml").string(), c);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find(":3: 'context' has the wrong type"), std::string::npos)
      << wrong.error().message;
}

TEST(ConfigTest, TaskSetsFromTheCommandLineAndTheLabFile) {
  auto sets = ParseTaskSets("hellaswag=h.txt,winogrande=/abs/w.csv,mc=m.bin");
  ASSERT_TRUE(sets.ok()) << sets.error().message;
  ASSERT_EQ(sets->size(), 3u);
  EXPECT_EQ((*sets)[0].kind, TaskKind::kHellaswag);
  EXPECT_EQ((*sets)[1].path, "/abs/w.csv");
  EXPECT_EQ((*sets)[2].kind, TaskKind::kMultipleChoice);
  EXPECT_EQ((*ParseTaskSets("multiple-choice=m.bin"))[0].kind, TaskKind::kMultipleChoice);
  // Malformed: each error names what is wrong.
  const auto error_of = [](const std::string& text) {
    auto r = ParseTaskSets(text);
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  EXPECT_NE(error_of("hellaswag").find("expected KIND=FILE"), std::string::npos) << error_of("hellaswag");
  EXPECT_NE(error_of("hellaswag=").find("expected KIND=FILE"), std::string::npos);
  EXPECT_NE(error_of("arc=a.txt").find("unknown task kind 'arc'"), std::string::npos)
      << error_of("arc=a.txt");
  EXPECT_NE(error_of("mc=a.bin,mc=b.bin").find("multiple-choice is given twice"), std::string::npos);
  EXPECT_NE(error_of("").find("no task file"), std::string::npos);

  testing::TempDir dir;
  std::ofstream(dir / "lab.toml")
      << "tasks = { hellaswag = \"h.txt\", mc = \"/abs/m.bin\" }\ntasks_max = 20\n";
  LabConfig c;
  auto s = ApplyLabToml((dir / "lab.toml").string(), c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(c.tasks.size(), 2u);
  EXPECT_EQ(c.tasks[0].path, (dir / "h.txt").string());  // relative to the lab file
  EXPECT_EQ(c.tasks[1].kind, TaskKind::kMultipleChoice);
  EXPECT_EQ(c.tasks_max, std::optional<size_t>(20));
  std::ofstream(dir / "kind.toml") << "\ntasks = { arc = \"a.txt\" }\n";
  auto kind = ApplyLabToml((dir / "kind.toml").string(), c);
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().message.find(":2: unknown task kind 'arc'"), std::string::npos)
      << kind.error().message;
  std::ofstream(dir / "list.toml") << "tasks = [\"h.txt\"]\n";
  auto list = ApplyLabToml((dir / "list.toml").string(), c);
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find(":1: tasks must be a table"), std::string::npos)
      << list.error().message;
  std::ofstream(dir / "max.toml") << "tasks_max = -1\n";
  EXPECT_FALSE(ApplyLabToml((dir / "max.toml").string(), c).ok());
}

// The demo lab scores its own task files, 100 tasks of each unless told otherwise; --tasks none or a base
// model of one's own leaves them out.
TEST(ConfigTest, TheDemoUsesItsTaskFiles) {
  LabConfig demo;
  ASSERT_TRUE(ApplyDemoDefaults(demo).ok());
  ASSERT_EQ(demo.tasks.size(), 3u);
  EXPECT_EQ(demo.tasks[0].kind, TaskKind::kHellaswag);
  EXPECT_TRUE(std::filesystem::exists(demo.tasks[2].path)) << demo.tasks[2].path;
  EXPECT_EQ(demo.tasks_max, std::optional<size_t>(kDemoTasksMax));
  LabConfig all;
  all.tasks_max = 0;  // --tasks-max 0: every task
  ASSERT_TRUE(ApplyDemoDefaults(all).ok());
  EXPECT_EQ(all.tasks_max, std::optional<size_t>(0));
  LabConfig none;
  none.no_tasks = true;
  ASSERT_TRUE(ApplyDemoDefaults(none).ok());
  EXPECT_TRUE(none.tasks.empty());
  LabConfig own;
  own.base_model = "mine.gguf";
  ASSERT_TRUE(ApplyDemoDefaults(own).ok());
  EXPECT_TRUE(own.tasks.empty());
}

}  // namespace
}  // namespace quantlab::lab
