// The words: every answer, decision table, finding text, reasoning line and caveat, phrased from the
// decisions Analyze() has already made. Nothing here decides.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <span>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "quantlab/analysis/analysis.h"
#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/detail.h"
#include "quantlab/analysis/stats.h"
#include "quantlab/analysis/ties.h"

namespace quantlab::analysis::detail {
namespace {

bool Finite(double v) { return std::isfinite(v); }

std::string Join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
  return s.empty() ? "none" : s;
}

const FormatPoint* Base(const Analysis& a) {
  for (const auto& p : a.points) {
    if (p.is_base) return &p;
  }
  return nullptr;
}

std::vector<const FormatPoint*> BySizeAscending(const Analysis& a) {
  std::vector<const FormatPoint*> v;
  for (const auto& p : a.points) {
    if (Finite(p.bytes)) v.push_back(&p);
  }
  std::stable_sort(v.begin(), v.end(), [](auto* x, auto* y) { return x->bytes < y->bytes; });
  return v;
}

std::string LossText(const FormatPoint& p) {
  if (Finite(p.loss_lo) && Finite(p.loss_hi) && !p.is_base) {
    return fmt::format("{} (95% CI {} to {})", FormatPct(p.loss_pct), FormatPct(p.loss_lo),
                       FormatPct(p.loss_hi));
  }
  return FormatPct(p.loss_pct);
}

std::string SpeedText(const FormatPoint& p) {
  if (Finite(p.tg_lo) && Finite(p.tg_hi)) {
    return fmt::format("{:.1f} tok/s (95% CI {:.1f} to {:.1f})", p.tg_tps, p.tg_lo, p.tg_hi);
  }
  return fmt::format("{:.1f} tok/s", p.tg_tps);
}

std::string WeightsText(const ScoreWeights& w) {
  return fmt::format("{:.0f}/{:.0f}/{:.0f}", w.size * 100, w.quality * 100, w.speed * 100);
}

bool AnySpeedInterval(const Analysis& a) {
  return std::any_of(a.points.begin(), a.points.end(), [](const FormatPoint& p) { return Finite(p.tg_lo); });
}

// "(1.58x the base)" only where speed counts and the difference from the base is established.
std::string SpeedupText(const Analysis& a, const FormatPoint& p, const FormatPoint* base, const char* form) {
  if (!base || &p == base || !SpeedCounts(a.speed_regime) || CompareSpeed(p, *base) == Order::kTied)
    return "";
  return fmt::format(fmt::runtime(form), p.tg_tps / base->tg_tps);
}

bool HasFinding(const Analysis& a, Finding::Kind kind) {
  return std::any_of(a.findings.begin(), a.findings.end(), [&](const Finding& f) { return f.kind == kind; });
}

void AddAnswer(Analysis& a, std::string id, std::string q, std::string ans, std::string basis) {
  a.answers.push_back({std::move(id), std::move(q), std::move(ans), std::move(basis)});
}

// ---- individual questions -------------------------------------------------------------------------

void AnswerSizeAndQuality(const LabResults& r, Analysis& a) {
  const FormatPoint* base = Base(a);
  auto sorted = BySizeAscending(a);
  std::vector<std::string> basis;
  for (auto* p : sorted) {
    basis.push_back(fmt::format("{} {} ({:.2f}x smaller)", p->format, FormatBytes(p->bytes),
                                base ? base->bytes / p->bytes : kNaN));
  }
  if (!sorted.empty()) {
    AddAnswer(
        a, "size", "How large is each format?",
        fmt::format("From {} ({}) down to {} ({}).", sorted.back()->format, FormatBytes(sorted.back()->bytes),
                    sorted.front()->format, FormatBytes(sorted.front()->bytes)),
        Join(basis, "; "));
  }
  std::vector<std::string> qb;
  for (const auto& p : a.points) {
    if (!p.is_base) qb.push_back(fmt::format("{} {}", p.format, LossText(p)));
  }
  const FormatPoint* worst = nullptr;
  for (const auto& p : a.points) {
    if (Finite(p.loss_pct) && (!worst || p.loss_pct > worst->loss_pct)) worst = &p;
  }
  if (worst) {
    AddAnswer(
        a, "quality", "How much perplexity does each format lose against the base?",
        fmt::format("The largest increase is {}'s {} (averaged over {} data set(s)); paired intervals over "
                    "the same chunks decide the ranking, and differences inside them count as ties.",
                    worst->format, FormatPct(worst->loss_pct), r.datasets.size()),
        Join(qb, "; "));
  }
  std::vector<std::string> basis2;
  for (const auto& p : a.points) {
    if (p.is_base || !Finite(p.loss_pct)) continue;
    basis2.push_back(fmt::format(
        "{} {}{}", p.format, FormatPct(p.loss_pct),
        Finite(p.loss_hi) && p.loss_pct <= 2.0 && p.loss_hi > 2.0 ? " (CI reaches past 2%)" : ""));
  }
  AddAnswer(a, "within_2pct", "Which formats stay within a 2% perplexity increase?",
            a.within_2pct.empty() ? "None of the quantized formats." : Join(a.within_2pct) + ".",
            Join(basis2, "; "));
}

// "NAME+imatrix" beside "NAME": what the importance matrix changes, paired over the chunks both took on the
// primary data set (per-chunk NLL of one minus the other). Stated as a gain only where the CI excludes 0.
void AnswerImatrixGain(const LabResults& r, Analysis& a) {
  if (r.datasets.empty()) return;
  const std::string& primary = r.datasets.front();
  std::vector<std::string> lines, basis;
  for (const auto& f : r.formats) {
    constexpr std::string_view kSuffix = "+imatrix";
    if (f.name.size() <= kSuffix.size() || !f.name.ends_with(kSuffix)) continue;
    const std::string plain = f.name.substr(0, f.name.size() - kSuffix.size());
    const PerplexityResult* with = r.Ppl(f.name, primary);
    const PerplexityResult* without = r.Ppl(plain, primary);
    if (!with || !without) continue;
    const std::vector<double> x = ChunkMeans(*with), y = ChunkMeans(*without);
    const size_t n = std::min(x.size(), y.size());
    if (n < 2) continue;
    const PairedDifference d = PairedMeanDifference(std::span(x).first(n), std::span(y).first(n));
    const double pct = (std::exp(d.mean) - 1.0) * 100.0, lo = (std::exp(d.lo) - 1.0) * 100.0,
                 hi = (std::exp(d.hi) - 1.0) * 100.0;
    const char* verdict = hi < 0   ? "the importance matrix lowers perplexity"
                          : lo > 0 ? "the importance matrix raises perplexity"
                                   : "no difference is established";
    lines.push_back(fmt::format("{} against {}: {}", f.name, plain, verdict));
    basis.push_back(fmt::format("{} vs {}: perplexity {} (95% CI {} to {}), paired over {} chunks of {}",
                                f.name, plain, FormatPct(pct), FormatPct(lo), FormatPct(hi), n, primary));
  }
  if (lines.empty()) return;
  AddAnswer(a, "imatrix_gain", "What does the importance matrix change?", Join(lines, "; ") + ".",
            Join(basis, "; "));
}

void AnswerEliminate(Analysis& a) {
  const FormatPoint* pick = a.Point(a.eliminate.format);
  if (!pick) return;
  if (const FormatPoint* d = a.Point(a.eliminate.dominated_by)) {
    AddAnswer(
        a, "eliminate", "Which format should be eliminated?",
        fmt::format("{}: it is dominated by {}, which is no larger and whose quality is not established "
                    "worse.",
                    pick->format, d->format),
        fmt::format("{} {} at {}; {} {} at {}", pick->format, FormatBytes(pick->bytes), LossText(*pick),
                    d->format, FormatBytes(d->bytes), LossText(*d)));
    return;
  }
  std::string basis;
  for (size_t i = 0; i + 1 < a.quality_front.size(); ++i) {
    const FormatPoint* p = a.Point(a.quality_front[i]);
    const FormatPoint* q = a.Point(a.quality_front[i + 1]);
    const double cost = (p->loss_pct - q->loss_pct) / ((q->bytes - p->bytes) / 1e6);
    basis += fmt::format("{}{} vs {}: {:.3f} pp per MB saved", basis.empty() ? "" : "; ", p->format,
                         q->format, cost);
  }
  AddAnswer(a, "eliminate", "Which format should be eliminated?",
            fmt::format("No format is dominated. Apart from the recommendation, {} makes the worst trade: "
                        "{:.3f} percentage points of perplexity per MB saved over the next larger format.",
                        pick->format, a.eliminate.cost_pp_per_mb),
            basis);
}

std::string SpeedRegimeText(const LabResults& r, const Analysis& a) {
  switch (a.speed_regime) {
    case SpeedRegime::kOverheadBound:
      return fmt::format(
          " Weights fit in the {} last-level cache, so speed here is bound by per-token overheads, not "
          "memory bandwidth: it does not predict speed on large models and does not decide anything.",
          FormatBytes(static_cast<double>(r.machine.llc_bytes)));
    case SpeedRegime::kMemoryBound:
      return " Every format is larger than the last-level cache: speed is bound by memory bandwidth.";
    case SpeedRegime::kUnknown:
      break;
  }
  return "";
}

void AnswerSpeed(const LabResults& r, Analysis& a) {
  const FormatPoint* base = Base(a);
  const FormatPoint* fastest = nullptr;
  std::vector<std::string> basis;
  for (const auto& p : a.points) {
    if (!Finite(p.tg_tps)) continue;
    if (!fastest || p.tg_tps > fastest->tg_tps) fastest = &p;
    basis.push_back(fmt::format("{} pp {:.1f} / tg {} ({:.2f}x)", p.format, p.pp_tps, SpeedText(p),
                                base ? p.tg_tps / base->tg_tps : kNaN));
  }
  if (!fastest) return;
  std::vector<std::string> tied;
  for (const auto& p : a.points) {
    if (&p != fastest && Finite(p.tg_tps) && CompareSpeed(p, *fastest) == Order::kTied)
      tied.push_back(p.format);
  }
  std::string ties;
  if (!AnySpeedInterval(a)) {
    ties = " No repetitions were recorded, so no speed difference is established.";
  } else if (!tied.empty()) {
    ties = fmt::format(" Its lead over {} is inside the 95% CIs: a tie.", Join(tied));
  }
  AddAnswer(a, "speed", "How fast is each format, and what speedup does it give?",
            fmt::format("{} generates fastest at {}{}, on {} with {} threads.{}{}", fastest->format,
                        SpeedText(*fastest), SpeedupText(a, *fastest, base, ", {:.2f}x the base"),
                        r.machine.cpu_model, r.machine.threads, ties, SpeedRegimeText(r, a)),
            Join(basis, "; "));
}

void DecisionMatrix(Analysis& a) {
  Table t{"decision",
          "Decision matrix",
          "Stars from the measurements. Size, speed (tg) and memory: 1 + round(4 x s), s = (value - worst) / "
          "(best - worst) over this lab's formats. Quality: fixed bands of PPL increase: <=0.5% 5, <=1% 4, "
          "<=3% 3, <=10% 2, else 1.",
          {"Format", "Size", "Quality", "Speed", "Memory", "Size stars", "Quality stars", "Speed stars",
           "Memory stars"},
          {}};
  auto minmax = [&](auto get, bool higher_better) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& p : a.points) {
      if (Finite(get(p))) {
        lo = std::min(lo, get(p));
        hi = std::max(hi, get(p));
      }
    }
    return [=](double v) {
      if (!Finite(v)) return kNaN;
      if (hi <= lo) return 1.0;
      const double s = (v - lo) / (hi - lo);
      return higher_better ? s : 1 - s;
    };
  };
  auto size_s = minmax([](const FormatPoint& p) { return p.bytes; }, false);
  auto speed_s = minmax([](const FormatPoint& p) { return p.tg_tps; }, true);
  auto mem_s = minmax([](const FormatPoint& p) { return p.ram_bytes; }, false);
  for (const auto& p : a.points) {
    const int ss = StarsFromScore(size_s(p.bytes)), qs = QualityStars(p.loss_pct),
              vs = StarsFromScore(speed_s(p.tg_tps)), ms = StarsFromScore(mem_s(p.ram_bytes));
    t.rows.push_back({Cell::Text(p.format), Cell::Text(StarString(ss)), Cell::Text(StarString(qs)),
                      Cell::Text(StarString(vs)), Cell::Text(StarString(ms)), Cell::Num(ss, 0),
                      Cell::Num(qs, 0), Cell::Num(vs, 0), Cell::Num(ms, 0)});
  }
  a.tables.push_back(t);
}

