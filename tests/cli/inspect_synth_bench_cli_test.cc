// `quantlab synth`, `inspect` and `bench` end to end, as a user runs them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::RunQuantlab;
using testing::TempDir;

// The JSON document that starts at the first '[' or '{' of `output` (progress lines may precede it).
nlohmann::json ParseJsonTail(const std::string& output) {
  const auto start = output.find_first_of("[{");
  EXPECT_NE(start, std::string::npos) << output;
  return nlohmann::json::parse(output.substr(start == std::string::npos ? 0 : start));
}

TEST(SynthInspectCli, InspectReportsWhatSynthWrote) {
  TempDir dir;
  const auto model = (dir / "m.gguf").string();
  auto synth =
      RunQuantlab("synth " + model + " --layers 3 --embd 256 --heads 8 --heads-kv 2 --ff 512 --vocab 600");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;

  auto inspect = RunQuantlab("inspect " + model + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const auto json = ParseJsonTail(inspect.output);
  EXPECT_EQ(json["architecture"], "llama");
  EXPECT_EQ(json["file_type_name"], "F16");
  EXPECT_EQ(json["hyperparameters"]["block_count"], "3");
  EXPECT_EQ(json["hyperparameters"]["attention.head_count_kv"], "2");
  // 3 blocks x 9 tensors + token_embd + output_norm + output.
  EXPECT_EQ(json["tensors"].size(), 30u);
  EXPECT_EQ(json["file_size"].get<uint64_t>(), std::filesystem::file_size(model));
}

TEST(SynthInspectCli, Phi3ModelRunsEndToEnd) {
  TempDir dir;
  const auto model = (dir / "phi3.gguf").string();
  auto synth = RunQuantlab("synth " + model +
                           " --arch phi3 --layers 2 --embd 256 --heads 4 --heads-kv 2 --ff 512 --vocab 300"
                           " --sliding-window 2047");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  EXPECT_NE(synth.output.find("phi3, 2 layers"), std::string::npos) << synth.output;
  auto inspect = RunQuantlab("inspect " + model + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const auto json = ParseJsonTail(inspect.output);
  EXPECT_EQ(json["architecture"], "phi3");
  // 2 blocks x 6 tensors (attn_qkv and ffn_up fused) + token_embd + output_norm + output.
  EXPECT_EQ(json["tensors"].size(), 15u);
  auto generate = RunQuantlab("generate -m " + model + " -p hello -n 4 --temp 0 -t 1");
  EXPECT_EQ(generate.exit_code, 0) << generate.output;

  auto wrong = RunQuantlab("synth " + model + " --arch gemma9");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("supported: llama, llama3, qwen3, phi3, gemma2, gemma3"), std::string::npos)
      << wrong.output;
}

TEST(SynthInspectCli, Gemma2ModelRunsEndToEnd) {
  TempDir dir;
  const auto model = (dir / "gemma2.gguf").string();
  auto synth = RunQuantlab("synth " + model +
                           " --arch gemma2 --layers 2 --embd 256 --heads 4 --heads-kv 2 --ff 512 --vocab 300"
                           " --sliding-window 16");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  EXPECT_NE(synth.output.find("gemma2, 2 layers"), std::string::npos) << synth.output;
  EXPECT_NE(synth.output.find("tied embeddings"), std::string::npos) << synth.output;
  auto inspect = RunQuantlab("inspect " + model + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const auto json = ParseJsonTail(inspect.output);
  EXPECT_EQ(json["architecture"], "gemma2");
  // 2 blocks x 11 tensors (with the two post norms) + token_embd + output_norm; no output.weight.
  EXPECT_EQ(json["tensors"].size(), 24u);
  auto generate = RunQuantlab("generate -m " + model + " -p hello -n 4 --temp 0 -t 1");
  EXPECT_EQ(generate.exit_code, 0) << generate.output;
}

TEST(SynthInspectCli, InspectOfATruncatedFileSaysWhereItEnds) {
  TempDir dir;
  const auto model = (dir / "m.gguf").string();
  ASSERT_EQ(RunQuantlab("synth " + model + " --layers 1 --vocab 300").exit_code, 0);
  std::filesystem::resize_file(model, 100);
  auto inspect = RunQuantlab("inspect " + model);
  EXPECT_NE(inspect.exit_code, 0);
  EXPECT_NE(inspect.output.find("m.gguf"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("byte"), std::string::npos) << inspect.output;
}

TEST(BenchCli, JsonRowsUseLlamaBenchFieldNames) {
  TempDir dir;
  const auto model = (dir / "m.gguf").string();
  ASSERT_EQ(RunQuantlab("synth " + model + " --layers 1 --vocab 300").exit_code, 0);
  auto bench = RunQuantlab("bench -m " + model + " -p 8 -n 4 -r 2 -t 1 -o json");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  const auto rows = ParseJsonTail(bench.output);
  ASSERT_EQ(rows.size(), 2u);  // a pp row and a tg row, as llama-bench prints them
  EXPECT_EQ(rows[0]["n_prompt"], 8);
  EXPECT_EQ(rows[0]["n_gen"], 0);
  EXPECT_EQ(rows[1]["n_prompt"], 0);
  EXPECT_EQ(rows[1]["n_gen"], 4);
  for (const auto& row : rows) {
    EXPECT_EQ(row["model_filename"], model);
    EXPECT_EQ(row["n_threads"], 1);
    EXPECT_GT(row["avg_ts"].get<double>(), 0);
    EXPECT_EQ(row["samples_ts"].size(), 2u);
    EXPECT_GT(row["peak_rss_bytes"].get<uint64_t>(), 0u);
  }
}

// --roofline: the pp row carries the matmul rate, its peak kind, the measured peak and the fraction; the
// tg row the bandwidth fraction; csv has the same columns and markdown prints the peaks.
TEST(BenchCli, RooflineFieldsInEveryOutputFormat) {
  TempDir dir;
  const auto model = (dir / "m.gguf").string();
  ASSERT_EQ(RunQuantlab("synth " + model + " --layers 1 --vocab 300").exit_code, 0);
  auto json = RunQuantlab("bench -m " + model + " -p 8 -n 4 -r 1 -t 1 -o json --roofline");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto rows = ParseJsonTail(json.output);
  ASSERT_EQ(rows.size(), 2u);
  const auto& pp = rows[0];
  EXPECT_GT(pp["matmul_params"].get<uint64_t>(), 0u);
  EXPECT_GT(pp["matmul_ops_per_s"].get<double>(), 0);
  EXPECT_EQ(pp["compute_kind"], "f32_fma");
  if (pp.contains("compute_peak_ops_per_s")) {  // absent on a CPU without SIMD kernels
    EXPECT_GT(pp["compute_peak_ops_per_s"].get<double>(), 0);
    EXPECT_NEAR(pp["compute_fraction"].get<double>(),
                pp["matmul_ops_per_s"].get<double>() / pp["compute_peak_ops_per_s"].get<double>(), 1e-9);
  }
  EXPECT_TRUE(rows[1].contains("bandwidth_fraction")) << rows[1].dump();
  EXPECT_FALSE(rows[1].contains("compute_fraction"));

  auto csv = RunQuantlab("bench -m " + model + " -p 8 -n 0 -r 1 -t 1 -o csv --roofline");
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  EXPECT_NE(csv.output.find("bandwidth_fraction,matmul_ops_per_s,compute_kind,compute_fraction"),
            std::string::npos)
      << csv.output;
  EXPECT_NE(csv.output.find(",f32_fma,"), std::string::npos) << csv.output;

  auto md = RunQuantlab("bench -m " + model + " -p 8 -n 0 -r 1 -t 1 --roofline");
  ASSERT_EQ(md.exit_code, 0) << md.output;
  EXPECT_NE(md.output.find("matmul GOP/s"), std::string::npos) << md.output;
  EXPECT_NE(md.output.find("measured compute peaks"), std::string::npos) << md.output;
}

TEST(BenchCli, UnknownOutputFormatIsAnError) {
  TempDir dir;
  const auto model = (dir / "m.gguf").string();
  ASSERT_EQ(RunQuantlab("synth " + model + " --layers 1 --vocab 300").exit_code, 0);
  auto bench = RunQuantlab("bench -m " + model + " -o xml");
  EXPECT_NE(bench.exit_code, 0);
  EXPECT_NE(bench.output.find("md, csv or json"), std::string::npos) << bench.output;
}

}  // namespace
}  // namespace quantlab
