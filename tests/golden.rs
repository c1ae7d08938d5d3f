//! Kaldi-exact numbers: every golden in tests/data/golden (made by scripts/make-goldens.py with
//! kaldi-native-fbank, dither 0) is recomputed through a YAML pipeline and compared.

mod common;

use std::path::{Path, PathBuf};

use asrpipe::audio::{self, ReadOptions};
use asrpipe::pipeline::Pipeline;
use ndarray::Array2;
use serde_json::Value;

/// Log outputs (log mel, MFCC) must agree to this absolute tolerance.
const TOLERANCE: f32 = 1e-3;

fn yaml_for(entry: &Value) -> String {
    let o = &entry["options"];
    let f = &o["frame_opts"];
    let m = &o["mel_opts"];
    let b = |v: &Value| v.as_bool().unwrap();
    let x = |v: &Value| v.as_f64().unwrap();
    let mut yaml = format!(
        "sample_rate: {}\nstages:\n  - waveform: {{ frame_length_ms: {}, frame_shift_ms: {}, snip_edges: {}, dither: {}, remove_dc_offset: {}, preemph_coeff: {}, window: {}, blackman_coeff: {} }}\n  - dft: {{ round_to_power_of_two: {} }}\n  - spectrogram: {{ power: {} }}\n  - filterbank: {{ num_bins: {}, low_freq: {}, high_freq: {} }}\n",
        entry["sample_rate"],
        x(&f["frame_length_ms"]),
        x(&f["frame_shift_ms"]),
        b(&f["snip_edges"]),
        x(&f["dither"]),
        b(&f["remove_dc_offset"]),
        x(&f["preemph_coeff"]),
        f["window_type"].as_str().unwrap(),
        x(&f["blackman_coeff"]),
        b(&f["round_to_power_of_two"]),
        o.get("use_power").is_none_or(b),
        m["num_bins"],
        x(&m["low_freq"]),
        x(&m["high_freq"]),
    );
    match entry["kind"].as_str().unwrap() {
        "fbank" => {
            yaml += &format!(
                "  - log: {{ use_energy: {}, raw_energy: {}, energy_floor: {}, energy_last: {} }}\n",
                b(&o["use_energy"]),
                b(&o["raw_energy"]),
                x(&o["energy_floor"]),
                b(&o["htk_compat"]),
            )
        }
        "mfcc" => {
            yaml += &format!(
                "  - log: {{}}\n  - dct: {{ num_ceps: {}, cepstral_lifter: {}, use_energy: {}, raw_energy: {}, energy_floor: {} }}\n",
                o["num_ceps"],
                x(&o["cepstral_lifter"]),
                b(&o["use_energy"]),
                b(&o["raw_energy"]),
                x(&o["energy_floor"]),
            )
        }
        k => panic!("unknown golden kind {k}"),
    }
    yaml
}

fn input_path(entry: &Value, timit: Option<&Path>) -> Option<PathBuf> {
    let input = entry["input"].as_str().unwrap();
    match input.strip_prefix("timit:") {
        Some(rel) => timit.map(|t| t.join(rel)),
        None => Some(common::data("golden").join(input)),
    }
}

#[test]
fn every_golden_matches_kaldi_native_fbank() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(common::data("golden/manifest.json")).unwrap(),
    )
    .unwrap();
    let timit = common::timit_sample();
    let mut checked = 0;
    let mut worst = (0.0f32, String::new());
    for entry in manifest["goldens"].as_array().unwrap() {
        let name = entry["file"].as_str().unwrap();
        let Some(path) = input_path(entry, timit.as_deref()) else {
            continue;
        };
        let yaml = yaml_for(entry);
        let pipeline = Pipeline::parse(&yaml, Path::new(name)).unwrap();
        let frontend = pipeline.frontend().unwrap();
        let wav = audio::read(&path, &ReadOptions::default()).unwrap();
        let got = frontend.compute(&wav, 0).unwrap().data;
        let want: Array2<f32> = ndarray_npy::read_npy(common::data("golden").join(name)).unwrap();
        assert_eq!(got.dim(), want.dim(), "{name}: shape");
        let diff = (&got - &want).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
        if diff > worst.0 {
            worst = (diff, name.to_string());
        }
        assert!(
            diff < TOLERANCE,
            "{name}: max abs difference {diff} >= {TOLERANCE}\n{yaml}"
        );
        checked += 1;
    }
    eprintln!(
        "checked {checked} goldens; worst {} in {}",
        worst.0, worst.1
    );
    assert!(
        checked >= 50 || timit.is_none(),
        "only {checked} goldens checked"
    );
}
