//! Corpus reading, phone folding, frame labels and speaker splits.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use asrpipe::corpus::labels::state_of;
use asrpipe::corpus::split::{timit_core_test, timit_dev};
use asrpipe::corpus::{
    Corpus, CorpusKind, Gender, PhoneSet, Split, SplitOptions, SplitRule, Splits, corpus_info,
    frame_labels, textgrid, utterance_labels,
};
use asrpipe::frontend::framing::FrameGeometry;

/// Kaldi's defaults: 25 ms / 10 ms at 16 kHz = 400 / 160 samples, snip_edges.
fn kaldi_geometry() -> FrameGeometry {
    FrameGeometry::from_ms(16_000, 25.0, 10.0, true)
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A real 16 kHz mono WAV of `n` zero samples.
fn write_wav(path: &Path, n: usize) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for _ in 0..n {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
}

fn err_text<T: std::fmt::Debug>(r: asrpipe::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn phone_tables_are_61_48_39_with_the_standard_folds() {
    let p = PhoneSet::timit();
    assert_eq!((p.p61.len(), p.p48.len(), p.p39.len()), (61, 48, 39));
    let fold = |a: &str| {
        let id = p
            .p61
            .id(a)
            .unwrap_or_else(|| panic!("{a} not in the 61 set"));
        let b = p.fold_61_to_48(id).map(|x| p.p48.name(x).to_string());
        let c = p.fold_61_to_39(id).map(|x| p.p39.name(x).to_string());
        (b, c)
    };
    let s = |x: &str| Some(x.to_string());
    // (61, 48, 39) as in Kaldi's phones.60-48-39.map.
    for (a, b, c) in [
        ("ax-h", "ax", "ah"),
        ("ax", "ax", "ah"),
        ("axr", "er", "er"),
        ("hv", "hh", "hh"),
        ("ix", "ix", "ih"),
        ("el", "el", "l"),
        ("em", "m", "m"),
        ("en", "en", "n"),
        ("nx", "n", "n"),
        ("eng", "ng", "ng"),
        ("ux", "uw", "uw"),
        ("ao", "ao", "aa"),
        ("zh", "zh", "sh"),
        ("bcl", "vcl", "sil"),
        ("dcl", "vcl", "sil"),
        ("gcl", "vcl", "sil"),
        ("pcl", "cl", "sil"),
        ("tcl", "cl", "sil"),
        ("kcl", "cl", "sil"),
        ("pau", "sil", "sil"),
        ("h#", "sil", "sil"),
        ("epi", "epi", "sil"),
        ("dx", "dx", "dx"),
        ("iy", "iy", "iy"),
    ] {
        assert_eq!(fold(a), (s(b), s(c)), "{a}");
    }
    assert_eq!(fold("q"), (None, None), "q is deleted");
    // Labels whose 48-set phone has another name, or none.
    let merged = (0..61u16)
        .filter(|&i| {
            let n = p.p61.name(i);
            p.fold_61_to_48(i).is_none_or(|j| p.p48.name(j) != n)
        })
        .count();
    assert_eq!(
        merged, 16,
        "15 renamed (ax-h axr hv em nx eng ux 6 closures h# pau) + q"
    );
    // The 9 phones of the 48 set that fold away: ao ax cl vcl epi el en ix zh.
    let folded: Vec<&str> = (0..48u16)
        .filter(|&i| p.p39.name(p.fold_48_to_39(i)) != p.p48.name(i))
        .map(|i| p.p48.name(i))
        .collect();
    assert_eq!(
        folded,
        ["ao", "ax", "cl", "el", "en", "epi", "ix", "vcl", "zh"]
    );
    // Ids are the names in sorted order.
    assert_eq!(p.p48.name(0), "aa");
    assert_eq!(p.p39.names().last().unwrap(), "z");
    assert_eq!(p.p48.name(p.silence48()), "sil");
}

#[test]
fn states_split_segments_in_symmetric_thirds() {
    let states = |n: usize| (0..n).map(|k| state_of(k, n)).collect::<Vec<_>>();
    assert_eq!(states(1), [1]);
    assert_eq!(states(2), [0, 2]);
    assert_eq!(states(3), [0, 1, 2]);
    assert_eq!(states(4), [0, 1, 1, 2]);
    assert_eq!(states(5), [0, 0, 1, 2, 2]);
    assert_eq!(states(6), [0, 0, 1, 1, 2, 2]);
    assert_eq!(states(7), [0, 0, 1, 1, 1, 2, 2]);
}

#[test]
fn standard_timit_speaker_lists() {
    let core = timit_core_test();
    let dev = timit_dev();
    assert_eq!(core.len(), 24);
    assert_eq!(dev.len(), 50);
    assert_eq!(
        core.join(" "),
        "mdab0 mwbt0 felc0 mtas1 mwew0 fpas0 mjmp0 mlnt0 fpkt0 mlll0 mtls0 fjlm0 mbpm0 mklt0 \
         fnlp0 mcmj0 mjdh0 fmgd0 mgrt0 mnjm0 fdhc0 mjln0 mpam0 fmld0"
    );
    // 2 men and 1 woman per dialect region.
    assert_eq!(core.iter().filter(|s| s.starts_with('f')).count(), 8);
    assert!(core.iter().all(|s| !dev.contains(s)));
    let mut uniq = dev.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 50);
    assert_eq!((dev[0], dev[49]), ("faks0", "mrws1"));
}

#[test]
fn timit_sample_layout() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let c = Corpus::open(&root).unwrap();
    assert_eq!(c.kind, CorpusKind::TimitSpeakers);
    assert_eq!(c.speakers().len(), 16);
    assert_eq!(c.utterances.len(), 160);
    assert!(c.utterances.windows(2).all(|w| w[0].id < w[1].id));
    let sa1: Vec<&str> = c
        .utterances
        .iter()
        .filter(|u| u.sentence == "sa1")
        .map(|u| u.speaker.as_str())
        .collect();
    assert_eq!(sa1.len(), 16);
    assert_eq!(c.utterances.iter().filter(|u| u.is_sa()).count(), 32);
    assert_eq!(c.sentences().len(), 130);
    let u = c.utterance("dr1-fvmh0/sa1").unwrap();
    assert_eq!(
        (u.speaker.as_str(), u.gender, u.dialect.as_str()),
        ("dr1-fvmh0", Gender::Female, "dr1")
    );
    assert_eq!(u.audio, root.join("dr1-fvmh0/sa1.wav"));
    assert_eq!(u.phones.len(), 37);
    assert_eq!(u.words.len(), 11);
    assert_eq!(
        u.text.as_deref(),
        Some("She had your dark suit in greasy wash water all year.")
    );
    assert_eq!(c.utterance("dr8-mbcg0/sx57").unwrap().gender, Gender::Male);
    // The one NIST SPHERE file is found like the others.
    assert!(c.utterance("dr1-fvmh0/si836").is_some());
}

