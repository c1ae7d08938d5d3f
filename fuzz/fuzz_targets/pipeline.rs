//! Any text as a pipeline YAML file; a pipeline that loads must also build and run on a short
//! waveform without panicking.
#![no_main]

use std::path::Path;

use asrpipe::audio::Waveform;
use asrpipe::frontend::cmvn::CmvnStats;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.yaml");
    let Ok(pipeline) = Pipeline::parse(text, path) else {
        return;
    };
    // What a loaded pipeline is stored as beside a model must load again.
    if let Err(e) = Pipeline::parse(&pipeline.to_yaml(), path) {
        panic!("to_yaml output does not parse again: {e}");
    }
    let Ok(extractor) = Extractor::new(&pipeline) else {
        return;
    };
    // 50 ms of a chirp at the pipeline's rate (capped: frames of up to 65536 samples every
    // sample would otherwise take gigabytes).
    let rate = pipeline.sample_rate;
    let n = (rate as usize / 20).clamp(1, 1600);
    let samples = (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            8000.0 * (2.0 * std::f32::consts::PI * (200.0 + 2000.0 * t) * t).sin()
        })
        .collect();
    let wave = Waveform {
        samples,
        sample_rate: rate,
    };
    if let Ok(feats) = extractor.chain(&wave, "fuzz") {
        // The utterance's own statistics stand for its speaker's.
        let mut stats = CmvnStats::new(feats.ncols());
        stats.accumulate(feats.view());
        let _ = extractor.post(vec![feats], Some(&[Some(stats)]));
    }
});