void AnswerRam(const LabResults& r, Analysis& a) {
  std::vector<std::string> basis;
  for (const auto& p : a.points) {
    if (Finite(p.ram_bytes)) basis.push_back(fmt::format("{} {}", p.format, FormatBytes(p.ram_bytes)));
  }
  if (r.ram_budget_bytes == 0) {
    AddAnswer(a, "ram", "What fits in the RAM budget?",
              "No RAM budget was given; RAM needed per format is listed.", Join(basis, "; "));
    return;
  }
  AddAnswer(
      a, "ram", "What fits in the RAM budget?",
      fmt::format("With a budget of {}: {}.", FormatBytes(double(r.ram_budget_bytes)), Join(a.fits_budget)),
      "RAM needed at a context of " + std::to_string(r.context) + " tokens: " + Join(basis, "; "));
}

void AnswerSweetSpot(Analysis& a) {
  const FormatPoint* p = a.Point(a.sweet_spot);
  if (!p) return;
  std::vector<std::string> basis;
  for (const auto& name : a.quality_front) {
    const FormatPoint* q = a.Point(name);
    basis.push_back(fmt::format("{} {} {}", q->format, FormatBytes(q->bytes), FormatPct(q->loss_pct)));
  }
  AddAnswer(a, "sweet_spot", "Where is the sweet spot (knee of the size-quality front)?",
            fmt::format(
                "{} at {} with {} perplexity increase. (Knee: with size and loss scaled to [0,1] between the "
                "front's ends, the front point farthest below the straight line joining them.)",
                p->format, FormatBytes(p->bytes), FormatPct(p->loss_pct)),
            "Front, small to large: " + Join(basis, "; "));
}

