//! Phone-loop decoding and forced alignment on synthetic score matrices, timed on one thread, with
//! the accuracy that goes with them (see `synthetic.rs`). Optionally exports each decoding graph
//! (OpenFst text), the acoustically scaled scores and asrpipe's hypotheses, so that
//! `scripts/bench_decode_kaldi.py` can run Kaldi's FasterDecoder on exactly the same search.
//!
//! Usage: bench_decode [--utts N] [--frames F] [--leaves 144,200,2000] [--beam B]
//!                     [--max-active N] [--export DIR]
//!        bench_decode --model DIR [--corpus C] [--beam B] [--max-active N]
//!
//! Prints one row per tying: graph size and build time, decoding speed (x real time at 100
//! frames per second of audio; from the thread's CPU time, and from wall-clock time), tokens
//! alive, PER and state accuracy against the true path, and forced-alignment speed and boundary
//! accuracy.

mod model;
mod synthetic;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use asrpipe::corpus::PhoneSet;
use asrpipe::decode::{
    AlignConfig, Aligner, DecodeConfig, PerReport, PhoneLoop, SearchScratch, score_phones,
};

/// CPU time of this thread in seconds (Linux; wall-clock time elsewhere), so that numbers taken
/// on a loaded machine count the time the thread ran, not the time it waited for a core.
fn thread_seconds(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns * 1e-9)
        .unwrap_or_else(|| wall.elapsed().as_secs_f64())
}

/// `f`'s result and its seconds per run, (thread CPU, wall): `f` is repeated for at least a second
/// of CPU time, since the kernel updates a running thread's CPU time only every few milliseconds.
fn timed<T>(f: impl FnMut() -> T) -> (T, f64, f64) {
    timed_on(thread_seconds, f)
}

/// [`timed`] on another CPU clock (seconds, given the wall-clock start).
fn timed_on<T>(clock: fn(Instant) -> f64, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let wall = Instant::now();
    let cpu0 = clock(wall);
    let mut out = f();
    let mut runs = 1;
    while clock(wall) - cpu0 < 1.0 {
        out = f();
        runs += 1;
    }
    let cpu = clock(wall) - cpu0;
    (
        out,
        cpu / runs as f64,
        wall.elapsed().as_secs_f64() / runs as f64,
    )
}

