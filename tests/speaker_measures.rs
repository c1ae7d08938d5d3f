//! The hidden-layer study's speaker and phone measures on constructed data: separable speakers
//! score ~100 %, shuffled speaker labels score their computed chance.

use asrpipe::study::hidden::{Frames, HiddenOptions};
use asrpipe::viz::{LinearProbe, ProbeOptions, vote_chance};
use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const SPEAKERS: usize = 6;
const SENTENCES: usize = 2;
const PHONES: usize = 5;
const PER_PHONE: usize = 8;

/// Frames of SPEAKERS speakers saying SENTENCES sentences, PER_PHONE frames of each of PHONES
/// phones per utterance. Features: `speaker_gap` times a speaker one-hot, a phone one-hot and
/// unit Gaussian noise in 16 dimensions.
fn corpus(speaker_gap: f32, seed: u64) -> (Frames, Array2<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dim = 16;
    let mut f = Frames {
        utt: Vec::new(),
        speaker: Vec::new(),
        sentence: Vec::new(),
        phone: Vec::new(),
        speakers: SPEAKERS,
    };
    let mut rows = Vec::new();
    for s in 0..SPEAKERS {
        for sent in 0..SENTENCES {
            for p in 0..PHONES {
                for _ in 0..PER_PHONE {
                    f.utt.push(s * SENTENCES + sent);
                    f.speaker.push(s);
                    f.sentence.push(sent);
                    f.phone.push(p);
                    let mut x: Vec<f32> = (0..dim)
                        .map(|_| 0.3 * Distribution::<f32>::sample(&StandardNormal, &mut rng))
                        .collect();
                    x[s] += speaker_gap;
                    x[SPEAKERS + p] += 3.0;
                    rows.extend(x);
                }
            }
        }
    }
    let n = f.utt.len();
    (f, Array2::from_shape_vec((n, dim), rows).unwrap())
}

#[test]
fn separable_speakers_are_identified() {
    let (frames, x) = corpus(10.0, 1);
    let sc = frames.score(x.view(), &HiddenOptions::default()).unwrap();
    assert_eq!(sc.speaker_knn.scored, frames.utt.len());
    assert!(sc.speaker_knn.accuracy > 0.99, "{:?}", sc.speaker_knn);
    assert!(sc.speaker_probe.accuracy > 0.99, "{:?}", sc.speaker_probe);
    assert_eq!(sc.speaker_probe.tested, frames.utt.len());
    // Balanced speakers: the majority-class chance of each test sentence is 1 / speakers.
    assert!((sc.speaker_probe.chance - 1.0 / SPEAKERS as f64).abs() < 1e-12);
    // Same-phone candidates from the other sentence: 8 frames of each of 6 speakers. With k = 5
    // drawn from 48, the own speaker (8 of them) wins with the probability vote_chance gives,
    // the same for every frame.
    let mut counts = [PER_PHONE; SPEAKERS];
    counts[0] = PER_PHONE;
    let expect = vote_chance(&counts, 0, 5);
    assert!((sc.speaker_knn.chance - expect).abs() < 1e-12);
    // Phones are separable too (the phone one-hot outweighs the noise).
    let phone = sc.phone_knn.as_ref().expect("phone labels given");
    assert!(phone.accuracy > 0.99, "{phone:?}");
}

#[test]
fn shuffled_speakers_score_their_computed_chance() {
    let opts = HiddenOptions::default();
    let (mut frames, x) = corpus(0.0, 2);
    let (mut diffs, mut sds) = (Vec::new(), Vec::new());
    let shuffles = 20;
    for seed in 0..shuffles {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        frames.speaker.shuffle(&mut rng);
        let sc = frames.score(x.view(), &opts).unwrap();
        let k = sc.speaker_knn;
        diffs.push(k.accuracy - k.chance);
        sds.push(k.chance_sd);
        // The probe cannot beat always guessing the majority speaker by more than noise.
        let p = sc.speaker_probe;
        let sd = (p.chance * (1.0 - p.chance) / p.tested as f64).sqrt();
        assert!(p.accuracy <= p.chance + 2.0 * sd, "shuffle {seed}: {p:?}");
    }
    let n = shuffles as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // Shuffles within two standard deviations (measured over the shuffles) of their chance: 95 %
    // of them for a normal spread, at least 90 % asked here (18 of 20); their mean within two
    // standard errors.
    let inside = diffs.iter().filter(|d| d.abs() <= 2.0 * sd).count();
    assert!(
        inside >= 18,
        "{inside} of {shuffles} within 2 sd: {diffs:?}"
    );
    assert!(mean.abs() <= 2.0 * sd / n.sqrt(), "mean {mean}, sd {sd}");
    // The analytic sd (frames taken as independent) is of the right size: neighbouring frames
    // share neighbours, so the spread over shuffles is somewhat larger.
    let analytic = sds.iter().sum::<f64>() / n;
    assert!(
        sd > 0.5 * analytic && sd < 2.0 * analytic,
        "{sd} vs {analytic}"
    );
}

#[test]
fn any_phone_candidates_change_the_chance() {
    // Without the same-phone restriction every frame of the other sentence is a candidate:
    // 6 speakers x 40 frames, own speaker 40 of 240.
    let (frames, x) = corpus(10.0, 3);
    let opts = HiddenOptions {
        same_phone: false,
        ..HiddenOptions::default()
    };
    let sc = frames.score(x.view(), &opts).unwrap();
    let expect = vote_chance(&[PHONES * PER_PHONE; SPEAKERS], 0, 5);
    assert!((sc.speaker_knn.chance - expect).abs() < 1e-12);
    assert!(sc.speaker_knn.accuracy > 0.99);
}

#[test]
fn probe_learns_a_linear_rule_and_rejects_bad_input() {
    // Three classes split by the sign pattern of two coordinates of a Gaussian cloud.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let n = 600;
    let x = Array2::from_shape_simple_fn((n, 4), || -> f32 { StandardNormal.sample(&mut rng) });
    let label = |r: ndarray::ArrayView1<f32>| {
        if r[0] > 0.5 {
            0
        } else if r[1] > 0.0 {
            1
        } else {
            2
        }
    };
    let labels: Vec<usize> = x.rows().into_iter().map(label).collect();
    let opts = ProbeOptions {
        iterations: 500,
        l2: 1e-4,
    };
    let probe = LinearProbe::fit(x.view(), &labels, 3, &opts).unwrap();
    let pred = probe.predict(x.view()).unwrap();
    let right = pred.iter().zip(&labels).filter(|(p, l)| p == l).count();
    assert!(right as f64 / n as f64 > 0.95, "{right} of {n}");
    assert!(LinearProbe::fit(x.view(), &labels, 2, &opts).is_err());
    assert!(probe.predict(x.slice(ndarray::s![.., ..3])).is_err());
}
