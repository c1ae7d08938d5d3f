//! The lecture's claims, one by one, judged from the result files by stated rules: each
//! comparison says whether the claim **holds**, is **reversed** or is **within noise** at this
//! data size, and every number in the sentences is computed from the rows.
//!
//! Two rules, one per kind of spread:
//! - runs trained once per seed ([`judge_seeds`]): the difference of the means, in the claim's
//!   favour, against twice the pooled sample standard deviation of the runs' seeds (for a
//!   contrast of k means, twice the pooled sd times √(k/2), so that k = 2 is the plain rule).
//!   With one seed on each side there is no spread and nothing is judged;
//! - frame scores of one network ([`judge_rates`]): the difference of two accuracies over
//!   frames against twice its binomial standard error, √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂), frames
//!   taken as independent (neighbouring frames are not, so this rule is lenient).

use std::fmt::Write as _;

use crate::frontend::StageKind;
use crate::model::ModelKind;
use crate::model::dnn::{FilterbankInit, Front};
use crate::study::experiment::Group;
use crate::study::hidden::LayerScore;
use crate::study::seeds::{Stat, Summary};
use crate::study::vowels::VowelReport;

/// What a comparison shows about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The difference is in the claim's favour by more than the noise.
    Holds,
    /// The difference is against the claim by more than the noise.
    Reversed,
    /// The difference is no larger than the noise.
    WithinNoise,
    /// No spread to judge by (one seed on each side).
    NotJudged,
}

impl Verdict {
    /// The word the report prints.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Reversed => "reversed",
            Verdict::WithinNoise => "within noise",
            Verdict::NotJudged => "not judged (one seed each)",
        }
    }
}

/// A difference in the claim's favour, the noise it was judged against, and the verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// Claimed-better minus other (for error rates: other minus claimed-better).
    pub diff: f64,
    /// The threshold the difference must pass (`None`: no spread).
    pub noise: Option<f64>,
    /// What the comparison shows.
    pub verdict: Verdict,
}

impl Judged {
    fn from(diff: f64, noise: Option<f64>) -> Judged {
        let verdict = match noise {
            None => Verdict::NotJudged,
            Some(t) if diff.abs() <= t => Verdict::WithinNoise,
            Some(_) if diff > 0.0 => Verdict::Holds,
            Some(_) => Verdict::Reversed,
        };
        Judged {
            diff,
            noise,
            verdict,
        }
    }

    /// `+2.1 / 0.8: holds`, in percentage points.
    pub fn cell(&self) -> String {
        match self.noise {
            Some(t) => format!(
                "{:+.1} / {:.1}: {}",
                100.0 * self.diff,
                100.0 * t,
                self.verdict.word()
            ),
            None => format!("{:+.1}: {}", 100.0 * self.diff, self.verdict.word()),
        }
    }
}

/// Pooled sample standard deviation of several runs' seeds; `None` when no run has two seeds.
pub fn pooled_sd(stats: &[&Stat]) -> Option<f64> {
    let df: usize = stats.iter().map(|s| s.n.saturating_sub(1)).sum();
    if df == 0 {
        return None;
    }
    let ss: f64 = stats
        .iter()
        .map(|s| s.n.saturating_sub(1) as f64 * s.sd * s.sd)
        .sum();
    Some((ss / df as f64).sqrt())
}

/// A contrast `value` of the means of `stats` (in the claim's favour), judged against twice the
/// pooled sd times √(k/2), k = the number of means in the contrast.
pub fn judge_contrast(value: f64, stats: &[&Stat]) -> Judged {
    let k = stats.len() as f64;
    Judged::from(value, pooled_sd(stats).map(|s| 2.0 * s * (k / 2.0).sqrt()))
}

/// Is `claimed` better than `other` over their seeds? Higher is better unless
/// `higher_is_better` is false (error rates).
pub fn judge_seeds(claimed: &Stat, other: &Stat, higher_is_better: bool) -> Judged {
    let d = claimed.mean - other.mean;
    judge_contrast(if higher_is_better { d } else { -d }, &[claimed, other])
}

/// Is the accuracy `claimed` (over `n1` frames) above `other` (over `n2`), or below it when
/// `higher_is_better` is false? Judged against twice the binomial standard error.
pub fn judge_rates(
    claimed: f64,
    n1: usize,
    other: f64,
    n2: usize,
    higher_is_better: bool,
) -> Judged {
    let var = |p: f64, n: usize| {
        if n == 0 {
            f64::INFINITY
        } else {
            p * (1.0 - p) / n as f64
        }
    };
    let d = claimed - other;
    let noise = 2.0 * (var(claimed, n1) + var(other, n2)).sqrt();
    Judged::from(
        if higher_is_better { d } else { -d },
        noise.is_finite().then_some(noise),
    )
}