fn main() -> anyhow::Result<()> {
    let mut utts = 20usize;
    let mut frames = 300usize;
    let mut leaves = vec![144usize, 200, 2000];
    let mut export: Option<PathBuf> = None;
    let mut model_dir: Option<PathBuf> = None;
    let mut corpus: Option<PathBuf> = None;
    let mut cfg = DecodeConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--utts" => utts = value()?.parse()?,
            "--frames" => frames = value()?.parse()?,
            "--leaves" => {
                leaves = value()?
                    .split(',')
                    .map(|x| x.parse())
                    .collect::<Result<_, _>>()?
            }
            "--beam" => cfg.beam = value()?.parse()?,
            "--max-active" => cfg.max_active = value()?.parse()?,
            "--export" => export = Some(PathBuf::from(value()?)),
            "--model" => model_dir = Some(PathBuf::from(value()?)),
            "--corpus" => corpus = Some(PathBuf::from(value()?)),
            _ => bail!("unknown argument {a}"),
        }
    }
    cfg.validate()?;
    if let Some(dir) = &model_dir {
        return model::run(dir, corpus.as_deref(), &cfg);
    }
    let set = PhoneSet::timit();
    println!(
        "# {utts} utterances of ~{frames} frames per tying; beam {}, max_active {}; one thread",
        cfg.beam, cfg.max_active
    );
    println!(
        "tied\tgraph_nodes\tgraph_arcs\tbuild_ms\tdecode_xRT\t(wall)\tmean_peak_tokens\tPER%\tstate_acc%\talign_xRT\t(wall)\tbounds_exact%\tbounds_within_2f%"
    );
    for &n in &leaves {
        let m = synthetic::model(n, 1);
        let t = Instant::now();
        let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &cfg)?;
        let build_ms = t.elapsed().as_secs_f64() * 1e3;
        let data: Vec<synthetic::Utterance> = (0..utts)
            .map(|i| m.utterance(frames, 1000 + i as u64))
            .collect();
        let total_frames: usize = data.iter().map(|u| u.frames.len()).sum();
        let audio_s = total_frames as f64 / 100.0;

        let mut scratch = SearchScratch::default();
        graph.decode_with(data[0].scores.view(), &mut scratch)?;
        let mut peaks = 0usize;
        let (hyps, decode_s, decode_wall) = timed(|| {
            peaks = 0;
            data.iter()
                .map(|u| {
                    let h = graph.decode_with(u.scores.view(), &mut scratch);
                    peaks += scratch.peak_active;
                    h
                })
                .collect::<Result<Vec<_>, _>>()
        });
        let hyps = hyps?;
        let mut report = PerReport::default();
        let mut correct = 0usize;
        for (i, (u, h)) in data.iter().zip(&hyps).enumerate() {
            report.add(i.to_string(), score_phones(&u.phones, &h.phone_ids(), set));
            correct += u
                .frames
                .iter()
                .zip(&h.frames)
                .filter(|(a, b)| a.leaf == b.leaf)
                .count();
        }

        let aligner = Aligner::new(&m.ctx, &m.trans, &AlignConfig::default())?;
        let (alis, align_s, align_wall) = timed(|| {
            data.iter()
                .map(|u| aligner.align_phones(&u.phones, u.scores.view()))
                .collect::<Result<Vec<_>, _>>()
        });
        let alis = alis?;
        let (mut exact, mut near, mut bounds) = (0usize, 0usize, 0usize);
        for (u, a) in data.iter().zip(&alis) {
            for (s, t) in u.spans.iter().zip(&a.phones).skip(1) {
                bounds += 1;
                exact += usize::from(s.start == t.start);
                near += usize::from(s.start.abs_diff(t.start) <= 2);
            }
        }
        let size = graph.size();
        println!(
            "{}\t{}\t{}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\t{:.1}\t{:.1}\t{:.0}\t{:.0}\t{:.1}\t{:.1}",
            m.ctx.num_leaves(),
            size.emitting + size.boundaries,
            size.arcs,
            build_ms,
            audio_s / decode_s,
            audio_s / decode_wall,
            peaks as f64 / utts as f64,
            100.0 * report.per().unwrap_or(f64::NAN),
            100.0 * correct as f64 / total_frames as f64,
            audio_s / align_s,
            audio_s / align_wall,
            100.0 * exact as f64 / bounds as f64,
            100.0 * near as f64 / bounds as f64,
        );

        if let Some(dir) = &export {
            let dir = dir.join(format!("tied-{}", m.ctx.num_leaves()));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("graph.fst.txt"), graph.fst_text())?;
            let mut hyp_text = String::new();
            for (i, (u, h)) in data.iter().zip(&hyps).enumerate() {
                let scaled = u.scores.mapv(|x| x * cfg.acoustic_scale);
                ndarray_npy::write_npy(dir.join(format!("scores-{i:03}.npy")), &scaled)?;
                let ids: Vec<String> = h.phone_ids().iter().map(|p| p.to_string()).collect();
                hyp_text.push_str(&format!("{:.4} {}\n", h.score, ids.join(" ")));
            }
            std::fs::write(dir.join("asrpipe-hyp.txt"), hyp_text)?;
            std::fs::write(
                dir.join("meta.txt"),
                format!(
                    "beam {}\nmax_active {}\nframes {total_frames}\nasrpipe_decode_s {decode_s}\n",
                    cfg.beam, cfg.max_active
                ),
            )?;
        }
    }
    Ok(())
}
