//! Per-stage and whole-chain cost of the Kaldi MFCC pipeline on 3 s of audio (one thread).
//! Peer figures (kaldi-native-fbank, librosa, python_speech_features) come from
//! scripts/bench-features.sh, which runs on the TIMIT sample held in memory.

use asrpipe::audio::Waveform;
use asrpipe::frontend::StageKind;
use asrpipe::pipeline::Pipeline;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn speechlike(seconds: f64) -> Waveform {
    // Deterministic sum of drifting harmonics plus a little noise: enough to exercise every stage.
    let rate = 16000;
    let n = (seconds * rate as f64) as usize;
    let mut state = 12345u32;
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let f0 = 120.0 + 30.0 * (2.0 * std::f64::consts::PI * 0.5 * t).sin();
            let voiced: f64 = (1..8)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 16) as f64 / 65536.0 - 0.5;
            (3000.0 * voiced + 200.0 * noise) as f32
        })
        .collect();
    Waveform {
        samples,
        sample_rate: rate,
    }
}

fn chain(c: &mut Criterion) {
    let wav = speechlike(3.0);
    let mfcc = Pipeline::kaldi_mfcc();
    let mut group = c.benchmark_group("kaldi-mfcc-3s");
    group.throughput(Throughput::Elements(wav.samples.len() as u64));
    for until in [
        StageKind::Waveform,
        StageKind::Dft,
        StageKind::Spectrogram,
        StageKind::Filterbank,
        StageKind::Log,
        StageKind::Dct,
    ] {
        let frontend = mfcc.until(until).unwrap().frontend().unwrap();
        group.bench_function(format!("until-{until}"), |b| {
            b.iter(|| frontend.compute(&wav, 0).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
