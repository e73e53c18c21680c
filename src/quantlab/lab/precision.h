// Adaptive precision (issue 13, item 2): when has a format been measured on enough chunks to be ranked?
// The lab's question is relative, and paired differences against the base settle long before each
// format's own perplexity does, so a format can stop once
//   - its paired 95% CI on the perplexity increase is narrow enough to rank it: half-width at most
//     max(0.05 percentage points, 10% of the format's damage), the damage being the larger of its measured
//     increase and the increase its mean KLD implies (exp(KLD) - 1: on text the base model predicts well,
//     the expected log-perplexity increase equals the mean KLD). The KLD term matters where the measured
//     increase is noise around zero although the format changes the predictions (a model that does not
//     predict the text, such as a random-weight one): 10% of a noisy near-zero increase is a target no
//     number of chunks reaches, while the KLD, known to 5%, says how much the format changes. And
//   - its mean KLD is known to 5% (standard error over chunks / mean),
// after a minimum number of chunks. Chunks are the units (tokens inside a chunk are correlated), taken
// in a seeded random order so that any prefix is an unbiased sample. A pure function of per-chunk data.
#pragma once

#include <span>

namespace quantlab::lab {

struct PrecisionTarget {
  int min_chunks = 10;
  double ci_half_pp = 0.05;           // absolute floor of the CI half-width, percentage points
  double ci_half_of_increase = 0.10;  // fraction of the format's damage (measured or KLD-implied increase)
  double kld_rel_stderr = 0.05;
};

struct Precision {
  int chunks = 0;
  double increase_pct = 0;        // perplexity increase over the base, %
  double ci_half_pp = 0;          // half-width of its paired 95% CI, percentage points (NaN below 2 chunks)
  double ci_half_allowed_pp = 0;  // the half-width the target allows, percentage points
  double kld_rel_stderr = 0;  // standard error of the mean KLD over chunks / mean KLD (NaN when undefined)
  bool enough = false;        // the target is met
};

// `base_nll`, `nll`: per-chunk mean NLL of the base and the format on the same chunks, in the order
// evaluated; `kld`: per-chunk mean KLD (empty for the base itself, which needs no precision of its own).
Precision AssessPrecision(std::span<const double> base_nll, std::span<const double> nll,
                          std::span<const double> kld, const PrecisionTarget& target = {});

}  // namespace quantlab::lab