double TotalOf(const std::vector<ScoreRow>& rows, const std::string& format) {
  for (const auto& s : rows) {
    if (s.format == format) return s.total;
  }
  return kNaN;
}

void ScoreTables(const LabResults& r, Analysis& a) {
  Table t{
      "score",
      "Multi-metric score",
      fmt::format(
          "score = (w_size*S + w_quality*Q + w_speed*V) / (w_size + w_quality + w_speed); S = (largest size "
          "- "
          "size) / (largest - smallest), Q and V the same on loss and tg after formats that cannot be told "
          "apart are tied: ordered best first, formats are cut into groups in which no two differ by an "
          "established amount (paired 95% CI for quality, disjoint 95% CIs for speed), and each takes its "
          "group's mean. {}Lab weights {}; speed-first {}. Winners and the recommendation are chosen among "
          "the size-quality front's formats.",
          SpeedCounts(a.speed_regime) ? "" : "Speed here is overhead-bound, so every format gets V = 1. ",
          WeightsText(r.weights), WeightsText(kSpeedFirstWeights)),
      {"Format", "Size score", "Quality score", "Speed score", "Score (lab weights)", "Score (speed-first)"},
      {}};
  for (size_t i = 0; i < a.scores.size(); ++i) {
    const auto& s = a.scores[i];
    t.rows.push_back({Cell::Text(s.format), Cell::Num(s.size_score, 3), Cell::Num(s.quality_score, 3),
                      Cell::Num(s.speed_score, 3), Cell::Num(s.total, 3),
                      Cell::Num(a.speed_first_scores[i].total, 3)});
  }
  a.tables.push_back(t);
  Table m{"winner_map",
          "Winner over the weight simplex",
          "Share of a grid of weight combinations (step 0.05, 231 points with w_size + w_quality + w_speed = "
          "1) that each format on the size-quality front wins.",
          {"Format", "Share of weight space (%)"},
          {}};
  for (const auto& [name, share] : a.winner_map.share)
    m.rows.push_back({Cell::Text(name), Cell::Num(share * 100, 1)});
  a.tables.push_back(m);

  std::vector<std::string> b;
  for (size_t i = 0; i < a.scores.size(); ++i) {
    b.push_back(fmt::format("{} {:.3f} / {:.3f}", a.scores[i].format, a.scores[i].total,
                            a.speed_first_scores[i].total));
  }
  AddAnswer(
      a, "score",
      "Which format wins the multi-metric score, and does the winner change with speed-first weights?",
      fmt::format("With the lab's weights ({} size/quality/speed) {} wins with {:.3f}. With speed-first "
                  "weights ({}) {} wins with {:.3f}: the winner {}.",
                  WeightsText(r.weights), a.winner, TotalOf(a.scores, a.winner),
                  WeightsText(kSpeedFirstWeights), a.speed_first_winner,
                  TotalOf(a.speed_first_scores, a.speed_first_winner),
                  !a.speed_decides ? "does not change (no speed difference counts on this model, so the "
                                     "speed-first weights cannot favour a faster format)"
                  : a.winner == a.speed_first_winner ? "does not change"
                                                     : "changes"),
      "lab / speed-first scores: " + Join(b, "; "));
  std::vector<std::string> shares;
  std::vector<std::pair<double, std::string>> ordered;
  for (const auto& [name, share] : a.winner_map.share) ordered.push_back({share, name});
  std::sort(ordered.rbegin(), ordered.rend());
  for (const auto& [share, name] : ordered) shares.push_back(fmt::format("{} {:.0f}%", name, share * 100));
  AddAnswer(a, "winner_map", "Over all weight combinations, which format wins where?",
            fmt::format("{} formats win somewhere on the weight simplex; {} wins the largest region.",
                        a.winner_map.share.size(), ordered.empty() ? "none" : ordered.front().second),
            "Share of weight space won: " + Join(shares, "; "));
}

