#include "quantlab/lab/residency.h"

#include <algorithm>
#include <numeric>

namespace quantlab::lab {
namespace {

// Candidates in order, packed greedily into groups of at most `room` bytes (at least one each).
std::vector<std::vector<size_t>> PackCandidates(std::span<const uint64_t> bytes, size_t base, uint64_t room) {
  std::vector<std::vector<size_t>> groups;
  uint64_t used = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == base) continue;
    if (groups.empty() || used + bytes[i] > room) {
      groups.emplace_back();
      used = 0;
    }
    groups.back().push_back(i);
    used += bytes[i];
  }
  return groups;
}

}  // namespace

ResidencyPlan PlanResidency(std::span<const uint64_t> bytes, size_t base, uint64_t mem_limit,
                            bool cache_fits) {
  ResidencyPlan plan;
  const uint64_t total = std::accumulate(bytes.begin(), bytes.end(), uint64_t{0});
  if (total <= mem_limit || bytes.size() <= 1) {
    EvalPass all{.base_session = true};
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (i != base) all.candidates.push_back(i);
    }
    plan.passes.push_back(std::move(all));
    return plan;
  }
  if (cache_fits) {
    plan.mode = Residency::kFormatByFormat;
    plan.passes.push_back({.base_session = true, .writes_cache = true});
    for (auto& group : PackCandidates(bytes, base, mem_limit)) {
      plan.passes.push_back({.reads_cache = true, .candidates = std::move(group)});
    }
    return plan;
  }
  plan.mode = Residency::kBaseWithEachGroup;
  const uint64_t room = mem_limit > bytes[base] ? mem_limit - bytes[base] : 0;
  for (auto& group : PackCandidates(bytes, base, room)) {
    plan.passes.push_back({.base_session = true, .candidates = std::move(group)});
  }
  return plan;
}

uint64_t DefaultMemLimit(uint64_t available_bytes) {
  const uint64_t margin = std::max<uint64_t>(512ull << 20, available_bytes / 10);
  return available_bytes > margin ? available_bytes - margin : 0;
}

}  // namespace quantlab::lab
