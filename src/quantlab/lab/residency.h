// Which formats the lab keeps mapped together while it evaluates them (--mem-limit). When every format
// fits, one pass evaluates them all against the base chunk by chunk (the one-pass evaluation). When they
// do not, the lab goes format by format: the base first, writing its log-probabilities to an on-disk
// cache (base_cache.h), then the candidates in groups that fit, reading the base from the cache; when
// the disk cannot hold the cache, each group of candidates is evaluated next to the base instead.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace quantlab::lab {

struct EvalPass {
  bool base_session = false;       // the base is loaded and evaluated in this pass
  bool writes_cache = false;       // its log-probabilities go to the cache (the format-by-format base pass)
  bool reads_cache = false;        // the base's log-probabilities come from the cache
  std::vector<size_t> candidates;  // indices of the non-base formats loaded in this pass
};

enum class Residency { kAllResident, kFormatByFormat, kBaseWithEachGroup };

struct ResidencyPlan {
  Residency mode = Residency::kAllResident;
  std::vector<EvalPass> passes;
};

// `bytes[i]`: the memory format i needs while loaded (index `base` is the base). Never more than fits in
// `mem_limit` is loaded at once, except that a pass always holds at least one model (and, without the
// cache, the base and one candidate). `cache_fits`: the disk can hold the base cache.
ResidencyPlan PlanResidency(std::span<const uint64_t> bytes, size_t base, uint64_t mem_limit,
                            bool cache_fits);

// The default --mem-limit: available memory less a margin (10%, at least 512 MiB) for the rest of the
// machine and the lab's own buffers.
uint64_t DefaultMemLimit(uint64_t available_bytes);

}  // namespace quantlab::lab