#[test]
fn fvmh0_sa1_frames_match_its_phn() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let c = Corpus::open(&root).unwrap();
    let u = c.utterance("dr1-fvmh0/sa1").unwrap();
    let p = PhoneSet::timit();
    let g = kaldi_geometry();
    assert_eq!((g.length, g.shift), (400, 160));
    // The audio has 54682 samples (its .phn ends there too): 1 + (54682 - 400) / 160 = 1 + 339 = 340
    // frames; frame i is centred on sample 160 i + 200.
    let l = frame_labels(u, 54_682, &g, p).unwrap();
    assert_eq!(l.frames.len(), 340);

    // Frame by frame against the .phn: segment [s, e) holds frames ceil((s-200)/160) ..
    // ceil((e-200)/160) - 1.
    let mut expected: Vec<Option<&str>> = vec![None; 340];
    for s in &u.phones {
        let first = (s.start.saturating_sub(200) as usize).div_ceil(160);
        let end = (s.end.saturating_sub(200) as usize).div_ceil(160).min(340);
        for e in &mut expected[first..end] {
            *e = Some(&s.label);
        }
    }
    let got: Vec<Option<&str>> = l.phone61.iter().map(|x| x.map(|i| p.p61.name(i))).collect();
    assert_eq!(got, expected);

    let count = |phone: &str| got.iter().filter(|x| **x == Some(phone)).count();
    // Hand-checked:
    // h# 0..7812: centres 200, 360, .., 7720 (i = 0..47; 160*48+200 = 7880 >= 7812) -> 48 frames
    //   (this utterance has one h# at each end; the closing one 50522..54682 gives
    //   ceil(50322/160) = 315 .. 339 -> 25 frames: 73 in all).
    // sh 7812..9507: i = 48 (7880) .. 58 (9480; 9640 >= 9507) -> 11 frames.
    // ae 11697..13744: i = ceil(11497/160) = 72 .. ceil(13544/160) - 1 = 84 -> 13 frames.
    // q 42417..43091: i = ceil(42217/160) = 264 .. ceil(42891/160) - 1 = 268 -> 5 frames.
    assert_eq!(count("h#"), 48 + 25);
    assert_eq!(count("sh"), 11 + 8); // she .. wash: sh 36569..37890 -> 228..235, 8 frames
    assert_eq!(count("ae"), 13);
    assert_eq!(count("q"), 5);
    assert_eq!(count("aa"), 18 + 16 + 8);
    assert_eq!((l.deleted, l.unaligned, l.labelled()), (5, 0, 335));
    assert!(l.frames[264..269].iter().all(|f| f.is_none()));

    let name = |i: u16| p.p48.name(i);
    // sh (frames 48..58, 11 frames): states floor(3(2k+1)/22) -> 4 x 0, 3 x 1, 4 x 2.
    let sh: Vec<u8> = l.frames[48..59].iter().map(|f| f.unwrap().state).collect();
    assert_eq!(sh, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
    let f = l.frames[48].unwrap();
    assert_eq!(
        (name(f.phone), name(f.left), name(f.right)),
        ("sh", "sil", "iy")
    );
    // hv -> hh; its neighbours iy and ae; ae's right neighbour dcl -> vcl.
    let f = l.frames[66].unwrap();
    assert_eq!(
        (name(f.phone), name(f.left), name(f.right)),
        ("hh", "iy", "ae")
    );
    assert_eq!(name(l.frames[72].unwrap().right), "vcl");
    // dx 40814..41180 holds 3 frames (254..256): begin, middle, end.
    let dx: Vec<u8> = l.frames[254..257]
        .iter()
        .map(|f| f.unwrap().state)
        .collect();
    assert_eq!(dx, [0, 1, 2]);
    // q is skipped as context: ax (257..263) is followed by ao, ao preceded by ax.
    assert_eq!(name(l.frames[263].unwrap().right), "ao");
    assert_eq!(name(l.frames[269].unwrap().left), "ax");
    // The last frame is the closing h#, with silence beyond the end.
    let f = l.frames[339].unwrap();
    assert_eq!(
        (name(f.phone), f.state, name(f.left), name(f.right)),
        ("sil", 2, "ax", "sil")
    );

    let table = utterance_labels(u, 54_682, &g, 16_000, p).unwrap();
    let text = table.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1],
        "frame\tstart\tcentre\tphone61\tphone48\tphone39\tstate\tleft\tright"
    );
    assert_eq!(lines[2 + 48], "48\t0.4800\t0.4925\tsh\tsh\tsh\t0\tsil\tiy");
    assert_eq!(lines[2 + 72], "72\t0.7200\t0.7325\tae\tae\tae\t0\thh\tvcl");
    assert_eq!(lines[2 + 264], "264\t2.6400\t2.6525\tq\t-\t-\t-\t-\t-");
    assert_eq!(lines.len(), 2 + 340);
}