void Generation(const LabResults& r, Analysis& a) {
  Table t{"generation",
          "Greedy continuations vs the base",
          "Agreement = tokens identical to the base's greedy continuation before the first difference.",
          {"Format", "Prompt", "Agreement (tokens)", "First divergence", "Tokens"},
          {}};
  std::vector<double> loss_x, div_y;
  std::map<std::string, std::vector<double>> per_format;
  for (const auto& s : r.samples) {
    const FormatPoint* p = a.Point(s.format);
    if (!p || p->is_base || s.agreement_tokens < 0) continue;
    const double n = std::max<double>(1.0, static_cast<double>(s.greedy_tokens.size()));
    const double divergence = 1.0 - s.agreement_tokens / n;
    t.rows.push_back({Cell::Text(s.format), Cell::Num(s.prompt_index + 1, 0),
                      Cell::Num(s.agreement_tokens, 0),
                      s.first_divergence < 0 ? Cell::Text("none") : Cell::Num(s.first_divergence, 0),
                      Cell::Num(double(s.greedy_tokens.size()), 0)});
    loss_x.push_back(p->loss_pct);
    div_y.push_back(divergence);
    per_format[s.format].push_back(divergence);
  }
  a.tables.push_back(t);
  if (div_y.empty()) return;
  const double rho = Spearman(loss_x, div_y);
  std::vector<double> fx, fy;
  std::vector<std::string> basis;
  for (const auto& [name, divs] : per_format) {
    fx.push_back(a.Point(name)->loss_pct);
    fy.push_back(Mean(divs));
    basis.push_back(
        fmt::format("{} {} / mean divergence {:.2f}", name, FormatPct(a.Point(name)->loss_pct), Mean(divs)));
  }
  const double rho_formats = Spearman(fx, fy);
  auto rho_text = [](double v) { return Finite(v) ? fmt::format("{:+.2f}", v) : std::string("undefined"); };
  AddAnswer(
      a, "correlation", "How well does perplexity increase predict generation divergence?",
      fmt::format(
          "Spearman's rho between a format's PPL increase and its greedy divergence (1 - agreement / "
          "tokens) is {} over {} format x prompt pairs, and {} over the {} per-format means. Caveat: "
          "with few formats and prompts these are rough; every prompt of a format shares one PPL figure, "
          "and greedy decoding amplifies one early different token into a wholly different text, so "
          "divergence is a noisy, all-or-nothing measure that PPL (an average over many tokens) cannot "
          "predict for a single prompt.",
          rho_text(rho), div_y.size(), rho_text(rho_formats), fx.size()),
      Join(basis, "; "));
}

