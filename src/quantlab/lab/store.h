// The results database (SQLite, `results.sqlite` in the lab's folder). Every measurement is one row,
// keyed by what produced it: the base model's content hash, the format, the data set's hash, the
// settings that affect the figure (JSON) and the tool version, plus the kind of measurement and an item
// number (chunk or prompt index). A row is only ever written complete, inside a transaction, so a run
// killed at any point leaves the rows of finished measurements and nothing of the one in flight.
//
// A damaged database is an error at Open (PRAGMA integrity_check), never silently recreated: it holds
// hours of measurements, and the user decides whether to delete it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quantlab/util/result.h"

namespace quantlab::lab {

struct MeasurementKey {
  std::string model_hash;
  std::string format;
  std::string dataset_hash;  // "" where no data set is involved
  std::string settings;      // canonical JSON (nlohmann dumps keys sorted)
  std::string tool_version;
  std::string kind;  // RowKindName() of the row's kind (lab/rows.h): "quantize", "ppl_chunk", ...
};

struct Measurement {
  nlohmann::json value;
  std::string blob;       // raw bytes (per-token float arrays), may be empty
  double created_at = 0;  // seconds since the epoch
};

class ResultsStore {
 public:
  // Opens or creates the database. Errors: cannot open, not a database, integrity check failed.
  static Result<std::unique_ptr<ResultsStore>> Open(const std::string& path);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  // Writes (or replaces) one row. Outside a transaction it is its own transaction.
  Status Put(const MeasurementKey& key, int64_t item, const nlohmann::json& value,
             const std::string& blob = "");
  Result<std::optional<Measurement>> Get(const MeasurementKey& key, int64_t item) const;
  // All items of a key.
  Result<std::map<int64_t, Measurement>> GetAll(const MeasurementKey& key) const;
  // The item numbers a key has, without reading the rows.
  Result<std::set<int64_t>> Items(const MeasurementKey& key) const;
  // Every row of a kind with its whole key: rows describe themselves, so this is all a merge or an
  // upgrade of a store needs.
  struct StoredRow {
    MeasurementKey key;
    int64_t item = 0;
    Measurement measurement;
  };
  Result<std::vector<StoredRow>> RowsOfKind(const std::string& kind) const;
  // Writes (or replaces) a row as given, its time included (an upgrade or a merge keeps the time the
  // measurement was made).
  Status Insert(const StoredRow& row);
  // Rows of a kind (all kinds when empty).
  Result<int64_t> Count(const std::string& kind = "") const;

  // Every row's identity and time, for tests and inspection.
  struct RowSummary {
    std::string kind, format, dataset_hash;
    int64_t item = 0;
    double created_at = 0;
  };
  Result<std::vector<RowSummary>> ListRows() const;

  Status SetMeta(const std::string& key, const std::string& value);
  Result<std::optional<std::string>> GetMeta(const std::string& key) const;

  // Groups writes: all or none of them survive a crash.
  Status Begin();
  Status Commit();
  Status Rollback();

  const std::string& path() const { return path_; }

 private:
  ResultsStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Exec(const std::string& sql);
  Error SqlError(const std::string& what) const;

  std::string path_;
  sqlite3* db_ = nullptr;
};

// RAII transaction: commits on Commit(), rolls back when destroyed without.
class Transaction {
 public:
  static Result<Transaction> Start(ResultsStore& store);
  Transaction(Transaction&& other) noexcept : store_(other.store_) { other.store_ = nullptr; }
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(ResultsStore* store) : store_(store) {}
  ResultsStore* store_;
};

}  // namespace quantlab::lab