#[test]
fn timit_sample_split_and_info() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let c = Corpus::open(&root).unwrap();
    let s = Splits::for_corpus(&c);
    assert_eq!(s.rule, SplitRule::TimitSample);
    assert_eq!(
        s.speakers(Split::Test),
        ["dr2-faem0", "dr4-maeb0", "dr6-fapb0", "dr8-mbcg0"]
    );
    assert_eq!(s.speakers(Split::Train).len(), 12);
    assert!(s.speakers(Split::Dev).is_empty());
    let opts = SplitOptions::default();
    assert_eq!(s.utterances(&c, Split::Train, &opts).len(), 12 * 8);
    assert_eq!(s.utterances(&c, Split::Test, &opts).len(), 4 * 8);
    let with_sa = SplitOptions { include_sa: true };
    assert_eq!(s.utterances(&c, Split::Train, &with_sa).len(), 12 * 10);

    // Lengths from the last phone end; totals checked against a brute-force count (every frame
    // centre tested against every segment) of the same files.
    let info = corpus_info(&c, &kaldi_geometry(), 16_000, &opts).unwrap();
    assert_eq!((info.speakers, info.female, info.male), (16, 8, 8));
    assert_eq!(
        (info.utterances, info.sa_utterances, info.sentences),
        (160, 32, 130)
    );
    assert!((info.minutes - 8.155_932).abs() < 1e-5, "{}", info.minutes);
    let row = |n: &str| info.splits.iter().find(|s| s.split == n).unwrap().clone();
    let (train, test, all) = (row("train"), row("test"), row("all"));
    assert_eq!(
        (train.speakers, train.utterances, train.sa_left_out),
        (12, 96, 24)
    );
    assert_eq!(
        (train.frames, train.deleted, train.unaligned),
        (28_723, 407, 0)
    );
    assert_eq!(
        (test.frames, test.deleted, test.female, test.male),
        (10_008, 218, 2, 2)
    );
    assert_eq!(
        (all.frames, all.deleted, all.labelled),
        (48_656, 994, 48_656 - 994)
    );
    assert_eq!(row("dev").utterances, 0);
    let q = info.phones.iter().find(|p| p.phone61 == "q").unwrap();
    assert_eq!((q.segments, q.phone48.as_deref()), (141, None));
    assert_eq!(info.phones.iter().map(|p| p.segments).sum::<usize>(), 6_185);
    let printed = info.to_string();
    assert!(
        printed.contains("speakers    16 (8 female, 8 male)"),
        "{printed}"
    );
}

#[test]
fn demo_corpus_balanced_split() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("audio/demo");
    if !root.is_dir() {
        eprintln!("\n*** SKIPPED: audio/demo not present ***\n");
        return;
    }
    let c = Corpus::open(&root).unwrap();
    assert_eq!(c.speakers().len(), 12);
    assert!(
        c.utterances
            .iter()
            .all(|u| u.audio.extension().unwrap() == "flac")
    );
    let s = Splits::for_corpus(&c);
    assert_eq!(s.rule, SplitRule::Balanced);
    // Per gender 6 speakers sorted, k = (6 + 2) / 4 = 2, positions (2j+1)*6/4 = 1 and 4.
    assert_eq!(
        s.speakers(Split::Test),
        ["dr2-fslt1", "dr2-mked0", "dr5-fslt4", "dr5-mkal2"]
    );
    assert_eq!(s.speakers(Split::Train).len(), 8);
    let info = corpus_info(&c, &kaldi_geometry(), 16_000, &SplitOptions::default()).unwrap();
    assert_eq!(info.utterances, c.utterances.len());
    assert_eq!(info.splits.last().unwrap().unaligned, 0);
}

