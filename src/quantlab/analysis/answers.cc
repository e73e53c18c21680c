// The lab's questions, each answered with the figures it rests on.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "quantlab/analysis/analysis.h"
#include "quantlab/analysis/detail.h"
#include "quantlab/analysis/stats.h"

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
  std::sort(v.begin(), v.end(), [](auto* x, auto* y) { return x->bytes < y->bytes; });
  return v;
}

std::string LossText(const FormatPoint& p) {
  if (Finite(p.loss_lo) && Finite(p.loss_hi) && !p.is_base) {
    return fmt::format("{} (95% CI {} to {})", FormatPct(p.loss_pct), FormatPct(p.loss_lo),
                       FormatPct(p.loss_hi));
  }
  return FormatPct(p.loss_pct);
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
                    "the same chunks decide the ranking.",
                    worst->format, FormatPct(worst->loss_pct), r.datasets.size()),
        Join(qb, "; "));
  }
  std::vector<std::string> within, basis2;
  for (const auto& p : a.points) {
    if (p.is_base || !Finite(p.loss_pct)) continue;
    if (p.loss_pct <= 2.0) {
      within.push_back(p.format);
      a.within_2pct.push_back(p.format);
    }
    basis2.push_back(fmt::format(
        "{} {}{}", p.format, FormatPct(p.loss_pct),
        Finite(p.loss_hi) && p.loss_pct <= 2.0 && p.loss_hi > 2.0 ? " (CI reaches past 2%)" : ""));
  }
  AddAnswer(a, "within_2pct", "Which formats stay within a 2% perplexity increase?",
            within.empty() ? "None of the quantized formats." : Join(within) + ".", Join(basis2, "; "));
}

void AnswerEliminate(Analysis& a) {
  std::vector<const FormatPoint*> dominated;
  for (const auto& p : a.points) {
    if (!p.dominated_by.empty()) dominated.push_back(&p);
  }
  if (!dominated.empty()) {
    // Among dominated formats, drop the one whose dominator beats it by the most loss.
    const FormatPoint* pick = dominated.front();
    double gap = -INFINITY;
    for (auto* p : dominated) {
      const FormatPoint* d = a.Point(p->dominated_by);
      const double g = d ? p->loss_pct - d->loss_pct : 0;
      if (g > gap) {
        gap = g;
        pick = p;
      }
    }
    const FormatPoint* d = a.Point(pick->dominated_by);
    a.eliminate = pick->format;
    AddAnswer(
        a, "eliminate", "Which format should be eliminated?",
        fmt::format("{}: it is dominated by {}, which is no larger and loses no more quality.", pick->format,
                    pick->dominated_by),
        fmt::format("{} {} at {}; {} {} at {}", pick->format, FormatBytes(pick->bytes),
                    FormatPct(pick->loss_pct), d->format, FormatBytes(d->bytes), FormatPct(d->loss_pct)));
    return;
  }
  // No dominated format: the worst trade is the largest loss per byte saved against the next larger
  // format on the front.
  const FormatPoint* pick = nullptr;
  double worst = -INFINITY;
  std::string basis;
  for (size_t i = 0; i + 1 < a.quality_front.size(); ++i) {
    const FormatPoint* p = a.Point(a.quality_front[i]);
    const FormatPoint* q = a.Point(a.quality_front[i + 1]);
    const double cost = (p->loss_pct - q->loss_pct) / ((q->bytes - p->bytes) / 1e6);
    basis += fmt::format("{}{} vs {}: {:.3f} pp per MB saved", basis.empty() ? "" : "; ", p->format,
                         q->format, cost);
    if (cost > worst) {
      worst = cost;
      pick = p;
    }
  }
  if (!pick) return;
  a.eliminate = pick->format;
  AddAnswer(
      a, "eliminate", "Which format should be eliminated?",
      fmt::format("No format is dominated. {} makes the worst trade: {:.3f} percentage points of perplexity "
                  "per MB saved over the next larger format.",
                  pick->format, worst),
      basis);
}

