// The version of what a results store's rows and plan hold, kept in meta "schema", so that a store is
// never read with another version's meaning.
//
//   1  (no "schema" meta) quantlab before the typed row model: speed rows without their repetitions,
//      the plan's settings as JSON strings, no cache size in the machine summary.
//   2  speed rows carry `repetitions`; the plan's settings are JSON objects; the machine has llc_bytes.
//   3  task rows (kind "task": one task scored by one format) and the plan's task sets (`tasks`); a
//      schema-2 store had neither, so its upgrade adds an empty list of task sets.
#pragma once

#include "quantlab/lab/store.h"
#include "quantlab/util/result.h"

namespace quantlab::lab {

inline constexpr int kStoreSchema = 3;

// Brings an open store to kStoreSchema before a run or a report uses it: marks a new store; upgrades a
// schema-1 or schema-2 store in one transaction, exactly (what schema 1 lacks is recorded in its keys;
// schema 2 had no task sets), keeping every measurement and its time; refuses a store written by a newer
// quantlab. When a schema-1 store cannot be upgraded the error says so and that it must be measured again.
Status PrepareStore(ResultsStore& store);

// Ok when the store holds kStoreSchema; otherwise an error saying which quantlab wrote it.
Status CheckStoreSchema(const ResultsStore& store);

}  // namespace quantlab::lab