#[test]
fn ldc_layout_upper_case_and_standard_split() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("TIMIT");
    let phn = "0 3000 h#\n3000 4000 s\n4000 4800 ah\n4800 8000 h#\n";
    for (sub, dr, spk, stem) in [
        ("TRAIN", "DR1", "FCJF0", "SA1"),
        ("TRAIN", "DR1", "FCJF0", "SI1027"),
        ("TEST", "DR1", "MDAB0", "SX139"),
        ("TEST", "DR1", "FAKS0", "SX133"),
        ("TEST", "DR2", "MRJO0", "SX14"),
    ] {
        let base = t.join(sub).join(dr).join(spk);
        write_wav(&base.join(format!("{stem}.WAV")), 8000);
        write(&base.join(format!("{stem}.PHN")), phn);
        write(&base.join(format!("{stem}.WRD")), "3000 4800 sun\n");
    }
    // Converted copies with a second extension are ignored.
    write(&t.join("TRAIN/DR1/FCJF0/SA1.WAV.wav"), "x");
    let c = Corpus::open(dir.path()).unwrap();
    assert_eq!(c.kind, CorpusKind::TimitLdc);
    let ids: Vec<&str> = c.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dr1-faks0/sx133",
            "dr1-fcjf0/sa1",
            "dr1-fcjf0/si1027",
            "dr1-mdab0/sx139",
            "dr2-mrjo0/sx14"
        ]
    );
    let u = c.utterance("dr1-fcjf0/sa1").unwrap();
    assert_eq!(
        (
            u.sentence.as_str(),
            u.subset.as_deref(),
            u.gender,
            u.is_sa()
        ),
        ("sa1", Some("train"), Gender::Female, true)
    );
    assert!(u.audio.ends_with("TRAIN/DR1/FCJF0/SA1.WAV"));
    assert_eq!(u.speaker_code(), "fcjf0");
    let s = Splits::for_corpus(&c);
    assert_eq!(s.rule, SplitRule::TimitStandard);
    assert_eq!(s.of_speaker("dr1-fcjf0"), Some(Split::Train));
    assert_eq!(s.of_speaker("dr1-mdab0"), Some(Split::Test));
    assert_eq!(s.of_speaker("dr1-faks0"), Some(Split::Dev));
    assert_eq!(s.of_speaker("dr2-mrjo0"), None);
    let opts = SplitOptions::default();
    let train: Vec<&str> = s
        .utterances(&c, Split::Train, &opts)
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(train, ["dr1-fcjf0/si1027"]);
}

#[test]
fn bad_timit_input_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let spk = dir.path().join("dr1-fabc0");
    write_wav(&spk.join("sa1.wav"), 8000);
    // Audio without alignment.
    let e = err_text(Corpus::open(dir.path()));
    assert!(
        e.contains("sa1.wav") && e.contains("no phone alignment"),
        "{e}"
    );

    let cases = [
        (
            "0 3000 h#\n3000 2000 s\n",
            "sa1.phn:2:",
            "ends (2000) before it starts (3000)",
        ),
        (
            "0 3000 h#\n3000 4000 xx\n",
            "sa1.phn:2:",
            "unknown phone `xx`",
        ),
        (
            "0 3000 h#\n2500 4000 s\n",
            "sa1.phn:2:",
            "inside the previous one",
        ),
        (
            "0 3000 h#\n3000 abc s\n",
            "sa1.phn:2:",
            "not a sample number",
        ),
        (
            "0 3000 h#\n3000 4000\n",
            "sa1.phn:2:",
            "expected `start end label`",
        ),
    ];
    for (phn, at, msg) in cases {
        write(&spk.join("sa1.phn"), phn);
        let e = err_text(Corpus::open(dir.path()));
        assert!(e.contains(at) && e.contains(msg), "{phn:?}: {e}");
    }

    // A label beyond the audio: read fine, rejected once the audio length is known.
    write(
        &spk.join("sa1.phn"),
        "0 3000 h#\n3000 8000 s\n8000 8300 h#\n",
    );
    let c = Corpus::open(dir.path()).unwrap();
    let u = &c.utterances[0];
    let p = PhoneSet::timit();
    let g = kaldi_geometry();
    // 8300 - 8000 = 300 samples past the end: more than the 160-sample (10 ms) tolerance.
    let e = err_text(frame_labels(u, 8000, &g, p));
    assert!(
        e.contains("sa1.phn:3:") && e.contains("past the end of the audio"),
        "{e}"
    );
    // 8300 - 8200 = 100 samples past: tolerated.
    let l = frame_labels(u, 8200, &g, p).unwrap();
    assert_eq!(l.frames.len(), 1 + (8200 - 400) / 160);

    // Alignment without audio.
    fs::remove_file(spk.join("sa1.wav")).unwrap();
    let e = err_text(Corpus::open(dir.path()));
    assert!(e.contains("sa1.phn") && e.contains("no audio"), "{e}");

    // Not a corpus at all.
    let empty = tempfile::tempdir().unwrap();
    let e = err_text(Corpus::open(empty.path()));
    assert!(e.contains("not a corpus"), "{e}");
}

