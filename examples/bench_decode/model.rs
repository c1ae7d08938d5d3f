//! The same measures on a trained model and real speech: a model directory's classifier scores
//! the test split's frames, then the phone-loop decoder and the forced aligner search them, all on
//! one thread (run with `RAYON_NUM_THREADS=1`: the scoring's matrix products use rayon). Times are
//! the process's CPU time over all its threads, so a loaded machine's waiting is not counted and
//! a second thread would be.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use asrpipe::corpus::{Corpus, PhoneSet, Split};
use asrpipe::decode::{AlignConfig, Aligner, DecodeConfig, EditCounts, SearchScratch, phones48};
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::train::decode::{ModelOutput, PhoneDecoder};
use asrpipe::train::{Env, Model, Trained};
use ndarray::Array2;

/// CPU seconds of every thread of this process (Linux; wall-clock time elsewhere).
fn process_seconds(wall: Instant) -> f64 {
    let tasks = std::fs::read_dir("/proc/self/task").ok();
    let total: Option<f64> = tasks.map(|d| {
        d.flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .sum::<f64>()
            * 1e-9
    });
    total.unwrap_or_else(|| wall.elapsed().as_secs_f64())
}

/// Score, decode and align the test split of `corpus` (default: the demo corpus) with the model
/// in `dir`; one row of x real time per step (audio at the pipeline's frame rate).
pub fn run(dir: &Path, corpus: Option<&Path>, cfg: &DecodeConfig) -> anyhow::Result<()> {
    let trained = Trained::load(dir)?;
    let corpus = Corpus::open(&corpus.map_or_else(Corpus::demo_dir, Path::to_path_buf))?;
    let env = Env::new(&corpus);
    let utts = env.utterances(Split::Test);
    let extractor = Extractor::new(&trained.pipeline)?;
    let set = env.load("bench feats", &utts, &extractor)?;
    let frames: usize = set.utts.iter().map(|u| u.feats.nrows()).sum();
    let geom = extractor.frontend.framing.geometry;
    let audio_s = frames as f64 * geom.shift as f64 / f64::from(trained.pipeline.sample_rate);
    let gaussians = match &trained.model {
        Model::Gmm(m) => m.gmms.num_gaussians().to_string(),
        Model::Dnn(_) => "-".into(),
    };
    println!(
        "# {}: {} ({} tied states, {gaussians} Gaussians), {} test utterances, {frames} frames \
         ({audio_s:.1} s of audio); beam {}, max_active {}; align beam {}",
        dir.display(),
        trained.about.kind,
        trained.targets.num_states(),
        utts.len(),
        cfg.beam,
        cfg.max_active,
        AlignConfig::default().beam
    );

    let timed = |f: &mut dyn FnMut()| super::timed_on(process_seconds, f);
    let mut scores: Vec<Array2<f32>> = Vec::new();
    let (_, score_s, _) = timed(&mut || {
        scores = set
            .utts
            .iter()
            .map(|u| {
                ModelOutput::of(&trained, u.feats.view())?.search_scores(&trained, cfg.prior_scale)
            })
            .collect::<asrpipe::Result<_>>()
            .expect("scoring");
    });

    let decoder = PhoneDecoder::new(&trained, cfg)?;
    let mut scratch = SearchScratch::default();
    let mut totals = EditCounts::default();
    let (_, decode_s, _) = timed(&mut || {
        totals = EditCounts::default();
        for (u, s) in set.utts.iter().zip(&scores) {
            let d = decoder
                .decode_utt(&corpus, &u.id, s.view(), &mut scratch)
                .expect("decoding");
            totals += d.counts.expect("test utterances have transcripts");
        }
    });

    let hmm = trained.hmm()?;
    let ctx = hmm.context_table(&trained.targets)?;
    let aligner = Aligner::new(&ctx, &hmm.transitions, &AlignConfig::default())?;
    let refs = utts
        .iter()
        .map(|u| phones48(&u.phones, PhoneSet::timit(), &u.phone_file))
        .collect::<asrpipe::Result<Vec<_>>>()?;
    let mut aligned = 0usize;
    let (_, align_s, _) = timed(&mut || {
        aligned = 0;
        for (r, s) in refs.iter().zip(&scores) {
            let graph = aligner.compile(&[r.as_slice()], false);
            let ok = graph.and_then(|g| aligner.align(&g, s.view(), &mut scratch));
            aligned += usize::from(ok.is_ok());
        }
    });

    println!("step\tx_real_time\tcpu_s_per_pass");
    let row = |what: &str, s: f64| println!("{what}\t{:.0}\t{s:.3}", audio_s / s);
    row("classifier scores", score_s);
    row("phone-loop search", decode_s);
    row("decoding (scores + search)", score_s + decode_s);
    row("forced-alignment search", align_s);
    row("alignment (scores + search)", score_s + align_s);
    println!(
        "# PER {:.1} % ({} reference phones); {aligned} of {} utterances aligned",
        100.0 * totals.error_rate().context("no reference phones")?,
        totals.reference,
        utts.len()
    );
    Ok(())
}
