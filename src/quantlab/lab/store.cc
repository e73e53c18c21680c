#include "quantlab/lab/store.h"

#include <chrono>

namespace quantlab::lab {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS measurements(
  model_hash TEXT NOT NULL,
  format TEXT NOT NULL,
  dataset_hash TEXT NOT NULL,
  settings TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  kind TEXT NOT NULL,
  item INTEGER NOT NULL,
  value TEXT NOT NULL,
  blob BLOB,
  created_at REAL NOT NULL,
  PRIMARY KEY(model_hash, format, dataset_hash, settings, tool_version, kind, item));
)sql";

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void Text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void BindKey(const MeasurementKey& k) {
    Text(1, k.model_hash);
    Text(2, k.format);
    Text(3, k.dataset_hash);
    Text(4, k.settings);
    Text(5, k.tool_version);
    Text(6, k.kind);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i)) : std::string();
}

Result<Measurement> ReadRow(sqlite3_stmt* s, int first_col, const std::string& path) {
  Measurement m;
  try {
    m.value = nlohmann::json::parse(ColumnText(s, first_col));
  } catch (const std::exception& e) {
    return MakeError("{}: a stored measurement is not valid JSON: {}", path, e.what());
  }
  const void* blob = sqlite3_column_blob(s, first_col + 1);
  if (blob) m.blob.assign(static_cast<const char*>(blob), sqlite3_column_bytes(s, first_col + 1));
  m.created_at = sqlite3_column_double(s, first_col + 2);
  return m;
}

}  // namespace

Result<std::unique_ptr<ResultsStore>> ResultsStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return MakeError("{}: cannot open the results database: {}", path, msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<ResultsStore> store(new ResultsStore(path, db));
  // The integrity check comes first: on a damaged file, nothing may be written.
  std::string verdict;
  {
    Statement check(db, "PRAGMA integrity_check");
    if (!check.ok()) {
      return MakeError(
          "{}: the results database is damaged ({}); quantlab will not rebuild it — move or delete "
          "it to start the lab afresh",
          path, sqlite3_errmsg(db));
    }
    while ((rc = sqlite3_step(check.get())) == SQLITE_ROW) {
      verdict += (verdict.empty() ? "" : "; ") + ColumnText(check.get(), 0);
    }
    if (rc != SQLITE_DONE) verdict = sqlite3_errmsg(db);
  }
  if (verdict != "ok") {
    return MakeError(
        "{}: the results database is damaged (integrity check: {}); quantlab will not rebuild it — "
        "move or delete it to start the lab afresh",
        path, verdict.substr(0, 300));
  }
  QL_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  QL_RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

ResultsStore::~ResultsStore() { sqlite3_close(db_); }

Error ResultsStore::SqlError(const std::string& what) const {
  return MakeError("{}: {}: {}", path_, what, sqlite3_errmsg(db_));
}

Status ResultsStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return MakeError("{}: {}", path_, msg);
  }
  return Ok();
}

Status ResultsStore::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status ResultsStore::Commit() { return Exec("COMMIT"); }
Status ResultsStore::Rollback() { return Exec("ROLLBACK"); }

Status ResultsStore::Put(const MeasurementKey& key, int64_t item, const nlohmann::json& value,
                         const std::string& blob) {
  return Insert({key, item, {value, blob, Now()}});
}