#[test]
fn gaps_leave_frames_unlabelled() {
    let dir = tempfile::tempdir().unwrap();
    let spk = dir.path().join("dr1-mxyz0");
    write_wav(&spk.join("sx1.wav"), 4000);
    // 1 + (4000 - 400) / 160 = 23 frames centred at 200 + 160 i. Gap 2000..2400 holds centres
    // 2120, 2280 (i = 12, 13); q 2400..2800 holds 2440, 2600, 2760 (i = 14..16); nothing after
    // 3500 holds 3560, 3720 (i = 21, 22).
    write(
        &spk.join("sx1.phn"),
        "0 2000 h#\n2400 2800 q\n2800 3500 iy\n",
    );
    let c = Corpus::open(dir.path()).unwrap();
    let p = PhoneSet::timit();
    let l = frame_labels(&c.utterances[0], 4000, &kaldi_geometry(), p).unwrap();
    assert_eq!(l.frames.len(), 1 + (4000 - 400) / 160);
    assert_eq!((l.unaligned, l.deleted), (2 + 2, 3));
    assert!(l.frames[11].is_some() && l.frames[12..17].iter().all(|f| f.is_none()));
    assert_eq!(l.phone61[12], None);
    assert_eq!(l.phone61[14].map(|i| p.p61.name(i)), Some("q"));
    // iy has h# on its left (q and the gap skipped) and silence on its right.
    let f = l.frames[17].unwrap();
    assert_eq!(
        (p.p48.name(f.phone), p.p48.name(f.left), p.p48.name(f.right)),
        ("iy", "sil", "sil")
    );
}

const TEXTGRID: &str = r#"File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0 
xmax = 0.5 
tiers? <exists> 
size = 2 
item []: 
    item [1]:
        class = "IntervalTier" 
        name = "words" 
        xmin = 0 
        xmax = 0.5 
        intervals: size = 3 
        intervals [1]:
            xmin = 0 
            xmax = 0.1 
            text = "" 
        intervals [2]:
            xmin = 0.1 
            xmax = 0.3 
            text = "see" 
        intervals [3]:
            xmin = 0.3 
            xmax = 0.5 
            text = "" 
    item [2]:
        class = "IntervalTier" 
        name = "phones" 
        xmin = 0 
        xmax = 0.5 
        intervals: size = 5 
        intervals [1]:
            xmin = 0 
            xmax = 0.1 
            text = "" 
        intervals [2]:
            xmin = 0.1 
            xmax = 0.2 
            text = "S" 
        intervals [3]:
            xmin = 0.2 
            xmax = 0.3 
            text = "IY1" 
        intervals [4]:
            xmin = 0.3 
            xmax = 0.4 
            text = "sil" 
        intervals [5]:
            xmin = 0.4 
            xmax = 0.5 
            text = "spn" 
"#;