/// Where a DNN's learned suffix starts: a stage of the production line, or a learned front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Fed the output of this stage through a plain MLP.
    Stage(StageKind),
    /// A non-negative filter bank learned on the power spectrogram.
    LearnedFilterbank {
        /// Started at the mel matrix (else at random).
        mel_start: bool,
    },
    /// A time convolution learned on raw samples.
    TimeConv,
}

impl Cut {
    /// The cut of a DNN fed `from` with front end `front`.
    pub fn of(from: &str, front: Option<&Front>) -> Option<Cut> {
        match front {
            Some(Front::Filterbank(f)) => Some(Cut::LearnedFilterbank {
                mel_start: f.init == FilterbankInit::Mel,
            }),
            Some(Front::Timeconv(_)) => Some(Cut::TimeConv),
            _ => StageKind::ALL
                .into_iter()
                .find(|k| k.name() == from)
                .map(Cut::Stage),
        }
    }

    /// The cut in words.
    pub fn label(self) -> String {
        match self {
            Cut::Stage(StageKind::Dct) => "MFCC (`dct`)".into(),
            Cut::Stage(StageKind::Log) => "log mel (`log`)".into(),
            Cut::Stage(StageKind::Filterbank) => "mel energies, no log (`filterbank`)".into(),
            Cut::Stage(StageKind::Spectrogram) => "power spectrogram (`spectrogram`)".into(),
            Cut::Stage(StageKind::Waveform) => "raw samples (`waveform`)".into(),
            Cut::Stage(k) => format!("`{k}`"),
            Cut::LearnedFilterbank { mel_start: false } => {
                "learned filter bank on the spectrogram, random start".into()
            }
            Cut::LearnedFilterbank { mel_start: true } => {
                "learned filter bank on the spectrogram, mel start".into()
            }
            Cut::TimeConv => "learned time convolution on raw samples".into(),
        }
    }
}

/// One comparison of two runs: the claim is that `claimed` scores better than `other`.
pub struct Pair<'a> {
    /// The comparison in words.
    pub label: String,
    /// The run the claim favours.
    pub claimed: &'a Summary,
    /// The run it is compared with.
    pub other: &'a Summary,
}

/// The four scores a pair is judged on: tied-state and 39-phone frame accuracy, PER at the
/// default decoding settings and PER at each model's best point of the decoding grid.
fn judged_metrics(p: &Pair) -> [Option<Judged>; 4] {
    let (a, b) = (p.claimed, p.other);
    let lower = |x: &Option<Stat>, y: &Option<Stat>| match (x, y) {
        (Some(x), Some(y)) => Some(judge_seeds(x, y, false)),
        _ => None,
    };
    [
        Some(judge_seeds(&a.state_accuracy, &b.state_accuracy, true)),
        Some(judge_seeds(&a.phone_accuracy, &b.phone_accuracy, true)),
        lower(&a.per, &b.per),
        lower(&a.per_tuned, &b.per_tuned),
    ]
}

const METRICS: [&str; 4] = [
    "tied-state accuracy",
    "39-phone accuracy",
    "PER",
    "PER at each model's best decoding setting",
];

fn stat_text(s: &Option<Stat>) -> String {
    s.as_ref().map_or("-".into(), Stat::pct)
}

/// A table of pairs, each judged on the three scores, and one sentence per score counting the
/// verdicts.
pub fn pair_table(pairs: &[Pair]) -> String {
    let mut s = String::from(
        "| claim: A better than B | seeds A, B | tied-state acc % A vs B | Δ / noise: verdict | \
         39-phone acc % A vs B | Δ / noise: verdict | PER % A vs B | Δ / noise: verdict | \
         PER % (grid) A vs B | Δ / noise: verdict |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut counts = [[0usize; 4]; 4];
    for p in pairs {
        let j = judged_metrics(p);
        for (m, judged) in j.iter().enumerate() {
            if let Some(x) = judged {
                counts[m][x.verdict as usize] += 1;
            }
        }
        let cell = |x: &Option<Judged>| x.map_or("-".to_string(), |x| x.cell());
        let _ = writeln!(
            s,
            "| {} | {}, {} | {} vs {} | {} | {} vs {} | {} | {} vs {} | {} | {} vs {} | {} |",
            p.label,
            p.claimed.seeds.len(),
            p.other.seeds.len(),
            p.claimed.state_accuracy.pct(),
            p.other.state_accuracy.pct(),
            cell(&j[0]),
            p.claimed.phone_accuracy.pct(),
            p.other.phone_accuracy.pct(),
            cell(&j[1]),
            stat_text(&p.claimed.per),
            stat_text(&p.other.per),
            cell(&j[2]),
            stat_text(&p.claimed.per_tuned),
            stat_text(&p.other.per_tuned),
            cell(&j[3]),
        );
    }
    s.push('\n');
    for (m, c) in counts.iter().enumerate() {
        let n: usize = c.iter().sum();
        if n == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "On {}: the claim holds in {} of {n}, is reversed in {}, within noise in {}{}.",
            METRICS[m],
            c[Verdict::Holds as usize],
            c[Verdict::Reversed as usize],
            c[Verdict::WithinNoise as usize],
            if c[Verdict::NotJudged as usize] > 0 {
                format!(", not judged (one seed each) in {}", c[3])
            } else {
                String::new()
            }
        );
    }
    s.push('\n');
    s
}

