#include "quantlab/lab/store_schema.h"

#include <charconv>
#include <string>

#include <nlohmann/json.hpp>

#include "quantlab/lab/rows.h"

namespace quantlab::lab {
namespace {

constexpr const char* kSchemaMeta = "schema";

// The schema the store holds: 0 for a new, empty store; 1 for one written before versions were recorded.
Result<int> StoredSchema(const ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto text, store.GetMeta(kSchemaMeta));
  if (text) {
    int version = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), version);
    if (ec != std::errc() || end != text->data() + text->size() || version < 1) {
      return MakeError("{}: the store's schema version '{}' is not a version number", store.path(), *text);
    }
    return version;
  }
  QL_ASSIGN_OR_RETURN(auto plan, store.GetMeta("lab"));
  QL_ASSIGN_OR_RETURN(int64_t rows, store.Count());
  return plan || rows > 0 ? 1 : 0;
}

Error OlderStore(const ResultsStore& store, const std::string& why) {
  return MakeError(
      "{}: written by an older quantlab (store schema 1, this one uses {}) and cannot be upgraded: {}; "
      "rerun the lab into a new folder to remeasure",
      store.path(), kStoreSchema, why);
}

// Schema 1 wrote the plan's settings as JSON text inside the JSON, and no cache size.
Status UpgradePlanFrom1(ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto text, store.GetMeta("lab"));
  if (!text) return Ok();
  try {
    nlohmann::json plan = nlohmann::json::parse(*text);
    for (const char* key : {"eval_settings", "sample_settings", "speed_settings", "ram_settings"}) {
      if (plan.at(key).is_string()) plan[key] = nlohmann::json::parse(plan[key].get<std::string>());
    }
    if (!plan.at("machine").contains("llc_bytes")) plan["machine"]["llc_bytes"] = 0;  // unknown
    return store.SetMeta("lab", plan.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } catch (const std::exception& e) {
    return OlderStore(store, std::string("its stored plan: ") + e.what());
  }
}

// Schema 1's speed rows lack the repetitions; the key's settings hold the number the bench ran.
Status UpgradeSpeedRowsFrom1(ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto rows, store.RowsOfKind(std::string(RowKindName(RowKind::kSpeed))));
  for (auto& row : rows) {
    nlohmann::json& value = row.measurement.value;
    if (value.contains("repetitions")) continue;
    try {
      value["repetitions"] = nlohmann::json::parse(row.key.settings).at("repetitions").get<int>();
    } catch (const std::exception& e) {
      return OlderStore(store, DescribeRow(row.key, row.item) + ": " + e.what());
    }
    QL_RETURN_IF_ERROR(store.Insert(row));
  }
  return Ok();
}

// Schema 2 had no task sets: its plan gets an empty list (there are no task rows to go with it).
Status UpgradePlanFrom2(ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(auto text, store.GetMeta("lab"));
  if (!text) return Ok();
  try {
    nlohmann::json plan = nlohmann::json::parse(*text);
    if (!plan.contains("tasks")) plan["tasks"] = nlohmann::json::array();
    return store.SetMeta("lab", plan.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } catch (const std::exception& e) {
    return MakeError("{}: cannot upgrade the stored plan from schema 2: {}; rerun the lab into a new folder",
                     store.path(), e.what());
  }
}

}  // namespace

Status PrepareStore(ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(int version, StoredSchema(store));
  if (version == kStoreSchema) return Ok();
  if (version > kStoreSchema) return CheckStoreSchema(store);
  QL_ASSIGN_OR_RETURN(auto tx, Transaction::Start(store));
  if (version == 1) {
    QL_RETURN_IF_ERROR(UpgradePlanFrom1(store));
    QL_RETURN_IF_ERROR(UpgradeSpeedRowsFrom1(store));
  }
  if (version <= 2) QL_RETURN_IF_ERROR(UpgradePlanFrom2(store));
  QL_RETURN_IF_ERROR(store.SetMeta(kSchemaMeta, std::to_string(kStoreSchema)));
  return tx.Commit();
}

Status CheckStoreSchema(const ResultsStore& store) {
  QL_ASSIGN_OR_RETURN(int version, StoredSchema(store));
  if (version == kStoreSchema || version == 0) return Ok();
  if (version > kStoreSchema) {
    return MakeError("{}: written by a newer quantlab (store schema {}, this one reads {}); use that version",
                     store.path(), version, kStoreSchema);
  }
  return MakeError(
      "{}: written by an older quantlab (store schema {}, this one reads {}); `quantlab run` or "
      "`quantlab report` on its folder upgrades it",
      store.path(), version, kStoreSchema);
}

}  // namespace quantlab::lab