#[test]
fn textgrid_manifest_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(&dir.path().join("wav/a.wav"), 8000);
    write_wav(&dir.path().join("wav/b.wav"), 8000);
    write(&dir.path().join("align/a.TextGrid"), TEXTGRID);
    write(
        &dir.path().join("align/b.phn"),
        "0 1600 h#\n1600 3200 s\n3200 4800 iy\n4800 8000 h#\n",
    );
    write(
        &dir.path().join("manifest.tsv"),
        "# two utterances of one sentence\n\
         audio\tspeaker\talignment\tsentence\tgender\tsample_rate\n\
         wav/b.wav\tspk2\talign/b.phn\tsee\tm\t16000\n\
         wav/a.wav\tspk1\talign/a.TextGrid\tsee\tF\t\n",
    );
    // Found through the folder, and read directly.
    let c = Corpus::open(dir.path()).unwrap();
    assert_eq!(c, Corpus::open(&dir.path().join("manifest.tsv")).unwrap());
    assert_eq!(c.kind, CorpusKind::Manifest);
    let ids: Vec<&str> = c.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["spk1/a", "spk2/b"]);
    let a = &c.utterances[0];
    assert_eq!(
        (a.gender, a.sample_rate, a.sentence.as_str()),
        (Gender::Female, 16_000, "see")
    );
    // Seconds * 16000; labels normalised (S -> s, IY1 -> iy, "" at the edge -> h#, sil inside ->
    // pau, spn dropped). Lines are those of each interval's xmin.
    let segs: Vec<(u64, u64, &str, usize)> = a
        .phones
        .iter()
        .map(|s| (s.start, s.end, s.label.as_str(), s.line))
        .collect();
    assert_eq!(
        segs,
        [
            (0, 1600, "h#", 34),
            (1600, 3200, "s", 38),
            (3200, 4800, "iy", 42),
            (4800, 6400, "pau", 46)
        ]
    );
    assert_eq!(a.words.len(), 1);
    assert_eq!(
        (a.words[0].start, a.words[0].end, a.words[0].label.as_str()),
        (1600, 4800, "see")
    );
    assert_eq!(c.utterances[1].phones.len(), 4);

    // Same h#, s, iy frames from both alignments (centres below 4800: i = 0..28); then a has
    // pau 4800..6400 (i = 29..38) and spn (unaligned, i = 39..47), b has h# to the end.
    let p = PhoneSet::timit();
    let g = kaldi_geometry();
    let la = frame_labels(a, 8000, &g, p).unwrap();
    let lb = frame_labels(&c.utterances[1], 8000, &g, p).unwrap();
    assert_eq!(la.frames.len(), 48);
    assert_eq!(la.frames[..29], lb.frames[..29]);
    assert!(
        la.frames[29..39]
            .iter()
            .all(|f| f.unwrap().phone == p.silence48())
    );
    assert!(
        lb.frames[29..]
            .iter()
            .all(|f| f.unwrap().phone == p.silence48())
    );
    assert_eq!((la.unaligned, lb.unaligned), (9, 0));

    // The short text format reads the same.
    let long = textgrid::parse(TEXTGRID, Path::new("a.TextGrid")).unwrap();
    let short_text = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n0.5\n<exists>\n1\n\
                      \"IntervalTier\"\n\"phones\"\n0\n0.5\n5\n0\n0.1\n\"\"\n0.1\n0.2\n\"S\"\n\
                      0.2\n0.3\n\"IY1\"\n0.3\n0.4\n\"sil\"\n0.4\n0.5\n\"spn\"\n";
    let short = textgrid::parse(short_text, Path::new("s.TextGrid")).unwrap();
    let phones_of = |tg: &textgrid::TextGrid| {
        let t = tg.tiers.iter().find(|t| t.name() == "phones").unwrap();
        let textgrid::Tier::Interval { intervals, .. } = t else {
            panic!()
        };
        intervals
            .iter()
            .map(|i| (i.xmin, i.xmax, i.text.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(phones_of(&long), phones_of(&short));

    // A CSV manifest with a quoted field and the default rate.
    write(
        &dir.path().join("m.csv"),
        "audio,speaker,alignment\n\"wav/a.wav\",\"spk, one\",align/a.TextGrid\n",
    );
    let c2 = Corpus::open(&dir.path().join("m.csv")).unwrap();
    assert_eq!(c2.utterances[0].id, "spk, one/a");
    assert_eq!(c2.utterances[0].phones, a.phones);
}

#[test]
fn bad_manifest_and_textgrid_input() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(&dir.path().join("a.wav"), 8000);
    let no_phones = TEXTGRID.replace("name = \"phones\"", "name = \"segments\"");
    write(&dir.path().join("a.TextGrid"), &no_phones);
    let m = dir.path().join("m.tsv");
    write(&m, "audio\tspeaker\talignment\na.wav\ts1\ta.TextGrid\n");
    let e = err_text(Corpus::open(&m));
    assert!(
        e.contains("a.TextGrid") && e.contains("no phone tier") && e.contains("\"segments\""),
        "{e}"
    );

    let bad_phone = TEXTGRID.replace("\"IY1\"", "\"XY1\"");
    write(&dir.path().join("a.TextGrid"), &bad_phone);
    let e = err_text(Corpus::open(&m));
    assert!(e.contains("a.TextGrid:42:") && e.contains("\"XY1\""), "{e}");

    let bad_number = TEXTGRID.replace(
        "xmax = 0.3 \n            text = \"IY1\"",
        "xmax = 0.3x \n            text = \"IY1\"",
    );
    write(&dir.path().join("a.TextGrid"), &bad_number);
    let e = err_text(Corpus::open(&m));
    assert!(
        e.contains("a.TextGrid:43:") && e.contains("`0.3x` is not a number"),
        "{e}"
    );

    let truncated: String = TEXTGRID.lines().take(40).collect::<Vec<_>>().join("\n");
    write(&dir.path().join("a.TextGrid"), &truncated);
    let e = err_text(Corpus::open(&m));
    assert!(e.contains("a.TextGrid:") && e.contains("file ends"), "{e}");

    write(&dir.path().join("a.TextGrid"), TEXTGRID);
    for (manifest, at, msg) in [
        ("speaker\talignment\n", "m.tsv:1:", "missing column `audio`"),
        (
            "audio\tspeaker\talignment\tspeeker\n",
            "m.tsv:1:",
            "unknown column `speeker`",
        ),
        (
            "audio\tspeaker\talignment\nb.wav\ts1\ta.TextGrid\n",
            "m.tsv:2:",
            "not found",
        ),
        (
            "audio\tspeaker\talignment\na.wav\ts1\n",
            "m.tsv:2:",
            "2 fields, the header has 3",
        ),
        (
            "audio\tspeaker\talignment\tgender\na.wav\ts1\ta.TextGrid\tx\n",
            "m.tsv:2:",
            "gender `x`",
        ),
        (
            "audio\tspeaker\talignment\tsample_rate\na.wav\ts1\ta.TextGrid\tfast\n",
            "m.tsv:2:",
            "sample_rate `fast`",
        ),
        (
            "audio\tspeaker\talignment\na.wav\ts1\ta.TextGrid\n\na.wav\ts1\ta.TextGrid\n",
            "m.tsv:4:",
            "already used on line 2",
        ),
    ] {
        write(&m, manifest);
        let e = err_text(Corpus::open(&m));
        assert!(e.contains(at) && e.contains(msg), "{manifest:?}: {e}");
    }
}

#[test]
fn every_demo_phn_covers_its_audio_exactly() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("audio/demo");
    let c = Corpus::open(&root).unwrap();
    assert_eq!(c.utterances.len(), 300);
    let opts = asrpipe::audio::ReadOptions {
        channel: asrpipe::audio::Channel::Mono,
        sample_rate: Some(16000),
        resample: false,
    };
    let tolerance = asrpipe::corpus::labels::end_tolerance(16000);
    for u in &c.utterances {
        // The same reader as TIMIT's, then the segments tile the audio without gaps or overlaps.
        let wav = asrpipe::audio::read(&u.audio, &opts).unwrap();
        let n = wav.samples.len() as u64;
        let phones = &u.phones;
        assert_eq!(phones[0].start, 0, "{}", u.id);
        assert!(
            phones.windows(2).all(|w| w[0].end == w[1].start),
            "{}: gap or overlap",
            u.id
        );
        let end = phones.last().unwrap().end;
        assert!(
            end <= n + tolerance && end + tolerance >= n,
            "{}: phones end at {end}, audio has {n} samples",
            u.id
        );
        let labels = frame_labels(u, n, &kaldi_geometry(), PhoneSet::timit()).unwrap();
        assert_eq!(labels.unaligned, 0, "{}", u.id);
    }
}