/// The rule, as the report states it once.
pub const RULE: &str = "**The rule.** Δ is the difference of the means over seeds in the \
claim's favour (A − B for accuracies, B − A for PER), in percentage points; *noise* is twice \
the pooled sample standard deviation of the two runs' seeds. The claim **holds** when Δ > noise, \
is **reversed** when Δ < −noise, and is **within noise** otherwise. With a few seeds (n in \
each table) this is a coarse test: it asks for a difference that stands out of the \
seed-to-seed spread, not a significance level.";

/// The production line: the GMM with the best mean 39-phone accuracy among the listed runs.
pub fn production_line(runs: &[Summary]) -> Option<&Summary> {
    runs.iter()
        .filter(|r| r.group == Group::Suffix && r.kind == ModelKind::Gmm)
        .max_by(|a, b| a.phone_accuracy.mean.total_cmp(&b.phone_accuracy.mean))
}

/// Claim 1: every learned suffix (each listed DNN run) against the production line.
pub fn suffix_pairs<'a>(
    runs: &'a [Summary],
    cut: &dyn Fn(&Summary) -> Option<Cut>,
) -> Vec<Pair<'a>> {
    let Some(gmm) = production_line(runs) else {
        return Vec::new();
    };
    runs.iter()
        .filter(|r| r.group == Group::Suffix && r.kind == ModelKind::Dnn)
        .map(|r| Pair {
            label: format!(
                "`{}`: DNN from {} vs GMM `{}`",
                r.run,
                cut(r).map_or(format!("`{}`", r.from), Cut::label),
                gmm.run
            ),
            claimed: r,
            other: gmm,
        })
        .collect()
}

/// Claim 2: each deep net against its matched one-hidden-layer net, and the best deep net
/// (by mean tied-state accuracy) against every much wider single layer.
pub fn depth_pairs(runs: &[Summary]) -> Vec<Pair<'_>> {
    let mut pairs: Vec<Pair> = runs
        .iter()
        .filter(|d| d.group == Group::Deep)
        .filter_map(|d| {
            let s = runs
                .iter()
                .find(|s| s.group == Group::Shallow && s.layers == d.layers)?;
            Some(Pair {
                label: format!(
                    "deep {} vs one layer of equal parameters ({})",
                    d.spec, s.spec
                ),
                claimed: d,
                other: s,
            })
        })
        .collect();
    if let Some(best) = runs
        .iter()
        .filter(|r| r.group == Group::Deep)
        .max_by(|a, b| a.state_accuracy.mean.total_cmp(&b.state_accuracy.mean))
    {
        for w in runs.iter().filter(|r| r.group == Group::Wide) {
            pairs.push(Pair {
                label: format!(
                    "best deep net {} ({} parameters) vs much wider one layer {} ({} parameters)",
                    best.spec, best.params, w.spec, w.params
                ),
                claimed: best,
                other: w,
            });
        }
    }
    pairs
}

/// Claim 6's accuracy side: learned front ends against the fixed chain and the unconstrained
/// layer on the same input.
pub fn front_pairs<'a>(
    runs: &'a [Summary],
    cut: &dyn Fn(&Summary) -> Option<Cut>,
) -> Vec<Pair<'a>> {
    let listed: Vec<(&Summary, Cut)> = runs
        .iter()
        .filter(|r| r.group == Group::Suffix && r.kind == ModelKind::Dnn)
        .filter_map(|r| cut(r).map(|c| (r, c)))
        .collect();
    let find = |c: Cut| listed.iter().find(|(_, k)| *k == c).map(|(r, _)| *r);
    let random = find(Cut::LearnedFilterbank { mel_start: false });
    let mel = find(Cut::LearnedFilterbank { mel_start: true });
    let conv = find(Cut::TimeConv);
    let log = find(Cut::Stage(StageKind::Log));
    let spec = find(Cut::Stage(StageKind::Spectrogram));
    let wave = find(Cut::Stage(StageKind::Waveform));
    let candidates = [
        (
            random,
            spec,
            "learned filter bank (random start) vs a plain first layer on the same spectrogram",
        ),
        (
            random,
            log,
            "learned filter bank (random start) vs the fixed mel filter bank and log",
        ),
        (
            random,
            mel,
            "learned filter bank: random start vs mel start",
        ),
        (
            conv,
            wave,
            "time convolution vs a plain first layer on the same raw samples",
        ),
        (
            conv,
            log,
            "time convolution vs the fixed chain up to log mel",
        ),
    ];
    candidates
        .into_iter()
        .filter_map(|(a, b, what)| {
            let (a, b) = (a?, b?);
            Some(Pair {
                label: format!("{what} (`{}` vs `{}`)", a.run, b.run),
                claimed: a,
                other: b,
            })
        })
        .collect()
}

