//! The articulation claim: do a network's layers arrange vowel frames as the vowel chart does?
//! Per layer, a t-SNE map of the test speakers' vowel frames coloured by vowel, beside the vowels'
//! places on the F1/F2 chart (typical formant values), and a vowel-identification score
//! (k-NN with candidates from other utterances, with its computed chance level) for the trained
//! network and for the same network at its random start.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis, concatenate};

use crate::corpus::{PhoneSet, Split};
use crate::error::{Error, Result};
use crate::pipeline::extractor::Extractor;
use crate::study::hidden::{dnn_of, random_start};
use crate::train::{Env, Trained};
use crate::viz::{self, VoteScore};

/// Average formants (Hz) of American English vowels: the mean of the men's and the women's
/// averages in Hillenbrand, Getty, Clark & Wheeler (1995), "Acoustic characteristics of American
/// English vowels", JASA 97(5), 3099–3111, Table V (steady-state F1, F2). Names are TIMIT's
/// 39-phone set (/ɔ/ folds into `aa` there, so it is left out).
///
/// Checked against two public copies: a transcription of Table V (github.com/ctoth/Qlatt,
/// `papers/Hillenbrand_1995_VowelAcoustics/notes.md`), which agrees with every value below, and
/// the descriptive statistics distributed with the recordings (`vowdata.ds` from
/// homepages.wmich.edu/~hillenbr/voweldata.html, mirrored in github.com/kleinschmidt/
/// hdp-bayes-vowels), whose means differ from Table V by at most 25 Hz (/ɑ/ F2). Hillenbrand's
/// codes: `ah` "hod" = TIMIT `aa`, `uh` "hud" = `ah`, `oo` "hood" = `uh`.
pub const VOWEL_FORMANTS: [(&str, f32, f32); 9] = [
    // (vowel, F1, F2): (men + women) / 2
    ("iy", (342.0 + 437.0) / 2.0, (2322.0 + 2761.0) / 2.0),
    ("ih", (427.0 + 483.0) / 2.0, (2034.0 + 2365.0) / 2.0),
    ("eh", (580.0 + 731.0) / 2.0, (1799.0 + 2058.0) / 2.0),
    ("ae", (588.0 + 669.0) / 2.0, (1952.0 + 2349.0) / 2.0),
    ("aa", (768.0 + 936.0) / 2.0, (1333.0 + 1551.0) / 2.0),
    ("ah", (623.0 + 753.0) / 2.0, (1200.0 + 1426.0) / 2.0),
    ("uh", (469.0 + 519.0) / 2.0, (1122.0 + 1225.0) / 2.0),
    ("uw", (378.0 + 459.0) / 2.0, (997.0 + 1105.0) / 2.0),
    ("er", (474.0 + 523.0) / 2.0, (1379.0 + 1588.0) / 2.0),
];

/// Settings of the vowel analysis.
#[derive(Debug, Clone)]
pub struct VowelOptions {
    /// Layers: 0 = the network's input, 1.. = hidden layers.
    pub layers: Vec<usize>,
    /// Neighbours of the k-NN score.
    pub k: usize,
    /// Most frames per vowel in the maps (every frame is scored).
    pub shown_per_vowel: usize,
    /// t-SNE perplexity.
    pub perplexity: f32,
    /// Seed of the t-SNE maps.
    pub seed: u64,
}

impl Default for VowelOptions {
    fn default() -> Self {
        VowelOptions {
            layers: vec![0, 1, 2, 4],
            k: 5,
            shown_per_vowel: 120,
            perplexity: 30.0,
            seed: 0,
        }
    }
}

/// Vowel identification at one layer, trained and at the random start.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VowelScore {
    /// 0 = input, 1.. = hidden layer.
    pub layer: usize,
    /// Units of the layer.
    pub dim: usize,
    /// k-NN vowel identification of the trained network (candidates: other utterances).
    pub trained: VoteScore,
    /// The same for the network at its random start.
    pub random_start: VoteScore,
}

/// What the vowel analysis found and wrote.
#[derive(Debug, Clone)]
pub struct VowelReport {
    /// Per layer.
    pub scores: Vec<VowelScore>,
    /// Vowel frames scored, per vowel (in [`VOWEL_FORMANTS`] order).
    pub frames: Vec<usize>,
    /// Seed of the random start (the training seed).
    pub control_seed: u64,
    /// Neighbours of the k-NN score.
    pub k: usize,
    /// Files written.
    pub figures: Vec<PathBuf>,
}

