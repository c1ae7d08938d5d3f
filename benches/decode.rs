//! Phone-loop decoding and forced alignment of one ~300-frame utterance (synthetic GMM-like
//! scores over the 48 TIMIT phones; see examples/bench_decode/synthetic.rs), default options, one
//! thread: monophone (144 tied states) and tree-like tyings of 200 and 2000 tied states.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench decode`; x real time = 3 s of audio / the time shown.
//! The comparison with Kaldi's FasterDecoder on the same graphs is scripts/bench-decode.sh.

#[path = "../examples/bench_decode/synthetic.rs"]
mod synthetic;

use std::hint::black_box;

use asrpipe::decode::{AlignConfig, Aligner, DecodeConfig, PhoneLoop, SearchScratch};
use criterion::{Criterion, criterion_group, criterion_main};

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode 300 frames");
    g.sample_size(20);
    for leaves in [144, 200, 2000] {
        let m = synthetic::model(leaves, 1);
        let u = m.utterance(300, 7);
        let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &DecodeConfig::default()).unwrap();
        let mut scratch = SearchScratch::default();
        g.bench_function(
            format!("phone loop, {} tied states", m.ctx.num_leaves()),
            |b| b.iter(|| black_box(graph.decode_with(u.scores.view(), &mut scratch).unwrap())),
        );
        let aligner = Aligner::new(&m.ctx, &m.trans, &AlignConfig::default()).unwrap();
        g.bench_function(
            format!("forced alignment, {} tied states", m.ctx.num_leaves()),
            |b| b.iter(|| black_box(aligner.align_phones(&u.phones, u.scores.view()).unwrap())),
        );
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("graph build");
    g.sample_size(10);
    let m = synthetic::model(2000, 1);
    g.bench_function("phone loop, 2000 tied states", |b| {
        b.iter(|| {
            black_box(PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &DecodeConfig::default()).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, build);
criterion_main!(benches);
