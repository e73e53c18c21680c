// The GGUF imatrix format (quant/imatrix_gguf.h): writing and reading back, the importance llama-quantize
// derives from it, the .dat -> GGUF conversion that keeps the importance bit for bit, and malformed files
// refused with the file and the tensor named.
#include "quantlab/quant/imatrix_gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "support/paths.h"

namespace quantlab {
namespace {

ImatrixGguf TwoEntries() {
  ImatrixGguf m;
  m.entries.push_back({"blk.1.ffn_down.weight", 2, {6.0f, 9.0f}, {3.0f}});
  // A two-expert weight whose second expert never got a token: llama-quantize gives it importance 1.
  m.entries.push_back({"blk.0.ffn_up_exps.weight", 3, {2.0f, 4.0f, 8.0f, 5.0f, 5.0f, 5.0f}, {4.0f, 0.0f}});
  m.datasets = {"calibration.txt"};
  m.chunk_count = 7;
  m.chunk_size = 512;
  return m;
}

TEST(ImatrixGguf, WritesWhatItReadsSortedByName) {
  testing::TempDir dir;
  const auto path = dir / "m.gguf";
  ASSERT_TRUE(WriteImatrixGgufFile(path, TwoEntries()).ok());

  // The layout llama-imatrix writes: the keys, then NAME.in_sum2 [n_per_row, n_mat] and NAME.counts
  // [1, n_mat] in sorted name order, all F32.
  auto file = GgufFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->metadata().GetString("general.type"), "imatrix");
  EXPECT_EQ(file->metadata().Find("imatrix.chunk_count")->type, GgufValueType::kUint32);
  EXPECT_EQ(file->metadata().Find("imatrix.chunk_size")->type, GgufValueType::kUint32);
  ASSERT_EQ(file->tensors().size(), 4u);
  EXPECT_EQ(file->tensors()[0].name, "blk.0.ffn_up_exps.weight.in_sum2");
  EXPECT_EQ(file->tensors()[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(file->tensors()[1].name, "blk.0.ffn_up_exps.weight.counts");
  EXPECT_EQ(file->tensors()[1].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(file->tensors()[2].name, "blk.1.ffn_down.weight.in_sum2");
  EXPECT_EQ(file->tensors()[3].name, "blk.1.ffn_down.weight.counts");

  auto back = ReadImatrixGgufFile(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->datasets, std::vector<std::string>{"calibration.txt"});
  EXPECT_EQ(back->chunk_count, 7u);
  EXPECT_EQ(back->chunk_size, 512u);
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->entries[1].sums, (std::vector<float>{6.0f, 9.0f}));
  EXPECT_EQ(back->entries[0].counts, (std::vector<float>{4.0f, 0.0f}));
}

TEST(ImatrixGguf, ImportanceIsSumsOverCountsPerMatrix) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteImatrixGgufFile(dir / "m.gguf", TwoEntries()).ok());
  auto m = ReadImatrixFile(dir / "m.gguf");  // the format-agnostic reader the quantizer uses
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m->Find("blk.1.ffn_down.weight"), (std::vector<float>{2.0f, 3.0f}));
  EXPECT_EQ(*m->Find("blk.0.ffn_up_exps.weight"), (std::vector<float>{0.5f, 1.0f, 2.0f, 1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(m->chunks, 7);
  EXPECT_EQ(m->dataset, "calibration.txt");
}

// .dat -> GGUF keeps llama-quantize's importance bit for bit, on values whose division by ncall rounds.
TEST(ImatrixGguf, ConversionFromDatKeepsTheImportanceBitForBit) {
  ImatrixDat dat;
  std::vector<float> values;
  for (int i = 0; i < 257; ++i) values.push_back(std::ldexp(1.0f + 0.001f * float(i * i % 97), i % 9 - 4));
  dat.entries.push_back({"blk.0.attn_q.weight", 7, values});
  dat.entries.push_back({"blk.0.attn_k.weight", 0, {1.5f, 2.5f}});  // ncall 0: used as stored
  dat.last_call = 7;
  dat.dataset = "wiki.train.raw";
  testing::TempDir dir;
  ASSERT_TRUE(WriteImatrixDatFile(dir / "m.dat", dat).ok());
  ASSERT_TRUE(WriteImatrixGgufFile(dir / "m.gguf", ImatrixGgufFromDat(dat, 512)).ok());
  auto from_dat = ReadImatrixFile(dir / "m.dat");
  auto from_gguf = ReadImatrixFile(dir / "m.gguf");
  ASSERT_TRUE(from_dat.ok() && from_gguf.ok());
  ASSERT_EQ(from_dat->entries.size(), from_gguf->entries.size());
  for (const auto& [name, v] : from_dat->entries) {
    const std::vector<float>* g = from_gguf->Find(name);
    ASSERT_NE(g, nullptr) << name;
    ASSERT_EQ(g->size(), v.size());
    EXPECT_EQ(std::memcmp(g->data(), v.data(), v.size() * sizeof(float)), 0) << name;
  }
  EXPECT_EQ(from_gguf->chunks, 7);
  EXPECT_EQ(from_gguf->dataset, "wiki.train.raw");
}

// A GGUF file crafted tensor by tensor; `mutate` breaks it.
struct Crafted {
  GgufMetadata metadata;
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    GgmlType type = GgmlType::kF32;
    std::vector<float> values;
  };
  std::vector<Tensor> tensors;

  Crafted() {
    metadata.Set("general.type", GgufValue::Str("imatrix"));
    metadata.Set("imatrix.datasets", GgufValue::Array(GgufValueType::kString, {GgufValue::Str("c.txt")}));
    metadata.Set("imatrix.chunk_count", GgufValue::U32(2));
    metadata.Set("imatrix.chunk_size", GgufValue::U32(64));
    tensors.push_back({"blk.0.attn_q.weight.in_sum2", {2, 1}, GgmlType::kF32, {1.0f, 2.0f}});
    tensors.push_back({"blk.0.attn_q.weight.counts", {1, 1}, GgmlType::kF32, {128.0f}});
  }
  std::string Write(const testing::TempDir& dir) const {
    GgufWriter writer(metadata);
    for (const Tensor& t : tensors) {
      writer.AddTensor({t.name, t.shape, t.type, [&t](std::span<std::byte> dst) {
                          std::memset(dst.data(), 0, dst.size());
                          std::memcpy(dst.data(), t.values.data(), std::min(dst.size(), t.values.size() * 4));
                          return Ok();
                        }});
    }
    const std::string path = (dir / "bad.gguf").string();
    EXPECT_TRUE(writer.WriteTo(path).ok());
    return path;
  }
};

TEST(ImatrixGguf, MalformedFilesNameTheFileAndTheTensor) {
  struct Case {
    const char* what;
    std::function<void(Crafted&)> mutate;
    std::string message;
  };
  const Case cases[] = {
      {"a model, not an imatrix", [](Crafted& c) { c.metadata.Set("general.type", GgufValue::Str("model")); },
       "not an importance matrix (general.type is 'model')"},
      {"no chunk size", [](Crafted& c) { c.metadata.Remove("imatrix.chunk_size"); },
       "imatrix key imatrix.chunk_size is missing"},
      {"datasets not strings", [](Crafted& c) { c.metadata.Set("imatrix.datasets", GgufValue::U32(1)); },
       "imatrix.datasets is u32, expected an array of strings"},
      {"chunk count a string", [](Crafted& c) { c.metadata.Set("imatrix.chunk_count", GgufValue::Str("2")); },
       "imatrix.chunk_count is str"},
      {"sums without counts", [](Crafted& c) { c.tensors.pop_back(); },
       "entry blk.0.attn_q.weight has blk.0.attn_q.weight.in_sum2 but no .counts tensor"},
      {"counts without sums", [](Crafted& c) { c.tensors.erase(c.tensors.begin()); },
       "has blk.0.attn_q.weight.counts but no .in_sum2 tensor"},
      {"F16 sums", [](Crafted& c) { c.tensors[0].type = GgmlType::kF16; },
       "tensor blk.0.attn_q.weight.in_sum2 is f16, expected f32"},
      {"counts of another matrix count",
       [](Crafted& c) {
         c.tensors[1].shape = {1, 2};
       },
       "tensor blk.0.attn_q.weight.counts has 2 values, but blk.0.attn_q.weight.in_sum2 has 1 matrices"},
      {"a NaN sum", [](Crafted& c) { c.tensors[0].values[1] = std::numeric_limits<float>::quiet_NaN(); },
       "tensor blk.0.attn_q.weight.in_sum2: value 1 is nan"},
      {"a negative count", [](Crafted& c) { c.tensors[1].values[0] = -1.0f; },
       "tensor blk.0.attn_q.weight.counts: value 0 is -1"},
      {"no entries", [](Crafted& c) { c.tensors.clear(); }, "no imatrix data"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    testing::TempDir dir;
    Crafted crafted;
    c.mutate(crafted);
    const std::string path = crafted.Write(dir);
    auto m = ReadImatrixFile(path);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message.find(path + ": "), std::string::npos) << m.error().message;
    EXPECT_NE(m.error().message.find(c.message), std::string::npos) << m.error().message;
  }
  // The unbroken file reads.
  testing::TempDir dir;
  EXPECT_TRUE(ReadImatrixFile(Crafted().Write(dir)).ok());
}

TEST(ImatrixGguf, TruncatedFileIsAGgufErrorNamingTheFile) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteImatrixGgufFile(dir / "m.gguf", TwoEntries()).ok());
  std::string bytes;
  {
    std::ifstream in(dir / "m.gguf", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes.resize(bytes.size() / 2);  // into the tensor data
  std::ofstream(dir / "cut.gguf", std::ios::binary) << bytes;
  auto m = ReadImatrixFile(dir / "cut.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find((dir / "cut.gguf").string()), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace quantlab
