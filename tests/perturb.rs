//! Speed perturbation (Kaldi's 0.9/1.0/1.1 recipe): copies of training utterances as
//! pseudo-speakers, labels scaled to the new length, audio played at the new speed; the 1.0 copy is
//! the original.

use asrpipe::corpus::perturb::{KALDI_3WAY, perturbed, speed_perturb};
use asrpipe::corpus::{Corpus, Segment, Split, Splits};
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::train::Env;

/// A 16 kHz mono WAV of a 500 Hz tone, 12000 samples, with a hand alignment (a manifest row).
fn tone_corpus(dir: &std::path::Path) -> Corpus {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.join("t.wav"), spec).unwrap();
    for n in 0..12_000 {
        let v = 8000.0 * (2.0 * std::f64::consts::PI * 500.0 * n as f64 / 16_000.0).sin();
        w.write_sample(v.round() as i16).unwrap();
    }
    w.finalize().unwrap();
    std::fs::write(
        dir.join("t.phn"),
        "0 1600 h#\n1600 2400 hh\n2400 12000 ah\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("manifest.tsv"),
        "audio\tspeaker\talignment\tnum_samples\nt.wav\tfab0\tt.phn\t12000\n",
    )
    .unwrap();
    Corpus::open(dir).unwrap()
}

/// Upward zero crossings per second in the middle of `x` at `rate`: the tone's frequency.
fn frequency(x: &[f32], rate: f64) -> f64 {
    let mid = &x[x.len() / 4..3 * x.len() / 4];
    let ups: Vec<usize> = (1..mid.len())
        .filter(|&i| mid[i - 1] < 0.0 && mid[i] >= 0.0)
        .collect();
    (ups.len() - 1) as f64 * rate / (ups[ups.len() - 1] - ups[0]) as f64
}

#[test]
fn labels_scale_and_the_audio_plays_at_the_new_speed() {
    let dir = tempfile::tempdir().unwrap();
    let c = tone_corpus(dir.path());
    let u = &c.utterances[0];
    let times = |u: &asrpipe::corpus::Utterance| -> Vec<(u64, u64)> {
        u.phones
            .iter()
            .map(|s: &Segment| (s.start, s.end))
            .collect()
    };
    // 0.9: positions x 1/0.9, to the nearest sample; 1600 -> 1777.8 -> 1778, 2400 -> 2666.7 ->
    // 2667, 12000 -> 13333.3 -> 13333; the length ceil(12000 / 0.9) = 13334.
    let slow = perturbed(u, 900).unwrap();
    assert_eq!(slow.id, format!("sp0.9-{}", u.id));
    assert_eq!(slow.speaker, "sp0.9-fab0");
    assert_eq!(times(&slow), [(0, 1778), (1778, 2667), (2667, 13_333)]);
    assert_eq!(slow.num_samples, Some(13_334));
    // 1.1: 1600 / 1.1 = 1454.5 -> 1455, 2400 / 1.1 = 2181.8 -> 2182, 12000 / 1.1 = 10909.1 ->
    // 10909; the length ceil(10909.09) = 10910.
    let fast = perturbed(u, 1100).unwrap();
    assert_eq!(times(&fast), [(0, 1455), (1455, 2182), (2182, 10_909)]);
    assert_eq!(fast.num_samples, Some(10_910));

    let ex = Extractor::new(&Pipeline::kaldi_mfcc()).unwrap();
    let orig = ex.read_utterance(u).unwrap();
    let read_slow = ex.read_utterance(&slow).unwrap();
    let read_fast = ex.read_utterance(&fast).unwrap();
    assert_eq!(read_slow.samples.len(), 13_334);
    assert_eq!(read_fast.samples.len(), 10_910);
    // The 500 Hz tone plays at 450 Hz and 550 Hz.
    assert!((frequency(&orig.samples, 16_000.0) - 500.0).abs() < 0.5);
    assert!((frequency(&read_slow.samples, 16_000.0) - 450.0).abs() < 0.5);
    assert!((frequency(&read_fast.samples, 16_000.0) - 550.0).abs() < 0.5);
    // The 1.0 copy is the original: same samples, same labels.
    let same = perturbed(u, 1000).unwrap();
    assert_eq!(ex.read_utterance(&same).unwrap(), orig);
    assert_eq!(same.phones, u.phones);
    assert_eq!(same.num_samples, u.num_samples);
    // The copies' features and labels line up (the dataset refuses a mismatch).
    let env = Env::new(&c);
    let set = env.load("t", &[u, &slow, &fast], &ex).unwrap();
    let frames: Vec<usize> = set.utts.iter().map(|u| u.feats.nrows()).collect();
    // 1 + (n - 400) / 160 frames.
    assert_eq!(frames, [73, 81, 66]);
}

#[test]
fn training_speakers_get_copies_in_the_training_split_only() {
    let demo = Corpus::open(&Corpus::demo_dir()).unwrap();
    let before = Splits::for_corpus(&demo);
    let sp = speed_perturb(&demo, &KALDI_3WAY).unwrap();
    let after = Splits::for_corpus(&sp);
    let count = |c: &Corpus, s: &Splits, split: Split| {
        c.utterances
            .iter()
            .filter(|u| s.of_speaker(&u.speaker) == Some(split))
            .count()
    };
    let train = count(&demo, &before, Split::Train);
    assert!(train > 0);
    assert_eq!(count(&sp, &after, Split::Train), 3 * train);
    assert_eq!(
        count(&sp, &after, Split::Test),
        count(&demo, &before, Split::Test)
    );
    assert_eq!(sp.utterances.len(), demo.utterances.len() + 2 * train);
    for u in sp.utterances.iter().filter(|u| u.speed.is_some()) {
        let base = u.speaker.split_once('-').unwrap().1;
        assert_eq!(before.of_speaker(base), Some(Split::Train), "{}", u.id);
        assert!(
            u.id.starts_with("sp0.9-") || u.id.starts_with("sp1.1-"),
            "{}",
            u.id
        );
    }
}
