#include "quantlab/recipes/model_facts.h"

#include <fmt/format.h>

#include <optional>

namespace quantlab {
namespace {

// A per-layer count may be stored as one integer or as an array with one entry per layer.
std::optional<std::vector<int64_t>> ReadCounts(const GgufMetadata& metadata, const std::string& key) {
  const GgufValue* value = metadata.Find(key);
  if (value == nullptr) return std::nullopt;
  std::vector<int64_t> counts;
  if (const GgufArray* array = value->AsArray()) {
    for (const auto& item : array->items) {
      auto n = item.AsInt();
      if (!n) return std::nullopt;
      counts.push_back(*n);
    }
  } else if (auto n = value->AsInt()) {
    counts.push_back(*n);
  }
  if (counts.empty()) return std::nullopt;
  return counts;
}

}  // namespace

bool ModelFacts::is_70b() const {
  if (n_layer != 80) return false;
  if (arch == "llama") return n_expert != 8 && n_head != n_head_kv;
  return arch == "deci" || arch == "qwen2" || arch == "olmo";
}

Result<ModelFacts> ReadModelFacts(const GgufMetadata& metadata) {
  ModelFacts facts;
  auto arch = metadata.GetString("general.architecture");
  if (!arch) return MakeError("metadata key general.architecture is missing or not a string");
  facts.arch = *arch;

  const std::string block_count_key = facts.arch + ".block_count";
  auto n_layer = metadata.GetInt(block_count_key);
  if (!n_layer || *n_layer < 0 || *n_layer > 100000) {
    return MakeError("metadata key {} is missing or not a layer count", block_count_key);
  }
  facts.n_layer = static_cast<int32_t>(*n_layer);

  const std::string head_key = facts.arch + ".attention.head_count";
  const std::string head_kv_key = facts.arch + ".attention.head_count_kv";
  auto heads = ReadCounts(metadata, head_key);
  auto heads_kv = ReadCounts(metadata, head_kv_key);
  if (metadata.Contains(head_kv_key) && !heads_kv) {
    return MakeError("metadata key {} is not an integer or an integer array", head_kv_key);
  }
  if (heads) facts.n_head = static_cast<int32_t>((*heads)[0]);
  facts.n_head_kv = heads_kv ? static_cast<int32_t>((*heads_kv)[0]) : facts.n_head;

  facts.n_attn_layers = facts.n_layer;
  if (heads_kv && heads_kv->size() > 1) {
    for (int64_t n : *heads_kv) facts.n_attn_layers -= (n == 0);
  } else if (facts.n_head_kv == 0) {
    facts.n_attn_layers = 0;
  }

  facts.n_expert = static_cast<int32_t>(metadata.GetInt(facts.arch + ".expert_count").value_or(0));
  return facts;
}

}  // namespace quantlab
