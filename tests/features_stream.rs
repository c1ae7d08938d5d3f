//! `asrpipe features` computes as it reads and writes as it computes; its bytes are those of
//! the offline path (every file read whole, [`Extractor::files`], then [`Output::write`]) for
//! every output format, for long files whose features are written in pieces and short ones
//! computed in parallel, for CMVN over the utterance, deltas and splicing, and with dither.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use asrpipe::io::export::{self, Output};
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;

/// A 16-bit mono 16 kHz WAV of `n` samples: tones, a sweep and seeded noise at speech levels.
fn synth(path: &Path, n: usize, seed: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    for i in 0..n {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let t = i as f32 / 16000.0;
        let noise = (state % 2001) as f32 - 1000.0;
        let v = 4000.0 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
            + 1500.0 * (2.0 * std::f32::consts::PI * (300.0 + 40.0 * t) * t).sin()
            + noise;
        w.write_sample(v as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Every file (recursively) under `p`, or `p` itself, with its bytes, by relative path.
fn contents(p: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if p.is_file() {
        return vec![(PathBuf::new(), std::fs::read(p).unwrap())];
    }
    let mut out: Vec<_> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|f| {
            (
                f.strip_prefix(p).unwrap().to_path_buf(),
                std::fs::read(&f).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Run `features` on `inputs` with `extra` arguments to each output name in `outputs`, and
/// compare with the offline path's bytes.
fn check(pipeline: Option<&Path>, inputs: &[PathBuf], outputs: &[&str], dir: &Path) {
    let p = match pipeline {
        Some(p) => Pipeline::load(p).unwrap(),
        None => Pipeline::kaldi_mfcc(),
    };
    let extractor = Extractor::new(&p).unwrap();
    let feats = extractor.files(inputs, || ()).unwrap();
    for name in outputs {
        let streamed = dir.join(format!("stream-{name}"));
        let offline = dir.join(format!("offline-{name}"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asrpipe"));
        cmd.args(["features", "--quiet", "-o"]).arg(&streamed);
        if let Some(p) = pipeline {
            cmd.arg("--pipeline").arg(p);
        }
        common::run_ok(cmd.args(inputs));
        let out = Output::plan(&offline, None, inputs, inputs.len(), false).unwrap();
        let keys = export::keys_for(inputs).unwrap();
        let keys = export::unique_keys(out.format, &keys, inputs).unwrap();
        let items: Vec<_> = keys.into_iter().zip(feats.iter().cloned()).collect();
        out.write(&items).unwrap();
        let (a, b) = (contents(&streamed), contents(&offline));
        assert_eq!(a.len(), b.len(), "{name}: files");
        for ((fa, ba), (fb, bb)) in a.iter().zip(&b) {
            assert_eq!(fa, fb, "{name}");
            assert!(
                ba == bb,
                "{name}: {} differs from the offline bytes",
                fa.display()
            );
        }
    }
}

#[test]
fn streamed_features_are_the_offline_bytes_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Odd lengths: past two read chunks (2^19 samples), not a whole number of frame shifts.
    // The 3-minute file's features are written in pieces; the others are computed whole, in
    // parallel, each read in chunks.
    let long = d.join("long.wav");
    synth(&long, 16000 * 180 + 12_345, 1);
    let mid = d.join("mid.wav");
    synth(&mid, (1 << 19) * 2 + 161, 2);
    let short = d.join("short.wav");
    synth(&short, 401, 3);
    let mut inputs = vec![long.clone(), mid.clone(), short];
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/demo/dr1-fslt0");
    let mut flacs: Vec<PathBuf> = std::fs::read_dir(&demo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    flacs.sort();
    inputs.extend(flacs.into_iter().take(3));
    if let Some(timit) = common::timit_sample() {
        // NIST SPHERE.
        inputs.push(timit.join("dr1-fvmh0/si836.wav"));
    }
    check(
        None,
        &inputs,
        &["f.npz", "f.ark", "f.txt", "f.csv", "npy"],
        d,
    );

    // The chain cut at `dft` (514 values a frame): the long file's 37 MB are written in pieces.
    let dft = d.join("dft.yaml");
    std::fs::write(
        &dft,
        "sample_rate: 16000\nstages:\n  - waveform: {}\n  - dft: {}\n",
    )
    .unwrap();
    check(Some(&dft), std::slice::from_ref(&long), &["d.npy"], d);
    check(
        Some(&dft),
        &[long.clone(), mid.clone()],
        &["d.npz", "d.ark", "dnpy"],
        d,
    );

    // CMVN over the utterance (two passes), deltas and splicing (lookahead), 483 values a frame;
    // and with dither (frames computed in order, one generator).
    for (name, waveform) in [("post", "{}"), ("dither", "{ dither: 1.0 }")] {
        let post = d.join(format!("{name}.yaml"));
        std::fs::write(
            &post,
            format!(
                "sample_rate: 16000\nstages:\n  - waveform: {waveform}\n  - dft: {{}}\n  \
                 - spectrogram: {{}}\n  - filterbank: {{}}\n  - log: {{}}\npost:\n  \
                 cmvn: {{ mode: utterance, norm_vars: true }}\n  deltas: {{ order: 2 }}\n  \
                 splice: {{ context: 3 }}\n"
            ),
        )
        .unwrap();
        check(
            Some(&post),
            &[long.clone(), mid.clone()],
            &[&format!("{name}.npz"), &format!("{name}.txt")],
            d,
        );
    }
}