/// Vowel frames of the test split through `trained`'s layers: `<stem>.png/.svg` with the F1/F2
/// chart and one t-SNE panel per layer, and the per-layer scores.
pub fn vowel_maps(
    env: &Env,
    trained: &Trained,
    opts: &VowelOptions,
    stem: &Path,
) -> Result<VowelReport> {
    let dnn = dnn_of(trained, "the vowel maps")?;
    check_options(dnn, opts)?;
    let utts = env.utterances(Split::Test);
    let extractor = Extractor::new(&trained.pipeline)?;
    let set = env.load("test feats (vowels)", &utts, &extractor)?;
    let picked = vowel_frames(&set)?;
    let vowel: Vec<usize> = picked.iter().map(|p| p.2).collect();
    let utt: Vec<usize> = picked.iter().map(|p| p.0).collect();
    let mut frames = vec![0usize; VOWEL_FORMANTS.len()];
    vowel.iter().for_each(|&v| frames[v] += 1);
    if frames.iter().filter(|&&n| n > 0).count() < 2 {
        return Err(Error::invalid(format!(
            "vowel maps: the test split has frames of {} of the {} vowels; at least 2 are needed",
            frames.iter().filter(|&&n| n > 0).count(),
            VOWEL_FORMANTS.len()
        )));
    }
    let rows_at = |net: &crate::model::dnn::Dnn, layer: usize| -> Result<Array2<f32>> {
        let per_utt: Vec<Array2<f32>> = set
            .utts
            .iter()
            .enumerate()
            .map(|(ui, u)| {
                let a = net.activations(u.feats.view(), layer)?;
                let keep: Vec<usize> = picked.iter().filter(|p| p.0 == ui).map(|p| p.1).collect();
                Ok(a.select(Axis(0), &keep))
            })
            .collect::<Result<_>>()?;
        let views: Vec<_> = per_utt.iter().map(|r| r.view()).collect();
        concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))
    };
    // Frames of one utterance share samples and context: candidates are other utterances.
    let ok = |i: usize, j: usize| utt[i] != utt[j];
    let score = |x: &Array2<f32>| -> Result<VoteScore> {
        let nn = viz::nearest_neighbours_many(x.view(), opts.k, &[&ok])?;
        Ok(viz::keyed_vote_score(&nn[0], &vowel, &utt, opts.k, ok))
    };
    let control_seed = trained.about.seed;
    let fresh = random_start(dnn, control_seed)?;
    // Every vowel's frames thinned evenly to at most `shown_per_vowel` for the maps.
    let mut shown = Vec::new();
    for (v, &n) in frames.iter().enumerate() {
        let of_v: Vec<usize> = (0..vowel.len()).filter(|&i| vowel[i] == v).collect();
        let step = n.div_ceil(opts.shown_per_vowel).max(1);
        shown.extend(of_v.into_iter().step_by(step));
    }
    shown.sort_unstable();
    let labels: Vec<usize> = shown.iter().map(|&i| vowel[i]).collect();
    let (mut scores, mut maps) = (Vec::new(), Vec::new());
    for &layer in &opts.layers {
        env.observer.begin(&format!("vowels, layer {layer}"), 0);
        let x = rows_at(dnn, layer)?;
        let r = rows_at(&fresh, layer)?;
        scores.push(VowelScore {
            layer,
            dim: x.ncols(),
            trained: score(&x)?,
            random_start: score(&r)?,
        });
        maps.push(x.select(Axis(0), &shown));
        env.observer.end();
    }
    env.observer.begin("t-SNE (vowels)", 0);
    let tsne = viz::tsne_many(
        &maps.iter().map(|m| m.view()).collect::<Vec<_>>(),
        &viz::TsneOptions {
            perplexity: opts
                .perplexity
                .min((shown.len().saturating_sub(1) / 3) as f32),
            seed: opts.seed,
            ..Default::default()
        },
    );
    env.observer.end();
    let figures = draw(trained, opts, stem, tsne?, &scores, &labels)?;
    Ok(VowelReport {
        scores,
        frames,
        control_seed,
        k: opts.k,
        figures,
    })
}

/// An error unless every layer exists and the counts are at least 1.
fn check_options(dnn: &crate::model::dnn::Dnn, opts: &VowelOptions) -> Result<()> {
    let depth = dnn.layers().len() - 1;
    if let Some(&l) = opts.layers.iter().find(|&&l| l > depth) {
        return Err(Error::invalid(format!(
            "vowel maps: layer {l} does not exist: the network has {depth} hidden layers"
        )));
    }
    if opts.layers.is_empty() || opts.k == 0 || opts.shown_per_vowel == 0 {
        return Err(Error::invalid(
            "vowel maps: give at least one layer, k >= 1 and shown_per_vowel >= 1",
        ));
    }
    Ok(())
}