void MinimumFormatTable(const LabResults& r, Analysis& a) {
  const char* use_cases[] = {"Exacting", "General use", "Tolerant"};
  static_assert(std::size(use_cases) == std::size(kUseCaseMaxLossPct));
  Table t{"min_format",
          "Minimum acceptable format per use case and domain",
          a.task_comparisons.empty()
              ? "Smallest format whose paired 95% CI upper bound of the PPL increase on that data set stays "
                "within the use case's tolerance (the point estimate when no CI is available)."
              : "Smallest format whose paired 95% CI upper bound of the PPL increase on that data set stays "
                "within the use case's tolerance (the point estimate when no CI is available) and whose task "
                "results do not establish an accuracy drop beyond 1 / 3 / 10 points on any task set (the "
                "whole 95% interval of its change below that).",
          {"Data set"},
          {}};
  for (size_t k = 0; k < std::size(use_cases); ++k)
    t.columns.push_back(fmt::format("{} (<={:g}%)", use_cases[k], kUseCaseMaxLossPct[k]));
  std::vector<std::string> basis;
  for (size_t i = 0; i < r.datasets.size() && i < a.minimum_formats.size(); ++i) {
    std::vector<Cell> row{Cell::Text(r.datasets[i])};
    for (const auto& pick : a.minimum_formats[i]) row.push_back(Cell::Text(pick));
    basis.push_back(r.datasets[i] + ": " + Join(a.minimum_formats[i], " / "));
    t.rows.push_back(row);
  }
  a.tables.push_back(t);
  std::string answer = r.datasets.size() > 1
                           ? "See the table: the answer differs by domain where the rows differ."
                           : "Only one data set was given, so there is one domain; see the table.";
  if (!a.task_comparisons.empty()) {
    std::vector<std::string> stricter;
    for (size_t i = 0; i < a.minimum_formats.size() && i < a.minimum_formats_ppl_only.size(); ++i) {
      for (size_t k = 0; k < a.minimum_formats[i].size(); ++k) {
        if (a.minimum_formats[i][k] != a.minimum_formats_ppl_only[i][k]) {
          stricter.push_back(fmt::format("{} {}: {} instead of {}", r.datasets[i], use_cases[k],
                                         a.minimum_formats[i][k], a.minimum_formats_ppl_only[i][k]));
        }
      }
    }
    answer += stricter.empty()
                  ? " The task results rule out none of perplexity's picks."
                  : " The task results rule out picks perplexity alone would make, establishing a larger "
                    "accuracy drop: " +
                        Join(stricter, "; ") + ".";
    // A pick the tasks neither rule out nor confirm: say so, without claiming a loss.
    std::vector<std::string> unconfirmed;
    for (size_t i = 0; i < a.minimum_formats.size(); ++i) {
      for (size_t k = 0; k < a.minimum_formats[i].size(); ++k) {
        const std::string& pick = a.minimum_formats[i][k];
        if (pick == "none" || TasksConfirm(a.task_comparisons, pick, kUseCaseMaxAccuracyDropPts[k])) continue;
        const double pts = kUseCaseMaxAccuracyDropPts[k];
        unconfirmed.push_back(fmt::format("{} {} ({} within {:g} accuracy point{})", r.datasets[i],
                                          use_cases[k], pick, pts, pts == 1 ? "" : "s"));
      }
    }
    if (!unconfirmed.empty()) {
      answer +=
          " The tasks are too few to confirm these picks either way (their accuracy intervals reach "
          "past the tolerance, without establishing a drop): " +
          Join(unconfirmed, "; ") + ".";
    }
  }
  AddAnswer(a, "min_format", "What is the minimum acceptable format per use case and domain?", answer,
            Join(basis, "; "));
}