#[test]
fn a_manifest_channel_column_picks_each_utterance_channel() {
    // One stereo file holding two speakers, one per channel, plus a row that mixes them down.
    let dir = tempfile::tempdir().unwrap();
    let n = 8000;
    let left: Vec<i16> = (0..n).map(|i| ((i * 37) % 2001 - 1000) as i16).collect();
    let right: Vec<i16> = (0..n)
        .map(|i| ((i * 91) % 4001 - 2000) as i16 / 2 * 2)
        .collect();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.path().join("call.wav"), spec).unwrap();
    for (&l, &r) in left.iter().zip(&right) {
        w.write_sample(l).unwrap();
        w.write_sample(r).unwrap();
    }
    w.finalize().unwrap();
    write(&dir.path().join("call.phn"), "0 4000 h#\n4000 8000 iy\n");
    let m = dir.path().join("m.csv");
    write(
        &m,
        "audio,speaker,alignment,channel\n\
         call.wav,a,call.phn,0\ncall.wav,b,call.phn,1\ncall.wav,both,call.phn,mean\n",
    );
    let c = Corpus::open(&m).unwrap();
    let channels: Vec<_> = c.utterances.iter().map(|u| u.channel).collect();
    use asrpipe::audio::Channel;
    assert_eq!(
        channels,
        [
            Some(Channel::Index(0)),
            Some(Channel::Index(1)),
            Some(Channel::Mean)
        ]
    );
    let extractor =
        asrpipe::pipeline::extractor::Extractor::new(&asrpipe::pipeline::Pipeline::kaldi_mfcc())
            .unwrap();
    let as_f32 = |x: &[i16]| x.iter().map(|&v| f32::from(v)).collect::<Vec<_>>();
    let mean: Vec<f32> = left
        .iter()
        .zip(&right)
        .map(|(&l, &r)| (f32::from(l) + f32::from(r)) / 2.0)
        .collect();
    let read = |i: usize| extractor.read_utterance(&c.utterances[i]).unwrap().samples;
    assert_eq!(read(0), as_f32(&left));
    assert_eq!(read(1), as_f32(&right));
    assert_eq!(read(2), mean);
    // Each channel has its own feature-cache entry: with one shared cache, every utterance still
    // gets the features of its own channel.
    let keys: std::collections::BTreeSet<String> = c
        .utterances
        .iter()
        .map(|u| extractor.cache_key(u))
        .collect();
    assert_eq!(keys.len(), 3);
    let cache = asrpipe::io::cache::FeatureCache::new(dir.path().join("cache"));
    let utts: Vec<&asrpipe::corpus::Utterance> = c.utterances.iter().collect();
    for _ in 0..2 {
        let set =
            asrpipe::train::dataset::load(&c, &utts, &extractor, Some(&cache), || {}).unwrap();
        for (i, u) in set.utts.iter().enumerate() {
            let wav = extractor.read_utterance(utts[i]).unwrap();
            let want = extractor.chain(&wav, &u.id).unwrap();
            assert_eq!(u.feats, want, "{}", u.id);
        }
    }

    // A bad channel is named with its line; a stereo file without one says how to choose.
    write(
        &m,
        "audio,speaker,alignment,channel\ncall.wav,a,call.phn,left\n",
    );
    let e = err_text(Corpus::open(&m));
    assert!(
        e.ends_with("m.csv:2: channel `left`: expected `mono`, a channel number from 0, or `mean`"),
        "{e}"
    );
    write(&m, "audio,speaker,alignment\ncall.wav,a,call.phn\n");
    let c = Corpus::open(&m).unwrap();
    let e = err_text(extractor.read_utterance(&c.utterances[0]));
    assert!(e.contains("call.wav: the file has 2 channels"), "{e}");
}