/// (utterance, frame, vowel) of every vowel frame of `set`, in one order for every layer.
fn vowel_frames(set: &crate::train::dataset::FrameSet) -> Result<Vec<(usize, usize, usize)>> {
    let phones = PhoneSet::timit();
    let vowel_of: Vec<Option<usize>> = (0..phones.p39.len() as u16)
        .map(|id| {
            VOWEL_FORMANTS
                .iter()
                .position(|v| v.0 == phones.p39.name(id))
        })
        .collect();
    if let Some(v) = VOWEL_FORMANTS.iter().find(|v| phones.p39.id(v.0).is_none()) {
        return Err(Error::invalid(format!(
            "vowel `{}` is not in the 39-phone set",
            v.0
        )));
    }
    let mut picked: Vec<(usize, usize, usize)> = Vec::new();
    for (ui, u) in set.utts.iter().enumerate() {
        for (t, l) in u.labels.iter().enumerate() {
            if let Some(l) = l
                && let Some(v) = vowel_of[phones.fold_48_to_39(l.phone) as usize]
            {
                picked.push((ui, t, v));
            }
        }
    }
    Ok(picked)
}

/// The vowel chart beside one t-SNE panel per layer, as `<stem>.png` and `<stem>.svg`.
fn draw(
    trained: &Trained,
    opts: &VowelOptions,
    stem: &Path,
    tsne: Vec<Array2<f32>>,
    scores: &[VowelScore],
    labels: &[usize],
) -> Result<Vec<PathBuf>> {
    let chart = Array2::from_shape_fn((VOWEL_FORMANTS.len(), 2), |(i, j)| {
        if j == 0 {
            VOWEL_FORMANTS[i].2
        } else {
            VOWEL_FORMANTS[i].1
        }
    });
    let mut panels = vec![
        viz::Panel::new(
            "vowel chart: typical F1/F2\n(Hillenbrand et al. 1995, men and women averaged)",
            chart,
            (0..VOWEL_FORMANTS.len()).collect(),
        )
        .axes("F2 (Hz)", "F1 (Hz)"),
    ];
    for (map, sc) in tsne.into_iter().zip(scores) {
        panels.push(
            viz::Panel::new(
                format!(
                    "{} ({} dims)\nvowel k-NN {:.1} % (chance {:.1})\nrandom start {:.1} %",
                    if sc.layer == 0 {
                        "input".to_string()
                    } else {
                        format!("layer {}", sc.layer)
                    },
                    sc.dim,
                    100.0 * sc.trained.accuracy,
                    100.0 * sc.trained.chance,
                    100.0 * sc.random_start.accuracy,
                ),
                map,
                labels.to_vec(),
            )
            .axes("t-SNE 1", "t-SNE 2"),
        );
    }
    let styles: Vec<viz::LabelStyle> = VOWEL_FORMANTS
        .iter()
        .enumerate()
        .map(|(i, v)| viz::LabelStyle {
            name: v.0.to_string(),
            colour: vowel_colour(i),
            shape: [viz::Shape::Circle, viz::Shape::Triangle][i % 2],
        })
        .collect();
    let mut figures = Vec::new();
    for ext in ["png", "svg"] {
        let mut s = stem.as_os_str().to_owned();
        s.push(format!(".{ext}"));
        let path = PathBuf::from(s);
        viz::scatter_panels_styled(
            &path,
            &panels,
            &styles,
            &format!(
                "Vowel frames of the test speakers through {} {} fed from `{}` ({} shown per vowel at most, all scored)",
                trained.about.kind.name().to_uppercase(),
                trained.about.spec,
                trained.about.from,
                opts.shown_per_vowel
            ),
            "vowel",
        )?;
        figures.push(path);
    }
    Ok(figures)
}

/// Nine colours told apart at a glance: the seven of Okabe & Ito, then two more (a brown and a
/// grey) that none of them resembles; the marker alternates as well.
fn vowel_colour(i: usize) -> plotters::style::RGBColor {
    match i {
        7 => plotters::style::RGBColor(140, 81, 10),
        8 => plotters::style::RGBColor(150, 150, 150),
        _ => viz::okabe_ito(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formant_table_is_a_vowel_chart() {
        let f = |v: &str| *VOWEL_FORMANTS.iter().find(|x| x.0 == v).unwrap();
        // High front /i/ has the lowest F1 and the highest F2; low back /a/ the highest F1.
        let (iy, aa, uw) = (f("iy"), f("aa"), f("uw"));
        assert!(VOWEL_FORMANTS.iter().all(|v| v.1 >= iy.1 && v.2 <= iy.2));
        assert!(VOWEL_FORMANTS.iter().all(|v| v.1 <= aa.1));
        assert!(uw.2 < 1100.0 && uw.1 < 450.0);
        let phones = PhoneSet::timit();
        assert!(VOWEL_FORMANTS.iter().all(|v| phones.p39.id(v.0).is_some()));
    }
}