std::string FindingText(const LabResults& r, const Analysis& a, const Finding& f) {
  const FormatPoint* p = a.Point(f.format);
  const FormatPoint* other = f.others.empty() ? nullptr : a.Point(f.others.front());
  switch (f.kind) {
    case Finding::Kind::kDominated:
      return fmt::format(
          "{} is dominated: {} is no larger ({} vs {}) and its quality is not established worse ({} vs {}).",
          p->format, other->format, FormatBytes(other->bytes), FormatBytes(p->bytes), LossText(*other),
          LossText(*p));
    case Finding::Kind::kBetterThanBase:
      return fmt::format("{} scores a lower perplexity than the base ({}), beyond the paired 95% CI.",
                         p->format, LossText(*p));
    case Finding::Kind::kDomainSensitive:
      return fmt::format("{} suffers more on '{}' ({}) than on '{}' ({}), beyond both paired 95% CIs.",
                         p->format, f.others.front(), FormatPct(f.values[0]), a.primary_dataset,
                         FormatPct(f.values[1]));
    case Finding::Kind::kPplKldDisagree:
      return fmt::format(
          "Perplexity and KLD disagree on {} vs {}: PPL increase {} vs {}, but KLD {:.5f} vs {:.5f} (both "
          "differences established).",
          p->format, other->format, FormatPct(p->loss_pct), FormatPct(other->loss_pct), p->kld, other->kld);
    case Finding::Kind::kSpeedNotFollowingSize: {
      std::vector<std::string> faster;
      for (const auto& name : f.others) {
        const FormatPoint* q = a.Point(name);
        faster.push_back(fmt::format("{} ({}, {})", q->format, FormatBytes(q->bytes), SpeedText(*q)));
      }
      return fmt::format(
          "Speed does not follow size: {} ({}) generates at {}, slower beyond the 95% CIs than the larger "
          "{}.",
          p->format, FormatBytes(p->bytes), SpeedText(*p), Join(faster));
    }
    case Finding::Kind::kSpeedOverheadBound:
      return fmt::format(
          "Speed on this model does not predict speed on large models: {} (at most {}) fit in the {} "
          "last-level cache, so generation is bound by per-token overheads rather than memory bandwidth "
          "and formats cannot be compared on speed. Speed does not decide the scores or the recommendation "
          "here.",
          f.values[1] >= f.values[2] ? "its weights" : "the weights of its smaller formats",
          FormatBytes(f.values[1]), FormatBytes(f.values[0]));
    case Finding::Kind::kSpeedNotEstablished:
      return AnySpeedInterval(a)
                 ? "No speed difference is established: every pair of 95% CIs overlaps, so speed is a tie."
                 : "No speed difference is established: the runs behind each speed were not recorded, so "
                   "speed counts as a tie.";
    case Finding::Kind::kTiedWithBase:
      return fmt::format(
          "The perplexity of {} is not established different from the base's (the paired 95% CI of the "
          "increase includes zero): a tie.",
          Join(f.others));
  }
  (void)r;
  return "";
}

