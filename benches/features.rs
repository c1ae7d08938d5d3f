//! Per-stage and whole-chain cost of the Kaldi MFCC pipeline on 3 s of audio (one thread).
//! Peer figures (kaldi-native-fbank, librosa, python_speech_features) come from
//! scripts/bench-features.sh, which runs on the TIMIT sample held in memory.
//! Also: WAV decoding against hound's reader, and deltas at Kaldi's window and at the widest.

use std::path::Path;

use asrpipe::audio::{Channel, ReadOptions, Waveform, decode};
use asrpipe::frontend::StageKind;
use asrpipe::frontend::deltas::{DeltaOptions, Deltas, MAX_WINDOW};
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

/// 3 s of the speechlike signal as a 16-bit WAV with `channels` identical channels.
fn wav_file(channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    for &s in &speechlike(3.0).samples {
        for _ in 0..channels {
            w.write_sample(s as i16).unwrap();
        }
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn read_wav(c: &mut Criterion) {
    let mut group = c.benchmark_group("read-wav-3s");
    group.throughput(Throughput::Elements(48000));
    let mono = wav_file(1);
    let stereo = wav_file(2);
    let path = Path::new("bench.wav");
    group.bench_function("asrpipe-mono", |b| {
        b.iter(|| decode(path, &mono, &ReadOptions::default()).unwrap())
    });
    let mean = ReadOptions {
        channel: Channel::Mean,
        ..ReadOptions::default()
    };
    group.bench_function("asrpipe-stereo-mean", |b| {
        b.iter(|| decode(path, &stereo, &mean).unwrap())
    });
    group.bench_function("hound-mono", |b| {
        b.iter(|| {
            let r = hound::WavReader::new(std::io::Cursor::new(&mono)).unwrap();
            r.into_samples::<i16>()
                .map(|s| f32::from(s.unwrap()))
                .collect::<Vec<f32>>()
        })
    });
    group.finish();
}

fn deltas(c: &mut Criterion) {
    let mut group = c.benchmark_group("deltas");
    let x = ndarray::Array2::from_shape_fn((300, 13), |(i, j)| ((i * 7 + j * 3) % 17) as f32);
    let kaldi = Deltas::new(&DeltaOptions {
        order: 2,
        window: 2,
    })
    .unwrap();
    group.bench_function("apply-order2-window2-300x13", |b| {
        b.iter(|| kaldi.apply(x.view()))
    });
    let widest = DeltaOptions {
        order: 4,
        window: MAX_WINDOW,
    };
    group.bench_function("build-order4-window1000", |b| {
        b.iter(|| Deltas::new(&widest).unwrap())
    });
    group.finish();
}

criterion_group!(benches, chain, read_wav, deltas);
criterion_main!(benches);
