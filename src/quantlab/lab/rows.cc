#include "quantlab/lab/rows.h"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "quantlab/util/check.h"

// One field list per struct: nlohmann's macros generate both directions from it. Reading uses `at`,
// which throws on a missing field; the typed accessors below turn that into an error naming the row.
// (The functions must live in each type's own namespace to be found.)
namespace quantlab {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(KldSums, count, sum_nll, sum_nll2, sum_nll_base, sum_nll_base2,
                                   sum_nll_nll_base, sum_kld, sum_kld2, sum_p_diff, sum_p_diff2, sum_p_diff4,
                                   max_p_diff, n_same_top)
}  // namespace quantlab

namespace quantlab::lab {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(QuantizeRow, file, file_bytes, n_params, bits_per_weight, seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PplChunkRow, count, sum, sum_sq)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SampleRow, prompt, sampled_text, sampled_tokens, greedy_text,
                                   greedy_tokens, tg_tps)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpeedRow, pp_tps, pp_stddev, tg_tps, tg_stddev, repetitions,
                                   peak_rss_bytes, threads, isa)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RamRow, total, weights, kv_cache, scratch, runtime)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskRow, chosen, gold, correct, scores)

namespace {

// The KLD row keeps its per-token values out of the JSON: value {"sums", "n_values"}, blob = n_values KLD
// floats then n_values Δp floats.
struct KldChunkHeader {
  KldSums sums;
  size_t n_values = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(KldChunkHeader, sums, n_values)

struct Encoded {
  nlohmann::json value;
  std::string blob;
};

template <class Row>
Encoded Encode(const Row& row) {
  return {nlohmann::json(row), ""};
}

Encoded Encode(const KldChunkRow& row) {
  QL_CHECK(row.kld_values.size() == row.p_diff_values.size());
  const size_t n = row.kld_values.size();
  std::string blob(2 * n * sizeof(float), '\0');
  if (n) {
    std::memcpy(blob.data(), row.kld_values.data(), n * sizeof(float));
    std::memcpy(blob.data() + n * sizeof(float), row.p_diff_values.data(), n * sizeof(float));
  }
  return {nlohmann::json(KldChunkHeader{row.sums, n}), std::move(blob)};
}

// Throws nlohmann::json::exception or std::runtime_error on a row that does not match its struct.
template <class Row>
void Decode(const Measurement& m, Row& row) {
  m.value.get_to(row);
}

void Decode(const Measurement& m, KldChunkRow& row) {
  const auto header = m.value.get<KldChunkHeader>();
  if (m.blob.size() != 2 * header.n_values * sizeof(float)) {
    throw std::runtime_error(fmt::format("the per-token values hold {} bytes, {} expected", m.blob.size(),
                                         2 * header.n_values * sizeof(float)));
  }
  row.sums = header.sums;
  row.kld_values.resize(header.n_values);
  row.p_diff_values.resize(header.n_values);
  if (header.n_values) {
    std::memcpy(row.kld_values.data(), m.blob.data(), header.n_values * sizeof(float));
    std::memcpy(row.p_diff_values.data(), m.blob.data() + header.n_values * sizeof(float),
                header.n_values * sizeof(float));
  }
}

// nlohmann's messages start with "[json.exception.type_error.302] "; the reader needs the rest.
std::string_view WithoutJsonPrefix(std::string_view what) {
  if (what.rfind("[json.exception.", 0) == 0) {
    const size_t end = what.find("] ");
    if (end != std::string_view::npos) return what.substr(end + 2);
  }
  return what;
}

template <class Row>
Result<Row> DecodeRow(const ResultsStore& store, const MeasurementKey& key, int64_t item,
                      const Measurement& m) {
  Row row;
  try {
    Decode(m, row);
  } catch (const std::exception& e) {
    return MakeError(
        "{}: {} does not match what this quantlab stores ({}); a store written by another "
        "version must be measured again",
        store.path(), DescribeRow(key, item), WithoutJsonPrefix(e.what()));
  }
  return row;
}

template <class Row>
void CheckKind(const MeasurementKey& key) {
  QL_CHECK_MSG(key.kind == RowKindName(Row::kKind), "a row key of another kind");
}

}  // namespace

std::string_view RowKindName(RowKind kind) {
  switch (kind) {
    case RowKind::kQuantize:
      return "quantize";
    case RowKind::kPplChunk:
      return "ppl_chunk";
    case RowKind::kKldChunk:
      return "kld_chunk";
    case RowKind::kSample:
      return "sample";
    case RowKind::kSpeed:
      return "speed";
    case RowKind::kRam:
      return "ram";
    case RowKind::kTask:
      return "task";
  }
  return "unknown";
}

std::string DescribeRow(const MeasurementKey& key, int64_t item) {
  std::string data = key.dataset_hash.empty() ? "" : ", data " + key.dataset_hash.substr(0, 8);
  return fmt::format("{} row (format {}{}, item {})", key.kind, key.format, data, item);
}

template <class Row>
Status PutRow(ResultsStore& store, const MeasurementKey& key, int64_t item, const Row& row) {
  CheckKind<Row>(key);
  const Encoded e = Encode(row);
  return store.Put(key, item, e.value, e.blob);
}

template <class Row>
Result<std::optional<Row>> GetRow(const ResultsStore& store, const MeasurementKey& key, int64_t item) {
  CheckKind<Row>(key);
  QL_ASSIGN_OR_RETURN(auto m, store.Get(key, item));
  if (!m) return std::optional<Row>();
  QL_ASSIGN_OR_RETURN(Row row, DecodeRow<Row>(store, key, item, *m));
  return std::optional<Row>(std::move(row));
}

template <class Row>
Result<std::map<int64_t, Row>> GetRows(const ResultsStore& store, const MeasurementKey& key) {
  CheckKind<Row>(key);
  QL_ASSIGN_OR_RETURN(auto all, store.GetAll(key));
  std::map<int64_t, Row> rows;
  for (const auto& [item, m] : all) {
    QL_ASSIGN_OR_RETURN(rows[item], DecodeRow<Row>(store, key, item, m));
  }
  return rows;
}

#define QUANTLAB_INSTANTIATE_ROW(Row)                                                                   \
  template Status PutRow<Row>(ResultsStore&, const MeasurementKey&, int64_t, const Row&);               \
  template Result<std::optional<Row>> GetRow<Row>(const ResultsStore&, const MeasurementKey&, int64_t); \
  template Result<std::map<int64_t, Row>> GetRows<Row>(const ResultsStore&, const MeasurementKey&);
QUANTLAB_INSTANTIATE_ROW(QuantizeRow)
QUANTLAB_INSTANTIATE_ROW(PplChunkRow)
QUANTLAB_INSTANTIATE_ROW(KldChunkRow)
QUANTLAB_INSTANTIATE_ROW(SampleRow)
QUANTLAB_INSTANTIATE_ROW(SpeedRow)
QUANTLAB_INSTANTIATE_ROW(RamRow)
QUANTLAB_INSTANTIATE_ROW(TaskRow)
#undef QUANTLAB_INSTANTIATE_ROW

}  // namespace quantlab::lab