/// A WAV of `secs` seconds at `rate` Hz: a 440 Hz tone, written analytically at that rate.
fn write_tone(path: &Path, rate: u32, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * rate as f64).round() as usize;
    for i in 0..n {
        let t = i as f64 / rate as f64;
        w.write_sample((8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn audio_at_other_rates_is_labelled_at_the_pipelines_rate() {
    // The same 0.5 s utterance (boundaries at 100, 230 and 370 ms) recorded at 8, 16 and 44.1 kHz,
    // each alignment in samples of its own rate, read through one 16 kHz pipeline that resamples:
    // every frame must get the same phone, and the same number of frames.
    let dir = tempfile::tempdir().unwrap();
    let bounds_ms = [0u64, 100, 230, 370, 500];
    let labels = ["h#", "s", "iy", "h#"];
    let mut manifest = String::from("audio\tspeaker\talignment\tsample_rate\n");
    for rate in [8_000u32, 16_000, 44_100] {
        write_tone(&dir.path().join(format!("r{rate}.wav")), rate, 0.5);
        let phn: String = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let s = |ms: u64| ms * rate as u64 / 1000;
                format!("{} {} {l}\n", s(bounds_ms[i]), s(bounds_ms[i + 1]))
            })
            .collect();
        write(&dir.path().join(format!("r{rate}.phn")), &phn);
        manifest += &format!("r{rate}.wav\ts{rate}\tr{rate}.phn\t{rate}\n");
    }
    write(&dir.path().join("m.tsv"), &manifest);
    let corpus = Corpus::open(&dir.path().join("m.tsv")).unwrap();
    let mut pipeline = asrpipe::pipeline::Pipeline::kaldi_mfcc();
    let extractor = asrpipe::pipeline::extractor::Extractor::new(&pipeline).unwrap();
    // Without `resample`, the 8 and 44.1 kHz files are refused with both rates named.
    let at_8k = corpus
        .utterances
        .iter()
        .find(|u| u.sample_rate == 8_000)
        .unwrap();
    let e = match extractor.read_utterance(at_8k) {
        Ok(_) => panic!("8 kHz audio read by a 16 kHz pipeline without resampling"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("8000") && e.contains("16000"), "{e}");
    pipeline.resample = true;
    let extractor = asrpipe::pipeline::extractor::Extractor::new(&pipeline).unwrap();
    let utts: Vec<_> = corpus.utterances.iter().collect();
    let set = asrpipe::train::dataset::load(&corpus, &utts, &extractor, None, || {}).unwrap();
    let phones_of = |rate: u32| -> Vec<Option<u16>> {
        let u = set
            .utts
            .iter()
            .find(|u| u.speaker == format!("s{rate}"))
            .unwrap();
        u.labels.iter().map(|l| l.map(|l| l.phone)).collect()
    };
    // (0.5 s - 25 ms) / 10 ms + 1 = 48 frames at 16 kHz, whatever the source rate.
    for i in 0..3 {
        assert_eq!(set.utts[i].feats.nrows(), 48, "{}", set.utts[i].id);
    }
    assert_eq!(phones_of(8_000), phones_of(16_000), "8 kHz vs 16 kHz");
    assert_eq!(phones_of(44_100), phones_of(16_000), "44.1 kHz vs 16 kHz");
    // And they are the phones the 16 kHz frame centres fall in: 12.5 ms + 10 ms * f.
    let p = PhoneSet::timit();
    let ids: Vec<u16> = labels
        .iter()
        .map(|l| p.fold_61_to_48(p.p61.id(l).unwrap()).unwrap())
        .collect();
    let expect: Vec<Option<u16>> = (0..48)
        .map(|f| {
            let c = 12.5 + 10.0 * f as f64;
            let seg = bounds_ms.windows(2).position(|w| c < w[1] as f64).unwrap();
            Some(ids[seg])
        })
        .collect();
    assert_eq!(phones_of(16_000), expect);
}
