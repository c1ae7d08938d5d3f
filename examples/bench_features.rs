//! Feature extraction speed on audio held in memory, as `scripts/bench-features.sh` reports it:
//! `cargo run --release --example bench_features -- DIR [PIPELINE] [STAGE] [THREADS...]`
//! prints one tab-separated line per thread count: seconds, audio seconds, x real time.
//! A stage name (`filterbank`, say) cuts the pipeline after that stage.

use std::path::{Path, PathBuf};
use std::time::Instant;

use asrpipe::audio::Waveform;
use asrpipe::frontend::StageKind;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use rayon::prelude::*;

fn audio_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            audio_files(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("wav" | "WAV" | "flac")
        ) {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .expect("usage: bench_features DIR [PIPELINE] [STAGE] [THREADS...]"),
    );
    let mut pipeline = match args.get(1) {
        Some(p) if p.ends_with(".yaml") => Pipeline::load(Path::new(p)).expect("pipeline"),
        _ => Pipeline::kaldi_mfcc(),
    };
    if let Some(stage) = args.iter().skip(1).find_map(|a| StageKind::parse(a)) {
        pipeline = pipeline.until(stage).expect("a stage of the pipeline");
    }
    let threads: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = if threads.is_empty() {
        vec![1, 2]
    } else {
        threads
    };
    let ex = Extractor::new(&pipeline).expect("extractor");
    let mut files = Vec::new();
    audio_files(&dir, &mut files);
    let waves: Vec<(String, Waveform)> = files
        .iter()
        .map(|p| {
            (
                p.to_string_lossy().into_owned(),
                ex.read_audio(p).expect("audio"),
            )
        })
        .collect();
    let audio_secs: f64 = waves.iter().map(|(_, w)| w.duration_secs()).sum();
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("pool");
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            let frames: usize = pool.install(|| {
                waves
                    .par_iter()
                    .map(|(name, w)| ex.chain(w, name).expect("features").nrows())
                    .sum()
            });
            best = best.min(start.elapsed().as_secs_f64());
            std::hint::black_box(frames);
        }
        println!(
            "asrpipe ({} thread{})\t{best:.4}\t{audio_secs:.2}\t{:.0}",
            t,
            if t == 1 { "" } else { "s" },
            audio_secs / best
        );
    }
}
