// llama.cpp's importance-matrix files (the legacy binary format llama-imatrix writes, read by
// llama-quantize --imatrix). Layout, all integers little-endian int32:
//   n_entries
//   n_entries times: name_len, name bytes (no terminator), ncall, nval, nval float32 sums of squared
//                    activations per column
//   optional trailer: last_call (chunks processed), dataset_len, dataset bytes
// llama-imatrix writes, per column, (sum of squared activations / count of rows summed) * ncall; like
// llama-quantize, ParseImatrix divides each entry's values by its ncall (when ncall > 0), in float.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab {

// An imatrix file as stored, before the division by ncall (what llama-imatrix writes).
struct ImatrixDatEntry {
  std::string name;
  int32_t ncall = 0;          // matrix products (micro-batches of >= 16 tokens) that saw this tensor
  std::vector<float> values;  // per column: sum of squares / rows summed * ncall
};
struct ImatrixDat {
  std::vector<ImatrixDatEntry> entries;  // in file order
  int32_t last_call = -1;                // the trailer's chunk count; -1 when the file has no trailer
  std::string dataset;                   // the trailer's dataset name
};

// Parses the stored form; errors name `source_name`, the entry and the byte offset.
Result<ImatrixDat> ParseImatrixDat(std::span<const uint8_t> bytes, const std::string& source_name);
Result<ImatrixDat> ReadImatrixDatFile(const std::filesystem::path& path);
// Writes the stored form (with its trailer when last_call >= 0), atomically.
Status WriteImatrixDatFile(const std::filesystem::path& path, const ImatrixDat& dat);

struct ImportanceMatrix {
  // tensor name (e.g. "blk.0.attn_q.weight") -> per-column importance (already divided by ncall).
  std::map<std::string, std::vector<float>> entries;
  int32_t chunks = -1;  // last_call from the trailer; -1 when the file has no trailer
  std::string dataset;  // dataset file name from the trailer (may be empty)

  // The weights for a tensor, or nullptr when it has none.
  const std::vector<float>* Find(const std::string& tensor_name) const;
};

// Parses an imatrix file already in memory, in either form: GGUF (quant/imatrix_gguf.h, told apart by its
// magic) or the legacy .dat; `source_name` names it in errors.
Result<ImportanceMatrix> ParseImatrix(std::span<const uint8_t> bytes, const std::string& source_name);

// Reads and parses an imatrix file of either form. Errors name the file and the entry (the tensor of a
// GGUF imatrix, the byte offset of a .dat).
Result<ImportanceMatrix> ReadImatrixFile(const std::filesystem::path& path);

// Writes `matrix` in the same format (ncall written as 1, so values round-trip exactly); for tests and
// tools. Written atomically (temp file + rename).
Status WriteImatrixFile(const std::filesystem::path& path, const ImportanceMatrix& matrix);

}  // namespace quantlab
