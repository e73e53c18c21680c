// Golden tests: quantlab's quantizers against the bytes llama.cpp's ggml (c392e509) produced for the
// same inputs (tests/quant/golden_inputs.h). The data in tests/data/golden/ was written by a harness
// outside the tree that called ggml_quantize_chunk (quantize_row_q8_1_ref / quantize_row_q8_K_ref for the
// activation formats) and ggml's to_float; manifest.txt holds, per type and mode, the byte count, a
// fingerprint of ggml's dequantized floats, and per-row fingerprints of a larger weight-like tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "quant/golden_inputs.h"
#include "quantlab/gguf/types.h"
#include "quantlab/quant/quantize.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using golden::Fnv1a64;

struct ManifestEntry {
  size_t bytes = 0;
  uint64_t dequant_hash = 0;
  std::vector<uint64_t> bulk_row_hashes;
  std::vector<std::string> ggml_aborts;  // cases ggml aborts on (their golden bytes are zero)
};

// key: "<type name> <mode>"
std::map<std::string, ManifestEntry> ReadManifest() {
  std::map<std::string, ManifestEntry> entries;
  std::ifstream in(testing::TestDataPath("golden/manifest.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind, type, mode;
    fields >> kind >> type >> mode;
    ManifestEntry& e = entries[type + " " + mode];
    if (kind == "golden") {
      fields >> e.bytes >> std::hex >> e.dequant_hash;
    } else if (kind == "aborts") {
      std::string name;
      while (fields >> name) e.ggml_aborts.push_back(name);
    } else if (kind == "bulk") {
      uint64_t h;
      while (fields >> std::hex >> h) e.bulk_row_hashes.push_back(h);
    }
  }
  return entries;
}

std::vector<uint8_t> ReadBytes(const std::string& name) {
  std::ifstream in(testing::TestDataPath("golden/" + name), std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Quantizes `rows` x `cols` as llama.cpp did for the golden data (into a zeroed buffer: ggml leaves
// Q8_K's bsums of an all-zero block untouched).
std::vector<uint8_t> Quantize(GgmlType type, const std::vector<float>& input, int64_t rows, int64_t cols,
                              const float* importance) {
  std::vector<uint8_t> out(RowBytes(type, cols) * rows, 0);
  if (CanQuantizeRows(type)) {
    EXPECT_EQ(QuantizeRows(type, input.data(), out.data(), rows, cols, importance), out.size());
  } else {
    QuantizeRowReference(type, input, out.data());
  }
  return out;
}

struct GoldenCase {
  GgmlType type;
  bool weighted;
};

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name(TypeName(info.param.type));
  return name + (info.param.weighted ? "_imatrix" : "_ref");
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, BytesMatchLlamaCpp) {
  const GoldenCase& c = GetParam();
  const std::string type_name(TypeName(c.type));
  const std::string mode = c.weighted ? "imatrix" : "ref";
  const auto manifest = ReadManifest();
  auto it = manifest.find(type_name + " " + mode);
  ASSERT_NE(it, manifest.end()) << "no golden entry for " << type_name << " " << mode;
  const std::vector<uint8_t> expected = ReadBytes(type_name + "." + mode + ".bin");
  ASSERT_EQ(expected.size(), it->second.bytes) << "golden file size does not match the manifest";

  const auto input = golden::GoldenInput();
  const auto importance = golden::GoldenImportance();
  const int64_t rows = static_cast<int64_t>(golden::GoldenCaseNames().size());
  const auto actual_all =
      Quantize(c.type, input, rows, golden::kGoldenRowLength, c.weighted ? importance.data() : nullptr);
  ASSERT_EQ(actual_all.size(), expected.size());

  // Per block and per case (row), so a failure says which distribution broke. Cases ggml aborts on
  // (IQ3's search finds no neighbour when x^2 overflows) have no golden bytes: quantlab must only not
  // crash on them, and they are left out of the comparison.
  const size_t block_bytes = TypeInfo(c.type).block_bytes;
  const size_t row_bytes = RowBytes(c.type, golden::kGoldenRowLength);
  const auto& aborts = it->second.ggml_aborts;
  auto actual = actual_all;
  for (int64_t r = 0; r < rows; ++r) {
    if (std::find(aborts.begin(), aborts.end(), golden::GoldenCaseNames()[r]) != aborts.end()) {
      std::fill(actual.begin() + r * row_bytes, actual.begin() + (r + 1) * row_bytes, uint8_t{0});
    }
  }
  size_t same_bytes = 0, same_blocks = 0;
  for (size_t i = 0; i < actual.size(); ++i) same_bytes += actual[i] == expected[i];
  for (size_t b = 0; b < actual.size() / block_bytes; ++b) {
    same_blocks += std::equal(actual.begin() + b * block_bytes, actual.begin() + (b + 1) * block_bytes,
                              expected.begin() + b * block_bytes);
  }
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(std::equal(actual.begin() + r * row_bytes, actual.begin() + (r + 1) * row_bytes,
                           expected.begin() + r * row_bytes))
        << type_name << " " << mode << ": case '" << golden::GoldenCaseNames()[r] << "' differs";
  }
  const size_t n_blocks = actual.size() / block_bytes;
  std::printf("[golden] %-5s %-7s identical bytes %zu/%zu (%.2f%%), blocks %zu/%zu (%.2f%%)\n",
              type_name.c_str(), mode.c_str(), same_bytes, actual.size(), 100.0 * same_bytes / actual.size(),
              same_blocks, n_blocks, 100.0 * same_blocks / n_blocks);
  EXPECT_EQ(same_bytes, actual.size());

  // Dequantizing the golden bytes gives exactly ggml's floats.
  if (it->second.dequant_hash != 0) {
    std::vector<float> restored(input.size());
    DequantizeRow(c.type, expected.data(), restored.data(), static_cast<int64_t>(restored.size()));
    EXPECT_EQ(Fnv1a64(restored.data(), restored.size() * sizeof(float)), it->second.dequant_hash)
        << "dequantized floats differ from ggml's";
  }
}

TEST_P(GoldenTest, BulkRowsMatchLlamaCpp) {
  const GoldenCase& c = GetParam();
  const std::string type_name(TypeName(c.type));
  const std::string mode = c.weighted ? "imatrix" : "ref";
  const auto manifest = ReadManifest();
  auto it = manifest.find(type_name + " " + mode);
  ASSERT_NE(it, manifest.end());
  const auto& hashes = it->second.bulk_row_hashes;
  ASSERT_EQ(hashes.size(), static_cast<size_t>(golden::kBulkRows));

  const auto input = golden::BulkInput();
  const auto importance = golden::BulkImportance();
  const auto actual =
      Quantize(c.type, input, golden::kBulkRows, golden::kBulkCols, c.weighted ? importance.data() : nullptr);
  const size_t row_bytes = RowBytes(c.type, golden::kBulkCols);
  int same_rows = 0;
  for (int r = 0; r < golden::kBulkRows; ++r)
    same_rows += Fnv1a64(actual.data() + r * row_bytes, row_bytes) == hashes[r];
  std::printf("[golden] %-5s %-7s bulk rows identical %d/%d\n", type_name.c_str(), mode.c_str(), same_rows,
              golden::kBulkRows);
  EXPECT_EQ(same_rows, golden::kBulkRows);
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, GoldenTest,
    ::testing::Values(GoldenCase{GgmlType::kF16, false}, GoldenCase{GgmlType::kBF16, false},
                      GoldenCase{GgmlType::kQ4_0, false}, GoldenCase{GgmlType::kQ4_0, true},
                      GoldenCase{GgmlType::kQ4_1, false}, GoldenCase{GgmlType::kQ4_1, true},
                      GoldenCase{GgmlType::kQ5_0, false}, GoldenCase{GgmlType::kQ5_0, true},
                      GoldenCase{GgmlType::kQ5_1, false}, GoldenCase{GgmlType::kQ5_1, true},
                      GoldenCase{GgmlType::kQ8_0, false}, GoldenCase{GgmlType::kQ8_1, false},
                      GoldenCase{GgmlType::kQ2_K, false}, GoldenCase{GgmlType::kQ2_K, true},
                      GoldenCase{GgmlType::kQ3_K, false}, GoldenCase{GgmlType::kQ3_K, true},
                      GoldenCase{GgmlType::kQ4_K, false}, GoldenCase{GgmlType::kQ4_K, true},
                      GoldenCase{GgmlType::kQ5_K, false}, GoldenCase{GgmlType::kQ5_K, true},
                      GoldenCase{GgmlType::kQ6_K, false}, GoldenCase{GgmlType::kQ6_K, true},
                      GoldenCase{GgmlType::kQ8_K, false}, GoldenCase{GgmlType::kIQ4_NL, false},
                      GoldenCase{GgmlType::kIQ4_NL, true}, GoldenCase{GgmlType::kIQ4_XS, false},
                      GoldenCase{GgmlType::kIQ4_XS, true}, GoldenCase{GgmlType::kIQ3_XXS, false},
                      GoldenCase{GgmlType::kIQ3_XXS, true}, GoldenCase{GgmlType::kIQ3_S, false},
                      GoldenCase{GgmlType::kIQ3_S, true}, GoldenCase{GgmlType::kIQ2_S, false},
                      GoldenCase{GgmlType::kIQ2_S, true}, GoldenCase{GgmlType::kIQ2_XXS, true},
                      GoldenCase{GgmlType::kIQ2_XS, true}, GoldenCase{GgmlType::kIQ1_S, true},
                      GoldenCase{GgmlType::kIQ1_M, false}, GoldenCase{GgmlType::kIQ1_M, true}),
    CaseName);

}  // namespace
}  // namespace quantlab
