// The GGUF importance-matrix format, which llama-imatrix writes by default since llama.cpp's GGUF
// imatrix change (mid-2025; tools/imatrix/imatrix.cpp, read by tools/quantize/quantize.cpp). Facts taken
// from those sources (ggml-org/llama.cpp 050fc7f3):
//   - metadata: general.type = "imatrix" (string), imatrix.datasets (array of strings: the calibration
//     files), imatrix.chunk_count (uint32: chunks processed), imatrix.chunk_size (uint32: tokens per
//     chunk, n_ctx / n_parallel). llama-quantize refuses a file without the last three;
//   - per weight NAME, in sorted name order, two F32 tensors: NAME.in_sum2 of shape [n_per_row, n_mat],
//     the raw sums of squared activations per column (not divided), and NAME.counts of shape [1, n_mat],
//     the rows (tokens) summed, one count per matrix (per expert of a 3-D MoE weight, else one);
//   - llama-quantize's importance is in_sum2 / count per matrix, divided in float; a matrix whose count
//     is 0 (an expert never routed to) gets importance 1 everywhere. Other tensors (a newer version's
//     NAME.in_sum) are ignored.
// The legacy .dat form stores (sum / rows) * ncall instead, divided again by ncall when read
// (quant/imatrix.h); both readers give an ImportanceMatrix, chosen by the file's magic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "quantlab/quant/imatrix.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct ImatrixGgufEntry {
  std::string name;           // the weight, e.g. "blk.0.attn_q.weight"
  int64_t n_per_row = 0;      // in_sum2's first dimension (the weight's row length)
  std::vector<float> sums;    // (n_mat, n_per_row): sum of x_j^2 over the rows summed
  std::vector<float> counts;  // (n_mat): rows summed per matrix
};

struct ImatrixGguf {
  std::vector<ImatrixGgufEntry> entries;  // sorted by name, as llama-imatrix writes them
  std::vector<std::string> datasets;
  uint32_t chunk_count = 0;
  uint32_t chunk_size = 0;
};

// True when `bytes` start with the GGUF magic (the legacy .dat starts with an entry count instead).
bool IsGgufBytes(std::span<const uint8_t> bytes);

// Parses a GGUF imatrix; errors name `source_name` and, for a bad tensor, the tensor.
Result<ImatrixGguf> ParseImatrixGguf(std::span<const uint8_t> bytes, const std::string& source_name);
Result<ImatrixGguf> ReadImatrixGgufFile(const std::filesystem::path& path);
// Writes it as llama-imatrix does (entries sorted by name, in_sum2 then counts), atomically.
Status WriteImatrixGgufFile(const std::filesystem::path& path, const ImatrixGguf& imatrix);

// llama-quantize's importance from the sums and counts.
ImportanceMatrix ImportanceFromGguf(const ImatrixGguf& imatrix);

// A legacy file in GGUF form whose importance is bit for bit the .dat's: in_sum2 holds the stored values
// and counts the ncall (1 when ncall <= 0), so llama-quantize's one float division is the .dat reader's.
// (llama-imatrix's own conversion scales both by chunk_size, which rounds differently.) The .dat does not
// record its chunk size: `chunk_size` is written as given.
ImatrixGguf ImatrixGgufFromDat(const ImatrixDat& dat, uint32_t chunk_size);

}  // namespace quantlab