/// Claim 3: at each share of the data, deep vs matched shallow (tied-state accuracy); and does
/// the gap grow as the data shrink (gap at the smallest share minus gap at the largest, a
/// contrast of four means)?
pub fn curve_claim(runs: &[Summary]) -> Option<String> {
    let mut points: Vec<(&Summary, &Summary)> = runs
        .iter()
        .filter(|d| d.group == Group::CurveDeep)
        .filter_map(|d| {
            runs.iter()
                .find(|s| s.group == Group::CurveShallow && s.fraction == d.fraction)
                .map(|s| (d, s))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    points.sort_by(|a, b| a.0.fraction.total_cmp(&b.0.fraction));
    let mut md = String::from(
        "| share of training speakers | deep − shallow, tied-state acc (Δ / noise: verdict) | deep − shallow, 39-phone acc |\n|---:|---|---|\n",
    );
    for (d, s) in &points {
        let _ = writeln!(
            md,
            "| {:.0} % | {} | {} |",
            100.0 * d.fraction,
            judge_seeds(&d.state_accuracy, &s.state_accuracy, true).cell(),
            judge_seeds(&d.phone_accuracy, &s.phone_accuracy, true).cell(),
        );
    }
    let (small, full) = (points[0], points[points.len() - 1]);
    if points.len() < 2 {
        md.push_str("\nOne share only: no curve to judge.\n");
        return Some(md);
    }
    let gap = |(d, s): (&Summary, &Summary)| d.state_accuracy.mean - s.state_accuracy.mean;
    let growth = judge_contrast(
        gap(small) - gap(full),
        &[
            &small.0.state_accuracy,
            &small.1.state_accuracy,
            &full.0.state_accuracy,
            &full.1.state_accuracy,
        ],
    );
    let _ = writeln!(
        md,
        "\n**Does depth need less data?** The deep − shallow gap in tied-state accuracy is \
         {:+.1} points at {:.0} % of the training speakers ({:.0} frames) and {:+.1} at {:.0} % \
         ({:.0} frames). The gap at the smallest share minus the gap at the largest, {:+.1} \
         points, against a noise of {} (twice the pooled sd times √2, for this contrast of four \
         means): {}.",
        100.0 * gap(small),
        100.0 * small.0.fraction,
        small.0.train_frames.mean,
        100.0 * gap(full),
        100.0 * full.0.fraction,
        full.0.train_frames.mean,
        100.0 * growth.diff,
        growth
            .noise
            .map_or("none (one seed each)".to_string(), |t| format!(
                "{:.1}",
                100.0 * t
            )),
        match growth.verdict {
            Verdict::Holds => "holds: the gap grows as the data shrink, as the claim says",
            Verdict::Reversed => "reversed: the gap shrinks as the data shrink",
            Verdict::WithinNoise => "within noise: no change of the gap beyond the seed spread",
            Verdict::NotJudged => "not judged (one seed each)",
        }
    );
    Some(md)
}

/// A frame score's accuracy and how many frames it is over.
fn rate(s: &crate::viz::VoteScore) -> (f64, usize) {
    (s.accuracy, s.scored)
}

/// One measure of a per-layer claim.
struct LayerRow<'a> {
    /// The measure and the direction the claim gives it: "speaker k-NN falls".
    claim: &'a str,
    /// True when the claim is that the measure rises.
    rises: bool,
    /// (accuracy, frames) at each analysed layer, input first.
    layers: Vec<(f64, usize)>,
    /// The same at the last layer of the network at its random start.
    control_last: Option<(f64, usize)>,
    /// Chance level at the last layer and its sd (0: none computed).
    chance_last: (f64, f64),
}

/// One table row: the measure at the input and at the last layer analysed, judged in the
/// claim's direction, step by step, and the trained last layer against the random start's.
fn layer_claim_row(md: &mut String, row: &LayerRow) {
    let (Some(&first), Some(&last)) = (row.layers.first(), row.layers.last()) else {
        return;
    };
    let rises = row.rises;
    let across = judge_rates(last.0, last.1, first.0, first.1, rises);
    let control = row
        .control_last
        .map(|c| (c.0, judge_rates(last.0, last.1, c.0, c.1, rises)));
    // Steps between consecutive analysed layers, each judged the same way.
    let moves: Vec<Verdict> = row
        .layers
        .windows(2)
        .map(|w| judge_rates(w[1].0, w[1].1, w[0].0, w[0].1, rises).verdict)
        .collect();
    let count = |v: Verdict| moves.iter().filter(|&&m| m == v).count();
    let (chance, sd) = row.chance_last;
    let _ = writeln!(
        md,
        "| {} | {:.1} → {:.1} | {} | {} of {} steps in the claim's direction, {} against | {} | {} |",
        row.claim,
        100.0 * first.0,
        100.0 * last.0,
        across.cell(),
        count(Verdict::Holds),
        moves.len(),
        count(Verdict::Reversed),
        control.map_or("-".into(), |(c, j)| format!(
            "{:.1}: {}",
            100.0 * c,
            j.cell()
        )),
        if sd > 0.0 {
            format!("{:.1} ± {:.1}", 100.0 * chance, 100.0 * sd)
        } else {
            format!("{:.1}", 100.0 * chance)
        },
    );
}

const LAYER_HEADER: &str = "| claim | input → last layer % | Δ / noise: verdict | between analysed layers | random start, last layer %: trained vs random (Δ / noise: verdict) | chance at the last layer % |\n|---|---|---|---|---|---|\n";

/// Claim 4: across the layers of one trained network, speaker measures fall and phone measures
/// rise; judged input → last layer, step by step, and trained vs random start.
pub fn hidden_claim(scores: &[LayerScore], control: &[LayerScore]) -> Option<String> {
    let last = scores.last()?;
    if scores.len() < 2 {
        return None;
    }
    let control_last = control.iter().find(|c| c.layer == last.layer);
    let mut md = String::from(LAYER_HEADER);
    let knn = |s: &LayerScore| rate(&s.speaker_knn);
    layer_claim_row(
        &mut md,
        &LayerRow {
            claim: "speaker k-NN falls",
            rises: false,
            layers: scores.iter().map(knn).collect(),
            control_last: control_last.map(knn),
            chance_last: (last.speaker_knn.chance, last.speaker_knn.chance_sd),
        },
    );
    let probe = |s: &LayerScore| (s.speaker_probe.accuracy, s.speaker_probe.tested);
    layer_claim_row(
        &mut md,
        &LayerRow {
            claim: "speaker probe falls",
            rises: false,
            layers: scores.iter().map(probe).collect(),
            control_last: control_last.map(probe),
            chance_last: (last.speaker_probe.chance, 0.0),
        },
    );
    if let Some(l) = &last.phone_knn {
        layer_claim_row(
            &mut md,
            &LayerRow {
                claim: "phone k-NN rises",
                rises: true,
                layers: scores
                    .iter()
                    .filter_map(|s| s.phone_knn.as_ref().map(rate))
                    .collect(),
                control_last: control_last.and_then(|c| c.phone_knn.as_ref()).map(rate),
                chance_last: (l.chance, l.chance_sd),
            },
        );
    }
    let above = judge_rates(
        last.speaker_knn.accuracy,
        last.speaker_knn.scored,
        last.speaker_knn.chance,
        last.speaker_knn.scored,
        true,
    );
    let _ = writeln!(
        md,
        "\nAt the last layer analysed ({}), speaker k-NN is {} its chance level ({}).\n",
        last.layer,
        match above.verdict {
            Verdict::Holds => "above",
            Verdict::Reversed => "below",
            _ => "at",
        },
        above.cell()
    );
    Some(md)
}

/// Claim 5: vowel identification rises across layers, above the random start and chance.
pub fn vowel_claim(v: &VowelReport) -> Option<String> {
    let last = v.scores.last()?;
    if v.scores.len() < 2 {
        return None;
    }
    let mut md = String::from(LAYER_HEADER);
    layer_claim_row(
        &mut md,
        &LayerRow {
            claim: "vowel k-NN rises",
            rises: true,
            layers: v.scores.iter().map(|s| rate(&s.trained)).collect(),
            control_last: Some(rate(&last.random_start)),
            chance_last: (last.trained.chance, last.trained.chance_sd),
        },
    );
    md.push('\n');
    Some(md)
}

/// A full-TIMIT result from the literature, printed beside the run's PER.
pub struct Anchor {
    /// The system.
    pub system: &'static str,
    /// PER on TIMIT's core test set (192 sentences), %.
    pub per: f64,
    /// Where the number comes from.
    pub source: &'static str,
}

/// Published full-TIMIT phone error rates (core test set, 39 folded phones, phone bigram).
pub const ANCHORS: [Anchor; 6] = [
    Anchor {
        system: "monophone GMM-HMM (mono)",
        per: 32.7,
        source: "Kaldi egs/timit/s5 RESULTS",
    },
    Anchor {
        system: "tied-triphone GMM-HMM, MFCC + Δ + ΔΔ (tri1)",
        per: 25.6,
        source: "Kaldi egs/timit/s5 RESULTS",
    },
    Anchor {
        system: "tied-triphone GMM-HMM, LDA + MLLT (tri2)",
        per: 23.7,
        source: "Kaldi egs/timit/s5 RESULTS",
    },
    Anchor {
        system: "tied-triphone GMM-HMM, speaker-adaptive training (tri3)",
        per: 21.6,
        source: "Kaldi egs/timit/s5 RESULTS",
    },
    Anchor {
        system: "DNN-HMM hybrid (nnet1, RBM pre-training)",
        per: 18.5,
        source: "Kaldi egs/timit/s5 RESULTS",
    },
    Anchor {
        system: "DBN-DNN hybrid",
        per: 20.7,
        source: "Mohamed, Dahl & Hinton 2012, IEEE TASLP 20(1)",
    },
];

/// Labelled 10 ms frames in TIMIT's training set (3696 SI and SX utterances, 462 speakers,
/// about 3.1 hours of speech), to the nearest 0.1 million.
pub const TIMIT_TRAIN_FRAMES: f64 = 1.1e6;

/// The PER anchor table: literature values, labelled as such, beside this run's production
/// line and best DNN, and a sentence on corpus size.
pub fn anchor_section(runs: &[Summary], train_frames: usize) -> String {
    let mut md = String::from(
        "| system | data | PER % | where the number comes from |\n|---|---|---:|---|\n",
    );
    for a in &ANCHORS {
        let _ = writeln!(
            md,
            "| {} | full TIMIT, core test | {:.1} | literature: {} (not run here) |",
            a.system, a.per, a.source
        );
    }
    let decoded: Vec<&Summary> = runs.iter().filter(|r| r.per.is_some()).collect();
    let best = |kind: ModelKind| {
        decoded
            .iter()
            .filter(|r| r.kind == kind)
            .min_by(|a, b| {
                let m = |r: &Summary| r.per.map_or(f64::INFINITY, |p| p.mean);
                m(a).total_cmp(&m(b))
            })
            .copied()
    };
    for (what, r) in [
        ("best GMM of this run", best(ModelKind::Gmm)),
        ("best DNN of this run", best(ModelKind::Dnn)),
    ] {
        if let Some(r) = r {
            let _ = writeln!(
                md,
                "| {what}: `{}` ({}) | this corpus, test speakers | {}{} | results.csv, {} |",
                r.run,
                r.spec,
                stat_text(&r.per),
                r.per_tuned.as_ref().map_or(String::new(), |t| format!(
                    " (grid: {}{})",
                    t.pct(),
                    match r.tuned_on {
                        Some(crate::corpus::Split::Dev) => ", chosen on dev",
                        _ => ", best on test",
                    }
                )),
                r.seeds_text()
            );
        }
    }
    let share = train_frames as f64 / TIMIT_TRAIN_FRAMES;
    let _ = writeln!(
        md,
        "\nThese runs trained on {train_frames} labelled frames: {:.1} % of the about {:.1} \
         million frames of TIMIT's training set (3696 utterances, 462 speakers), i.e. {}. The \
         anchors are trained on all of it and tested on TIMIT's core test set (192 sentences, \
         24 speakers); the rows of this run are tested on this corpus's test speakers. They \
         show the distance to full-data systems, not a like-for-like comparison.\n",
        100.0 * share,
        TIMIT_TRAIN_FRAMES / 1e6,
        if share > 0.0 && share < 1.0 {
            format!("about 1/{:.0} of it", 1.0 / share)
        } else {
            "as much or more".to_string()
        }
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::VoteScore;

    fn stat(values: &[f64]) -> Stat {
        Stat::of(values).unwrap()
    }

    fn summary(run: &str, group: Group, kind: ModelKind, from: &str, acc: &[f64]) -> Summary {
        Summary {
            run: run.into(),
            group,
            layers: 0,
            fraction: 1.0,
            kind,
            from: from.into(),
            spec: run.into(),
            params: 1000,
            seeds: (1..=acc.len() as u64).collect(),
            kept: vec![],
            state_accuracy: stat(acc),
            phone_accuracy: stat(&acc.iter().map(|a| a + 0.2).collect::<Vec<_>>()),
            per: Some(stat(&acc.iter().map(|a| 1.0 - a).collect::<Vec<_>>())),
            per_tuned: Some(stat(&acc.iter().map(|a| 0.9 - a).collect::<Vec<_>>())),
            tuned_on: Some(crate::corpus::Split::Test),
            train_frames: stat(&vec![1000.0; acc.len()]),
            train_seconds: stat(&vec![1.0; acc.len()]),
        }
    }

    #[test]
    fn pooled_sd_by_hand() {
        // sds 0.02 and 0.04 over 3 seeds each: sqrt((2·4e-4 + 2·16e-4) / 4) = sqrt(1e-3).
        let a = stat(&[0.40, 0.42, 0.44]);
        let b = stat(&[0.40, 0.44, 0.48]);
        let s = pooled_sd(&[&a, &b]).unwrap();
        assert!((s - 1e-3f64.sqrt()).abs() < 1e-12, "{s}");
        // One seed each: no spread.
        assert_eq!(pooled_sd(&[&stat(&[0.5]), &stat(&[0.6])]), None);
        // One seed on one side: the other's sd alone.
        let s = pooled_sd(&[&stat(&[0.5]), &a]).unwrap();
        assert!((s - 0.02).abs() < 1e-12);
    }

    #[test]
    fn seed_rule_says_holds_reversed_and_within_noise() {
        let base = stat(&[0.40, 0.42, 0.44]); // mean 0.42, sd 0.02
        // Pooled sd 0.02 on both sides: noise 0.04.
        let far = stat(&[0.46, 0.48, 0.50]); // +0.06
        let near = stat(&[0.43, 0.45, 0.47]); // +0.03
        let j = judge_seeds(&far, &base, true);
        assert_eq!(j.verdict, Verdict::Holds);
        assert!((j.diff - 0.06).abs() < 1e-12 && (j.noise.unwrap() - 0.04).abs() < 1e-12);
        assert_eq!(judge_seeds(&base, &far, true).verdict, Verdict::Reversed);
        assert_eq!(
            judge_seeds(&near, &base, true).verdict,
            Verdict::WithinNoise
        );
        // Error rates: lower is better, so the higher mean loses.
        assert_eq!(judge_seeds(&far, &base, false).verdict, Verdict::Reversed);
        assert_eq!(
            judge_seeds(&stat(&[0.5]), &stat(&[0.1]), true).verdict,
            Verdict::NotJudged
        );
        assert_eq!(j.cell(), "+6.0 / 4.0: holds");
    }

    #[test]
    fn contrast_of_four_means_scales_the_noise_by_root_two() {
        let s = stat(&[0.40, 0.42, 0.44]);
        let j = judge_contrast(0.05, &[&s, &s, &s, &s]);
        // Pooled sd 0.02, noise 2 · 0.02 · √2 = 0.0566: 0.05 is within noise.
        assert!((j.noise.unwrap() - 0.04 * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(j.verdict, Verdict::WithinNoise);
        assert_eq!(
            judge_contrast(0.06, &[&s, &s, &s, &s]).verdict,
            Verdict::Holds
        );
    }

    #[test]
    fn rate_rule_uses_the_binomial_standard_error() {
        // p = 0.5 over 10,000 frames each: se of the difference √(2 · 0.25 / 1e4) = 0.00707.
        let j = judge_rates(0.52, 10_000, 0.50, 10_000, true);
        assert_eq!(j.verdict, Verdict::Holds, "{j:?}");
        let j = judge_rates(0.505, 10_000, 0.50, 10_000, true);
        assert_eq!(j.verdict, Verdict::WithinNoise, "{j:?}");
        // Falling is the claim: a drop holds.
        assert_eq!(
            judge_rates(0.30, 5_000, 0.40, 5_000, false).verdict,
            Verdict::Holds
        );
        assert_eq!(
            judge_rates(0.3, 0, 0.4, 10, true).verdict,
            Verdict::NotJudged
        );
    }

    #[test]
    fn suffix_claims_compare_every_dnn_with_the_best_gmm() {
        let runs = vec![
            summary(
                "gmm-a",
                Group::Suffix,
                ModelKind::Gmm,
                "dct",
                &[0.30, 0.30, 0.30],
            ),
            summary(
                "gmm-b",
                Group::Suffix,
                ModelKind::Gmm,
                "dct",
                &[0.20, 0.20, 0.20],
            ),
            summary(
                "dnn-log",
                Group::Suffix,
                ModelKind::Dnn,
                "log",
                &[0.40, 0.41, 0.42],
            ),
            summary(
                "dnn-wave",
                Group::Suffix,
                ModelKind::Dnn,
                "waveform",
                &[0.10, 0.11, 0.12],
            ),
            summary(
                "dnn-dct",
                Group::Suffix,
                ModelKind::Dnn,
                "dct",
                &[0.29, 0.30, 0.31],
            ),
        ];
        let cut = |r: &Summary| Cut::of(&r.from, None);
        let pairs = suffix_pairs(&runs, &cut);
        assert_eq!(pairs.len(), 3);
        assert!(pairs.iter().all(|p| p.other.run == "gmm-a"));
        let table = pair_table(&pairs);
        assert!(
            table.contains("`dnn-log`: DNN from log mel (`log`) vs GMM `gmm-a`"),
            "{table}"
        );
        // Tied-state: log holds (+11 vs 2 · 0.01/√2 · √2 ...), waveform reversed, dct within.
        assert!(
            table.contains(
                "On tied-state accuracy: the claim holds in 1 of 3, is reversed in 1, within noise in 1."
            ),
            "{table}"
        );
        assert!(
            table.contains("On PER: the claim holds in 1 of 3"),
            "{table}"
        );
    }

    #[test]
    fn depth_claims_pair_matched_nets_and_the_wide_arm() {
        let net = |run: &str, group: Group, layers: usize, acc: &[f64]| Summary {
            layers,
            ..summary(run, group, ModelKind::Dnn, "log", acc)
        };
        let deep2 = net("deep-2", Group::Deep, 2, &[0.40, 0.41, 0.42]);
        let deep4 = net("deep-4", Group::Deep, 4, &[0.44, 0.45, 0.46]);
        let sh2 = net("sh-2", Group::Shallow, 2, &[0.40, 0.41, 0.42]);
        let wide = net("wide", Group::Wide, 1, &[0.50, 0.51, 0.52]);
        let runs = vec![deep2, deep4, sh2, wide];
        let pairs = depth_pairs(&runs);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].claimed.run, "deep-2");
        assert_eq!(
            judged_metrics(&pairs[0])[0].unwrap().verdict,
            Verdict::WithinNoise
        );
        assert_eq!(pairs[1].claimed.run, "deep-4");
        assert_eq!(
            judged_metrics(&pairs[1])[0].unwrap().verdict,
            Verdict::Reversed
        );
    }

    #[test]
    fn curve_claim_sees_a_gap_that_grows_as_data_shrink() {
        let point = |g: Group, f: f64, acc: &[f64]| {
            let mut s = summary("c", g, ModelKind::Dnn, "log", acc);
            s.fraction = f;
            s
        };
        let runs = vec![
            point(Group::CurveDeep, 0.25, &[0.30, 0.31, 0.32]),
            point(Group::CurveShallow, 0.25, &[0.20, 0.21, 0.22]),
            point(Group::CurveDeep, 1.0, &[0.40, 0.41, 0.42]),
            point(Group::CurveShallow, 1.0, &[0.39, 0.40, 0.41]),
        ];
        let md = curve_claim(&runs).unwrap();
        assert!(md.contains("+10.0 points at 25 %"), "{md}");
        // Gaps +10 and +1: growth +9 against 2 · 0.01 · √2 = 2.8.
        assert!(
            md.contains("the largest, +9.0 points, against a noise of 2.8"),
            "{md}"
        );
        assert!(
            md.contains("holds: the gap grows as the data shrink"),
            "{md}"
        );
        // Equal gaps: no growth.
        let flat = vec![
            point(Group::CurveDeep, 0.25, &[0.30, 0.31, 0.32]),
            point(Group::CurveShallow, 0.25, &[0.29, 0.30, 0.31]),
            point(Group::CurveDeep, 1.0, &[0.40, 0.41, 0.42]),
            point(Group::CurveShallow, 1.0, &[0.39, 0.40, 0.41]),
        ];
        assert!(curve_claim(&flat).unwrap().contains("no change of the gap"));
    }

    fn vote(accuracy: f64, chance: f64) -> VoteScore {
        VoteScore {
            accuracy,
            chance,
            chance_sd: 0.005,
            scored: 5000,
        }
    }

    fn layer(layer: usize, speaker: f64, phone: f64) -> LayerScore {
        LayerScore {
            layer,
            dim: 10,
            speaker_knn: vote(speaker, 0.05),
            speaker_probe: crate::viz::ProbeScore {
                accuracy: speaker * 2.0,
                chance: 0.07,
                tested: 5000,
            },
            phone_knn: Some(vote(phone, 0.04)),
        }
    }

    #[test]
    fn hidden_claim_judges_falls_rises_and_the_random_start() {
        let trained = vec![
            layer(0, 0.13, 0.40),
            layer(1, 0.14, 0.45),
            layer(2, 0.12, 0.50),
            layer(4, 0.10, 0.55),
        ];
        let control = vec![layer(0, 0.13, 0.40), layer(4, 0.13, 0.38)];
        let md = hidden_claim(&trained, &control).unwrap();
        let line = |name: &str| {
            md.lines()
                .find(|l| l.starts_with(name))
                .unwrap()
                .to_string()
        };
        let speaker = line("| speaker k-NN falls");
        // 0.13 → 0.10 over 5000 frames each: se √(.13·.87 + .1·.9)/√5000 ≈ 0.0063.
        assert!(
            speaker.contains("13.0 → 10.0 | +3.0 / 1.3: holds"),
            "{speaker}"
        );
        // Steps: 0→1 rises (+1, within noise), 1→2 falls 2 (holds), 2→4 falls 2 (holds).
        assert!(
            speaker.contains("2 of 3 steps in the claim's direction, 0 against"),
            "{speaker}"
        );
        assert!(speaker.contains("13.0: +3.0 / 1.3: holds"), "{speaker}");
        let phone = line("| phone k-NN rises");
        assert!(phone.contains("40.0 → 55.0 | +15.0"), "{phone}");
        assert!(
            md.contains("speaker k-NN is above its chance level"),
            "{md}"
        );
    }

    #[test]
    fn anchor_table_labels_literature_and_says_the_corpus_size() {
        let runs = vec![
            summary(
                "gmm",
                Group::Suffix,
                ModelKind::Gmm,
                "dct",
                &[0.5, 0.5, 0.5],
            ),
            summary(
                "dnn",
                Group::Suffix,
                ModelKind::Dnn,
                "log",
                &[0.6, 0.6, 0.6],
            ),
        ];
        let md = anchor_section(&runs, 27_500);
        assert_eq!(md.matches("literature:").count(), ANCHORS.len());
        assert!(md.contains("best DNN of this run: `dnn`"), "{md}");
        assert!(
            md.contains("27500 labelled frames: 2.5 % of the about 1.1 million"),
            "{md}"
        );
        assert!(md.contains("about 1/40 of it"), "{md}");
    }
}