void PhraseFindings(const LabResults& r, Analysis& a) {
  for (const auto& f : a.findings) a.finding_texts.push_back(FindingText(r, a, f));
  if (a.finding_texts.empty())
    a.finding_texts.push_back("No anomalies: quality falls and speed rises as size falls, in order.");
  AddAnswer(a, "findings", "What are the most surprising findings?", a.finding_texts.front(),
            Join(a.finding_texts, " "));
}

void Reasoning(const LabResults& r, Analysis& a) {
  const FormatPoint* p = a.Point(a.recommendation);
  const FormatPoint* base = Base(a);
  if (!p) {
    a.reasoning =
        "No format on the size-quality front has the measurements needed for a recommendation (or none fits "
        "the RAM budget).";
    return;
  }
  std::string speed_note;
  if (!SpeedCounts(a.speed_regime)) {
    speed_note =
        " Speed did not count: the weights fit in the last-level cache, where speed does not predict "
        "speed on large models.";
  } else if (HasFinding(a, Finding::Kind::kSpeedNotEstablished)) {
    speed_note = " No speed difference is established, so speed counted as a tie.";
  }
  a.reasoning = fmt::format(
      "{} has the best score ({:.3f}) with the lab's weights among {}: it is {} ({:.2f}x smaller than {}), "
      "its perplexity increase is {}{}, and {}. Differences inside the 95% CIs count as "
      "ties.{} The knee of the size-quality front is {}.",
      p->format, TotalOf(a.scores, p->format),
      r.ram_budget_bytes ? "the size-quality front's formats that fit the RAM budget"
                         : "the formats on the size-quality front",
      FormatBytes(p->bytes), base ? base->bytes / p->bytes : kNaN, base ? base->format : "the base",
      LossText(*p), Finite(p->kld) ? fmt::format(" (mean KLD {:.5f})", p->kld) : "",
      // A lab run with --skip-speed has no speed to state.
      Finite(p->tg_tps) ? "it generates at " + SpeedText(*p) + SpeedupText(a, *p, base, " ({:.2f}x the base)")
                        : std::string("its speed was not measured"),
      speed_note, a.sweet_spot);
}