Status ResultsStore::Insert(const StoredRow& row) {
  const MeasurementKey& key = row.key;
  const nlohmann::json& value = row.measurement.value;
  const std::string& blob = row.measurement.blob;
  Statement s(
      db_,
      "INSERT OR REPLACE INTO measurements(model_hash, format, dataset_hash, settings, tool_version, kind, "
      "item, value, blob, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!s.ok()) return SqlError("preparing a write");
  s.BindKey(key);
  sqlite3_bind_int64(s.get(), 7, row.item);
  // Generated text may hold partial UTF-8 sequences (byte tokens): stored with U+FFFD in their place.
  s.Text(8, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (blob.empty()) {
    sqlite3_bind_null(s.get(), 9);
  } else {
    sqlite3_bind_blob(s.get(), 9, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  sqlite3_bind_double(s.get(), 10, row.measurement.created_at);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return SqlError("writing a measurement");
  return Ok();
}

Result<std::optional<Measurement>> ResultsStore::Get(const MeasurementKey& key, int64_t item) const {
  Statement s(db_,
              "SELECT value, blob, created_at FROM measurements WHERE model_hash=?1 AND format=?2 AND "
              "dataset_hash=?3 AND settings=?4 AND tool_version=?5 AND kind=?6 AND item=?7");
  if (!s.ok()) return SqlError("preparing a read");
  s.BindKey(key);
  sqlite3_bind_int64(s.get(), 7, item);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<Measurement>();
  if (rc != SQLITE_ROW) return SqlError("reading a measurement");
  QL_ASSIGN_OR_RETURN(Measurement m, ReadRow(s.get(), 0, path_));
  return std::optional<Measurement>(std::move(m));
}

Result<std::map<int64_t, Measurement>> ResultsStore::GetAll(const MeasurementKey& key) const {
  Statement s(db_,
              "SELECT item, value, blob, created_at FROM measurements WHERE model_hash=?1 AND format=?2 AND "
              "dataset_hash=?3 AND settings=?4 AND tool_version=?5 AND kind=?6 ORDER BY item");
  if (!s.ok()) return SqlError("preparing a read");
  s.BindKey(key);
  std::map<int64_t, Measurement> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    QL_ASSIGN_OR_RETURN(Measurement m, ReadRow(s.get(), 1, path_));
    out[sqlite3_column_int64(s.get(), 0)] = std::move(m);
  }
  if (rc != SQLITE_DONE) return SqlError("reading measurements");
  return out;
}

Result<std::set<int64_t>> ResultsStore::Items(const MeasurementKey& key) const {
  Statement s(db_,
              "SELECT item FROM measurements WHERE model_hash=?1 AND format=?2 AND dataset_hash=?3 AND "
              "settings=?4 AND tool_version=?5 AND kind=?6");
  if (!s.ok()) return SqlError("preparing a read");
  s.BindKey(key);
  std::set<int64_t> items;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) items.insert(sqlite3_column_int64(s.get(), 0));
  if (rc != SQLITE_DONE) return SqlError("reading measurements");
  return items;
}

Result<std::vector<ResultsStore::StoredRow>> ResultsStore::RowsOfKind(const std::string& kind) const {
  Statement s(db_,
              "SELECT model_hash, format, dataset_hash, settings, tool_version, kind, item, value, blob, "
              "created_at FROM measurements WHERE kind=?1 ORDER BY format, item");
  if (!s.ok()) return SqlError("preparing a read");
  s.Text(1, kind);
  std::vector<StoredRow> rows;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    StoredRow row;
    row.key = {ColumnText(s.get(), 0), ColumnText(s.get(), 1), ColumnText(s.get(), 2),
               ColumnText(s.get(), 3), ColumnText(s.get(), 4), ColumnText(s.get(), 5)};
    row.item = sqlite3_column_int64(s.get(), 6);
    QL_ASSIGN_OR_RETURN(row.measurement, ReadRow(s.get(), 7, path_));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqlError("reading measurements");
  return rows;
}

Result<int64_t> ResultsStore::Count(const std::string& kind) const {
  Statement s(db_, kind.empty() ? "SELECT COUNT(*) FROM measurements"
                                : "SELECT COUNT(*) FROM measurements WHERE kind=?1");
  if (!s.ok()) return SqlError("preparing a count");
  if (!kind.empty()) s.Text(1, kind);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return SqlError("counting measurements");
  return static_cast<int64_t>(sqlite3_column_int64(s.get(), 0));
}

Result<std::vector<ResultsStore::RowSummary>> ResultsStore::ListRows() const {
  Statement s(
      db_,
      "SELECT kind, format, dataset_hash, item, created_at FROM measurements ORDER BY kind, format, item");
  if (!s.ok()) return SqlError("preparing a listing");
  std::vector<RowSummary> rows;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    rows.push_back({ColumnText(s.get(), 0), ColumnText(s.get(), 1), ColumnText(s.get(), 2),
                    sqlite3_column_int64(s.get(), 3), sqlite3_column_double(s.get(), 4)});
  }
  if (rc != SQLITE_DONE) return SqlError("listing measurements");
  return rows;
}

Status ResultsStore::SetMeta(const std::string& key, const std::string& value) {
  Statement s(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
  if (!s.ok()) return SqlError("preparing a write");
  s.Text(1, key);
  s.Text(2, value);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return SqlError("writing lab settings");
  return Ok();
}

Result<std::optional<std::string>> ResultsStore::GetMeta(const std::string& key) const {
  Statement s(db_, "SELECT value FROM meta WHERE key=?1");
  if (!s.ok()) return SqlError("preparing a read");
  s.Text(1, key);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError("reading lab settings");
  return std::optional<std::string>(ColumnText(s.get(), 0));
}

Result<Transaction> Transaction::Start(ResultsStore& store) {
  QL_RETURN_IF_ERROR(store.Begin());
  return Transaction(&store);
}

Transaction::~Transaction() {
  if (store_) (void)store_->Rollback();
}

Status Transaction::Commit() {
  ResultsStore* s = store_;
  store_ = nullptr;
  return s->Commit();
}

}  // namespace quantlab::lab