void AnswerSpeed(const LabResults& r, Analysis& a) {
  const FormatPoint* base = Base(a);
  const FormatPoint* fastest = nullptr;
  std::vector<std::string> basis;
  for (const auto& p : a.points) {
    if (!Finite(p.tg_tps)) continue;
    if (!fastest || p.tg_tps > fastest->tg_tps) fastest = &p;
    basis.push_back(fmt::format("{} pp {:.1f} / tg {:.1f} tok/s ({:.2f}x)", p.format, p.pp_tps, p.tg_tps,
                                base ? p.tg_tps / base->tg_tps : kNaN));
  }
  if (!fastest) return;
  AddAnswer(a, "speed", "How fast is each format, and what speedup does it give?",
            fmt::format("{} generates fastest at {:.1f} tok/s, {:.2f}x the base, on {} with {} threads.",
                        fastest->format, fastest->tg_tps, base ? fastest->tg_tps / base->tg_tps : kNaN,
                        r.machine.cpu_model, r.machine.threads),
            Join(basis, "; "));
}

void DecisionMatrix(Analysis& a) {
  Table t{"decision",
          "Decision matrix",
          "Stars from the measurements. Size, speed (tg) and memory: 1 + round(4 x s), s = (value - worst) / "
          "(best "
          "- worst) over this lab's formats. Quality: fixed bands of PPL increase: <=0.5% 5, <=1% 4, <=3% 3, "
          "<=10% 2, "
          "else 1.",
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
    if (!Finite(p.ram_bytes)) continue;
    const bool fits = r.ram_budget_bytes == 0 || p.ram_bytes <= double(r.ram_budget_bytes);
    if (fits) a.fits_budget.push_back(p.format);
    basis.push_back(fmt::format("{} {}", p.format, FormatBytes(p.ram_bytes)));
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
  a.sweet_spot = KneeOfFront(a.points, a.quality_front);
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

void Scores(const LabResults& r, Analysis& a) {
  a.scores = Score(a.points, r.weights);
  a.speed_first_scores = Score(a.points, ScoreWeights{0.2, 0.3, 0.5});
  a.winner = Winner(a.scores);
  a.speed_first_winner = Winner(a.speed_first_scores);
  a.winner_map = MapWinners(a.points, 0.05);
  Table t{
      "score",
      "Multi-metric score",
      fmt::format(
          "score = (w_size*S + w_quality*Q + w_speed*V) / (w_size + w_quality + w_speed); S = (largest "
          "size - size) / (largest - smallest), Q = (largest loss - loss) / (largest - smallest), V = (tg "
          "- slowest) / (fastest - slowest). Lab weights {:.2f}/{:.2f}/{:.2f}; speed-first 0.20/0.30/0.50.",
          r.weights.size, r.weights.quality, r.weights.speed),
      {"Format", "Size score", "Quality score", "Speed score", "Score (lab weights)", "Score (speed-first)"},
      {}};
  for (size_t i = 0; i < a.scores.size(); ++i) {
    const auto& s = a.scores[i];
    t.rows.push_back({Cell::Text(s.format), Cell::Num(s.size_score, 3), Cell::Num(s.quality_score, 3),
                      Cell::Num(s.speed_score, 3), Cell::Num(s.total, 3),
                      Cell::Num(a.speed_first_scores[i].total, 3)});
  }
  a.tables.push_back(t);
  Table m{
      "winner_map",
      "Winner over the weight simplex",
      "Share of a grid of weight combinations (step 0.05, 231 points with w_size + w_quality + w_speed = 1) "
      "that each format wins.",
      {"Format", "Share of weight space (%)"},
      {}};
  for (const auto& [name, share] : a.winner_map.share)
    m.rows.push_back({Cell::Text(name), Cell::Num(share * 100, 1)});
  a.tables.push_back(m);

  auto total_of = [](const std::vector<ScoreRow>& rows, const std::string& f) {
    for (const auto& s : rows) {
      if (s.format == f) return s.total;
    }
    return kNaN;
  };
  AddAnswer(a, "score",
            "Which format wins the multi-metric score, and does the winner change with speed-first weights?",
            fmt::format(
                "With the lab's weights ({:.0f}/{:.0f}/{:.0f} size/quality/speed) {} wins with {:.3f}. With "
                "speed-first weights (20/30/50) {} wins with {:.3f}: the winner {}.",
                r.weights.size * 100, r.weights.quality * 100, r.weights.speed * 100, a.winner,
                total_of(a.scores, a.winner), a.speed_first_winner,
                total_of(a.speed_first_scores, a.speed_first_winner),
                a.winner == a.speed_first_winner ? "does not change" : "changes"),
            [&] {
              std::vector<std::string> b;
              for (size_t i = 0; i < a.scores.size(); ++i) {
                b.push_back(fmt::format("{} {:.3f} / {:.3f}", a.scores[i].format, a.scores[i].total,
                                        a.speed_first_scores[i].total));
              }
              return "lab / speed-first scores: " + Join(b, "; ");
            }());
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
  std::vector<double> loss_x, div_y, kld_x;
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
    kld_x.push_back(p->kld);
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

void MinimumFormat(const LabResults& r, Analysis& a) {
  struct Tier {
    const char* name;
    double max_loss;
  };
  const Tier tiers[] = {{"Exacting (<=1%)", 1.0}, {"General use (<=3%)", 3.0}, {"Tolerant (<=10%)", 10.0}};
  Table t{"min_format",
          "Minimum acceptable format per use case and domain",
          "Smallest format whose paired 95% CI upper bound of the PPL increase on that data set stays within "
          "the use "
          "case's tolerance (the point estimate when no CI is available).",
          {"Data set", tiers[0].name, tiers[1].name, tiers[2].name},
          {}};
  auto sorted = BySizeAscending(a);
  std::vector<std::string> basis;
  for (const auto& ds : r.datasets) {
    std::vector<Cell> row{Cell::Text(ds)};
    for (const auto& tier : tiers) {
      std::string pick = "none";
      for (auto* p : sorted) {
        const auto c = ComparePpl(r, p->format, ds);
        const double bound = p->is_base ? 0.0 : (Finite(c.ci_hi) ? c.ci_hi : c.increase_pct);
        if (Finite(bound) && bound <= tier.max_loss) {
          pick = p->format;
          break;
        }
      }
      row.push_back(Cell::Text(pick));
    }
    basis.push_back(fmt::format("{}: {} / {} / {}", ds, row[1].text, row[2].text, row[3].text));
    t.rows.push_back(row);
  }
  a.tables.push_back(t);
  AddAnswer(a, "min_format", "What is the minimum acceptable format per use case and domain?",
            r.datasets.size() > 1 ? "See the table: the answer differs by domain where the rows differ."
                                  : "Only one data set was given, so there is one domain; see the table.",
            Join(basis, "; "));
}

void Findings(const LabResults& r, Analysis& a) {
  auto& f = a.findings;
  for (const auto& p : a.points) {
    if (!p.dominated_by.empty()) {
      const FormatPoint* d = a.Point(p.dominated_by);
      f.push_back(fmt::format("{} is dominated: {} is no larger ({} vs {}) and loses no more ({} vs {}).",
                              p.format, d->format, FormatBytes(d->bytes), FormatBytes(p.bytes),
                              FormatPct(d->loss_pct), FormatPct(p.loss_pct)));
    }
    if (!p.is_base && Finite(p.loss_pct) && p.loss_pct < 0) {
      f.push_back(fmt::format("{} scores a lower perplexity than the base ({}){}.", p.format,
                              FormatPct(p.loss_pct),
                              Finite(p.loss_lo) && p.loss_lo < 0 && p.loss_hi > 0
                                  ? ", but the paired CI includes zero: it is noise"
                                  : ""));
    }
  }
  // Speed should rise as size falls; a format slower than larger ones beyond the repetitions' spread is
  // news. One finding per format, naming every larger format that beats it.
  for (const auto& p : a.points) {
    std::vector<std::string> faster;
    for (const auto& q : a.points) {
      if (!Finite(p.tg_tps) || !Finite(q.tg_tps) || !(p.bytes < q.bytes)) continue;
      const SpeedResult* sp = r.Speed(p.format);
      const SpeedResult* sq = r.Speed(q.format);
      const double spread =
          (Finite(sp->tg_stddev) ? sp->tg_stddev : 0) + (Finite(sq->tg_stddev) ? sq->tg_stddev : 0);
      if (p.tg_tps + spread < q.tg_tps)
        faster.push_back(fmt::format("{} ({}, {:.1f} tok/s)", q.format, FormatBytes(q.bytes), q.tg_tps));
    }
    if (!faster.empty()) {
      f.push_back(fmt::format(
          "Speed does not follow size: {} ({}) generates at {:.1f} tok/s, slower than the larger {}.",
          p.format, FormatBytes(p.bytes), p.tg_tps, Join(faster)));
    }
  }
  for (const auto& p : a.points) {
    for (const auto& q : a.points) {
      if (p.is_base || q.is_base || !Finite(p.kld) || !Finite(q.kld) || !Finite(p.loss_pct) ||
          !Finite(q.loss_pct))
        continue;
      if (p.loss_pct > q.loss_pct && p.kld < q.kld && p.format < q.format) {
        f.push_back(fmt::format(
            "Perplexity and KLD disagree on {} vs {}: PPL increase {} vs {}, KLD {:.5f} vs {:.5f}.", p.format,
            q.format, FormatPct(p.loss_pct), FormatPct(q.loss_pct), p.kld, q.kld));
      }
    }
  }
  if (r.datasets.size() > 1) {
    for (const auto& p : a.points) {
      if (p.is_base) continue;
      const auto primary = ComparePpl(r, p.format, r.datasets.front());
      for (size_t i = 1; i < r.datasets.size(); ++i) {
        const auto other = ComparePpl(r, p.format, r.datasets[i]);
        if (Finite(other.increase_pct) && Finite(primary.increase_pct) && other.increase_pct > 0.5 &&
            other.increase_pct > 2 * std::max(primary.increase_pct, 0.1)) {
          f.push_back(fmt::format("{} suffers more on '{}' ({}) than on '{}' ({}).", p.format, r.datasets[i],
                                  FormatPct(other.increase_pct), r.datasets.front(),
                                  FormatPct(primary.increase_pct)));
        }
      }
    }
  }
  if (f.empty()) f.push_back("No anomalies: quality falls and speed rises as size falls, in order.");
  AddAnswer(a, "findings", "What are the most surprising findings?", f.front(), Join(f, " "));
}

void Recommend(const LabResults& r, Analysis& a) {
  std::vector<ScoreRow> candidates;
  for (const auto& s : a.scores) {
    if (r.ram_budget_bytes == 0 ||
        std::find(a.fits_budget.begin(), a.fits_budget.end(), s.format) != a.fits_budget.end()) {
      candidates.push_back(s);
    }
  }
  a.recommendation = Winner(candidates);
  const FormatPoint* p = a.Point(a.recommendation);
  const FormatPoint* base = Base(a);
  if (!p) {
    a.reasoning = "No format has the measurements needed for a recommendation (or none fits the RAM budget).";
    return;
  }
  a.reasoning = fmt::format(
      "{} has the best score ({:.3f}) with the lab's weights among {}: it is {} ({:.2f}x smaller than {}), "
      "its "
      "perplexity increase is {}{}, and it generates at {:.1f} tok/s{}. The knee of the size-quality front "
      "is {}.",
      p->format,
      [&] {
        for (const auto& s : a.scores) {
          if (s.format == p->format) return s.total;
        }
        return kNaN;
      }(),
      r.ram_budget_bytes ? "the formats that fit the RAM budget" : "all formats", FormatBytes(p->bytes),
      base ? base->bytes / p->bytes : kNaN, base ? base->format : "the base", LossText(*p),
      Finite(p->kld) ? fmt::format(" (mean KLD {:.5f})", p->kld) : "", p->tg_tps,
      base && Finite(p->tg_tps) ? fmt::format(" ({:.2f}x the base)", p->tg_tps / base->tg_tps) : "",
      a.sweet_spot);
  int chunks = 0;
  for (const auto& pr : r.perplexity) chunks = std::max<int>(chunks, static_cast<int>(pr.chunks()));
  a.caveats.push_back(
      fmt::format("Perplexity rests on {} chunk(s) of {} tokens per data set; differences inside the "
                  "paired CI are not established.",
                  chunks, r.context));
  a.caveats.push_back(fmt::format("Speed and memory hold only for this machine ({}, {}, {} threads).",
                                  r.machine.cpu_model, r.machine.simd, r.machine.threads));
  a.caveats.push_back(
      "Perplexity and KLD measure next-token prediction on the given text, not task accuracy; check "
      "the samples on your own prompts.");
  if (a.winner != a.speed_first_winner) {
    a.caveats.push_back(fmt::format("If speed matters most, {} wins instead (speed-first weights 20/30/50).",
                                    a.speed_first_winner));
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
        "takes {:.0f}% of the original's space{}, and its predictions are {} worse than the original's. The "
        "smallest version, {}, is {:.0f}% of the size but {} worse.",
        r.formats.size(), r.model_name.empty() ? std::string("the model") : r.model_name,
        FormatBytes(base->bytes), FormatBytes(smallest->bytes), p->format, 100 * p->bytes / base->bytes,
        Finite(p->tg_tps) && Finite(base->tg_tps)
            ? fmt::format(", writes text {:.1f}x as fast", p->tg_tps / base->tg_tps)
            : "",
        fmt::format("{:.1f}%", std::max(0.0, p->loss_pct)), smallest->format,
        100 * smallest->bytes / base->bytes, fmt::format("{:.1f}%", smallest->loss_pct));
  }
  AddAnswer(a, "summary", "In plain words?", a.summary, a.reasoning);
}

}  // namespace

void FillAgreement(LabResults& r) {
  const FormatInfo* base = r.Base();
  if (!base) return;
  for (auto& s : r.samples) {
    if (s.agreement_tokens >= 0) continue;
    const GenerationSample* b = r.Sample(base->name, s.prompt_index);
    if (!b || b->greedy_tokens.empty()) continue;
    const size_t n = std::min(b->greedy_tokens.size(), s.greedy_tokens.size());
    size_t i = 0;
    while (i < n && b->greedy_tokens[i] == s.greedy_tokens[i]) ++i;
    s.agreement_tokens = static_cast<int>(i);
    const bool identical = i == n && b->greedy_tokens.size() == s.greedy_tokens.size();
    s.first_divergence = identical ? -1 : static_cast<int>(i);
  }
}

std::vector<std::string> SpeedFront(const std::vector<FormatPoint>& points) {
  std::vector<const FormatPoint*> front;
  for (const auto& a : points) {
    if (!Finite(a.bytes) || !Finite(a.tg_tps)) continue;
    bool dominated = false;
    for (const auto& b : points) {
      if (&a == &b || !Finite(b.bytes) || !Finite(b.tg_tps)) continue;
      if (b.bytes <= a.bytes && b.tg_tps >= a.tg_tps && (b.bytes < a.bytes || b.tg_tps > a.tg_tps))
        dominated = true;
    }
    if (!dominated) front.push_back(&a);
  }
  std::sort(front.begin(), front.end(), [](auto* x, auto* y) { return x->bytes < y->bytes; });
  std::vector<std::string> names;
  for (auto* p : front) names.push_back(p->format);
  return names;
}

void AnswerQuestions(const LabResults& r, Analysis& a) {
  AnswerSizeAndQuality(r, a);
  AnswerEliminate(a);
  AnswerSpeed(r, a);
  DecisionMatrix(a);
  AnswerRam(r, a);
  AnswerSweetSpot(a);
  Scores(r, a);
  Generation(r, a);
  MinimumFormat(r, a);
  Findings(r, a);
  Recommend(r, a);
  Summary(r, a);
}

}  // namespace quantlab::analysis::detail
