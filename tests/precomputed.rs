//! `train`/`eval --features feats.scp`: features computed elsewhere load as the run would compute
//! them (same matrices, same labels), and features of another pipeline or other audio are refused.

mod common;

use std::path::Path;

use asrpipe::corpus::{Corpus, Split};
use asrpipe::io::scp::write_ark_scp;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::train::Env;
use asrpipe::train::precomputed::Precomputed;

/// A wav.scp and utt2spk of `utts` (corpus ids as keys) in `dir`.
fn list_of(dir: &Path, utts: &[&asrpipe::corpus::Utterance]) -> std::path::PathBuf {
    let scp: String = utts
        .iter()
        .map(|u| {
            format!(
                "{} {}\n",
                u.id,
                std::fs::canonicalize(&u.audio).unwrap().display()
            )
        })
        .collect();
    let u2s: String = utts
        .iter()
        .map(|u| format!("{} {}\n", u.id, u.speaker))
        .collect();
    std::fs::write(dir.join("wav.scp"), scp).unwrap();
    std::fs::write(dir.join("utt2spk"), u2s).unwrap();
    dir.join("wav.scp")
}

/// The error loading `utts` with the features of `scp` standing for `pipeline`'s.
fn load_err(
    scp: &Path,
    pipeline: &Pipeline,
    env: &Env,
    utts: &[&asrpipe::corpus::Utterance],
) -> String {
    let pre = Precomputed::open(scp, pipeline).unwrap();
    let with = env.over(env.corpus).features(&pre);
    let extractor = Extractor::new(pipeline).unwrap();
    with.load("t", utts, &extractor).unwrap_err().to_string()
}

#[test]
fn precomputed_features_load_as_the_run_computes_them() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let env = Env::new(&corpus);
    let utts = env.utterances(Split::Test);
    let dir = tempfile::tempdir().unwrap();
    // Speaker CMVN pools each speaker's utterances in the corpus (the SA sentences the test split
    // leaves out included): the list holds all of the test speakers' utterances, in corpus order.
    let speakers: std::collections::BTreeSet<&str> =
        utts.iter().map(|u| u.speaker.as_str()).collect();
    let all: Vec<_> = corpus
        .utterances
        .iter()
        .filter(|u| speakers.contains(u.speaker.as_str()))
        .collect();
    assert!(all.len() > utts.len());
    let list = list_of(dir.path(), &all);
    let (ark, scp) = (dir.path().join("f.ark"), dir.path().join("f.scp"));
    common::features_to_scp(&list, &ark, &scp);
    let pipeline = Pipeline::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/kaldi-mfcc-gmm.yaml"),
    )
    .unwrap();
    let extractor = Extractor::new(&pipeline).unwrap();
    let computed = env.load("test", &utts, &extractor).unwrap();
    let pre = Precomputed::open(&scp, &pipeline).unwrap();
    let with = env.over(&corpus).features(&pre);
    // The built-in MFCC-GMM pipeline has the same chain and post-processing: served too.
    assert!(pre.serves(&Extractor::new(&Pipeline::kaldi_mfcc_gmm()).unwrap()));
    assert!(!pre.serves(&Extractor::new(&Pipeline::kaldi_mfcc()).unwrap()));
    let read = with.load("test", &utts, &extractor).unwrap();
    assert_eq!(read.dim, 39);
    assert_eq!(read.utts.len(), computed.utts.len());
    for (a, b) in read.utts.iter().zip(&computed.utts) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.feats, b.feats, "{}", a.id);
        assert_eq!(a.labels, b.labels, "{}", a.id);
        assert_eq!(
            (a.num_samples, a.sample_rate),
            (b.num_samples, b.sample_rate)
        );
    }
    // An extractor of another pipeline computes its own features.
    let plain = Extractor::new(&Pipeline::kaldi_mfcc()).unwrap();
    assert_eq!(with.load("test", &utts[..1], &plain).unwrap().dim, 13);

    // Features of another pipeline (13 dims where 39 are made), too few frames, a missing utterance.
    let mut wrong: Vec<(String, ndarray::Array2<f32>)> = computed
        .utts
        .iter()
        .map(|u| (u.id.clone(), u.feats.clone()))
        .collect();
    wrong[0].1 = wrong[0].1.slice(ndarray::s![.., ..13]).to_owned();
    wrong[1].1 = wrong[1].1.slice(ndarray::s![1.., ..]).to_owned();
    write_ark_scp(&ark, &scp, &wrong).unwrap();
    let e = load_err(&scp, &pipeline, &env, &utts[..1]);
    assert!(
        e.contains("f.scp:1:")
            && e.contains("13-dimensional features, but pipeline `kaldi-mfcc-gmm` makes 39"),
        "{e}"
    );
    let n = computed.utts[1].feats.nrows();
    let e = load_err(&scp, &pipeline, &env, &utts[1..2]);
    assert!(
        e.contains("f.scp:2:")
            && e.contains(&format!("{} frames, but its audio", n - 1))
            && e.contains(&format!("makes {n}")),
        "{e}"
    );
    write_ark_scp(&ark, &scp, &wrong[2..]).unwrap();
    let e = load_err(&scp, &pipeline, &env, &utts[..1]);
    assert!(
        e.contains(&format!("no features for utterance `{}`", utts[0].id)),
        "{e}"
    );
}