void Caveats(const LabResults& r, Analysis& a) {
  if (a.recommendation.empty()) return;
  int chunks = 0;
  for (const auto& pr : r.perplexity) chunks = std::max<int>(chunks, static_cast<int>(pr.chunks()));
  a.caveats.push_back(
      fmt::format("Perplexity rests on {} chunk(s) of {} tokens per data set; differences inside the "
                  "paired CI are not established.",
                  chunks, r.context));
  if (!r.unevaluated_base.empty()) {
    a.caveats.push_back(fmt::format(
        "Increases and KLD are measured against {}, not the {} base, which was not evaluated (too large "
        "for the machine, or by request); {} itself shows no loss here.",
        r.base_format, r.unevaluated_base, r.base_format));
  }
  if (!r.imatrix.formats.empty()) {
    a.caveats.push_back(fmt::format(
        "{} {} quantized with an importance matrix ({}, SHA-256 {}); the other formats without one.",
        fmt::join(r.imatrix.formats, ", "), r.imatrix.formats.size() == 1 ? "was" : "were", r.imatrix.source,
        r.imatrix.hash.substr(0, 16)));
    for (const auto& o : r.imatrix.overlaps) {
      const std::string how =
          o.identical ? fmt::format("is the evaluation text '{}'", o.dataset)
                      : fmt::format("shares {:.1f}% of its 64-token runs with the evaluation text '{}'",
                                    100.0 * o.fraction, o.dataset);
      a.caveats.push_back(fmt::format(
          "The calibration text {}: the importance matrix was tuned on text it is measured on, which "
          "flatters {} there; judge the imatrix gain on a text it did not see.",
          how, fmt::join(r.imatrix.formats, ", ")));
    }
  }
  a.caveats.push_back(fmt::format("Speed and memory hold only for this machine ({}, {}, {} threads).",
                                  r.machine.cpu_model, r.machine.simd, r.machine.threads));
  if (a.task_comparisons.empty()) {
    a.caveats.push_back(
        "Perplexity and KLD measure next-token prediction on the given text, not task accuracy; check "
        "the samples on your own prompts.");
  } else {
    int fewest = 0;
    for (const auto& c : a.task_comparisons) fewest = fewest == 0 ? c.n : std::min(fewest, c.n);
    a.caveats.push_back(fmt::format(
        "Task accuracy rests on as few as {} tasks per set: a change inside its 95% interval is not "
        "established, and these tasks stand in for, but are not, your own use.",
        fewest));
  }
  if (a.winner != a.speed_first_winner) {
    a.caveats.push_back(fmt::format("If speed matters most, {} wins instead (speed-first weights {}).",
                                    a.speed_first_winner, WeightsText(kSpeedFirstWeights)));
  }
}

void Summary(const LabResults& r, Analysis& a) {
  const FormatPoint* p = a.Point(a.recommendation);
  const FormatPoint* base = Base(a);
  auto sorted = BySizeAscending(a);
  if (!p || !base || sorted.empty()) {
    a.summary = "The lab could not compare the formats: measurements are missing.";
  } else {
    const FormatPoint* smallest = sorted.front();
    a.summary = fmt::format(
        "We made {} versions of {}, from {} down to {}, and measured how well each predicts real text "
        "(perplexity: lower is better), how fast it runs and how much memory it needs. We recommend {}: it "
        "takes {:.0f}% of the original's space{}, and its predictions are {} than the original's. The "
        "smallest version, {}, is {:.0f}% of the size but {} worse.",
        r.formats.size(), r.model_name.empty() ? std::string("the model") : r.model_name,
        FormatBytes(base->bytes), FormatBytes(smallest->bytes), p->format, 100 * p->bytes / base->bytes,
        SpeedupText(a, *p, base, ", writes text {:.1f}x as fast"),
        QualityDiffersFromBase(*p) ? fmt::format("{:.1f}% worse", std::max(0.0, p->loss_pct))
                                   : std::string("not measurably worse"),
        smallest->format, 100 * smallest->bytes / base->bytes, fmt::format("{:.1f}%", smallest->loss_pct));
  }
  AddAnswer(a, "summary", "In plain words?", a.summary, a.reasoning);
}

}  // namespace

void PhraseDecisions(const LabResults& r, Analysis& a) {
  AnswerSizeAndQuality(r, a);
  AnswerImatrixGain(r, a);
  AnswerEliminate(a);
  AnswerSpeed(r, a);
  DecisionMatrix(a);
  AnswerRam(r, a);
  AnswerSweetSpot(a);
  ScoreTables(r, a);
  Generation(r, a);
  MinimumFormatTable(r, a);
  PhraseTasks(r, a);
  PhraseFindings(r, a);
  Reasoning(r, a);
  Caveats(r, a);
  Summary(r, a);
}

}  // namespace quantlab::analysis::detail
