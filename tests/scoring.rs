//! Scoring and conversions: the phone bigram against hand computation, PER counts on hand-made
//! cases and Kaldi's folding, boundary agreement on constructed alignments, and `.phn` files that
//! the corpus reader reads back frame for frame.

use std::path::{Path, PathBuf};

use asrpipe::corpus::{Gender, PhoneSet, Segment, Utterance, frame_labels, timit};
use asrpipe::decode::{
    BoundaryErrors, EditCounts, EditOp, PRIOR_FLOOR, PerReport, PhoneBigram, PhoneSpan,
    boundary_sample, edit_alignment, fold_to_39, format_phn, hybrid_scores, ids48, log_priors,
    phones48, score_phones, spans_to_segments, write_phn,
};
use asrpipe::frontend::framing::FrameGeometry;
use ndarray::array;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn bigram_probabilities_match_hand_computed_witten_bell() {
    // Phones a = 0, b = 1. Training: <s> a b </s>, <s> a </s>.
    let lm = PhoneBigram::estimate(&["a", "b"], [&[0u16, 1][..], &[0u16][..]]).unwrap();
    // Unigram over {a, b, </s>}: counts 2, 1, 2 (N = 5), all 3 seen (T = 3), V = 3:
    // P_uni = (c + 1) / 8 = 3/8, 2/8, 3/8.
    // History a: c(a) = 2, T(a) = 2 (b, </s>): P(w | a) = (c(a, w) + 2 P_uni(w)) / 4.
    assert!(close(lm.prob(Some(0), Some(0)), 0.75 / 4.0));
    assert!(close(lm.prob(Some(0), Some(1)), 1.5 / 4.0));
    assert!(close(lm.prob(Some(0), None), 1.75 / 4.0));
    // History <s>: c = 2, T = 1 (a): P(b | <s>) = (0 + 2/8) / 3.
    assert!(close(lm.prob(None, Some(1)), 1.0 / 12.0));
    assert!(close(lm.prob(None, Some(0)), (2.0 + 3.0 / 8.0) / 3.0));
    // History b: c = 1, T = 1 (</s>): P(a | b) = (3/8) / 2.
    assert!(close(lm.prob(Some(1), Some(0)), 3.0 / 16.0));
    assert_eq!(lm.count(Some(0), Some(1)), 1);
    assert_eq!(lm.count(None, Some(0)), 2);
    // Every history sums to 1.
    for h in [None, Some(0), Some(1)] {
        let sum: f64 = [Some(0), Some(1), None]
            .iter()
            .map(|&w| lm.prob(h, w))
            .sum();
        assert!(close(sum, 1.0), "{h:?}: {sum}");
    }
    // Perplexity of <s> b a </s>: exp(-(ln 1/12 + ln 3/16 + ln 7/16) / 3).
    let pp = lm.perplexity([&[1u16, 0][..]]).unwrap();
    let want = (-((1.0f64 / 12.0).ln() + (3.0f64 / 16.0).ln() + (7.0f64 / 16.0).ln()) / 3.0).exp();
    assert!((pp - want).abs() < 1e-9, "{pp} vs {want}");
}

#[test]
fn bigram_on_48_phones_is_normalised_and_round_trips() {
    let set = PhoneSet::timit();
    let names = set.p48.names();
    let seqs: Vec<Vec<u16>> = (0..50u16)
        .map(|i| (0..(3 + i % 7)).map(|k| (i * 7 + k * 13) % 48).collect())
        .collect();
    let lm = PhoneBigram::estimate(names, seqs.iter().map(|s| s.as_slice())).unwrap();
    lm.validate().unwrap();
    for h in std::iter::once(None).chain((0..48).map(Some)) {
        let sum: f64 = (0..48).map(Some).chain([None]).map(|w| lm.prob(h, w)).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{h:?}: {sum}");
        assert!((0..48).all(|w| lm.prob(h, Some(w)) > 0.0));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lm.json");
    lm.save(&path).unwrap();
    assert_eq!(PhoneBigram::load(&path).unwrap(), lm);
    // Perplexity on training data is well below the 49 of a uniform model.
    let pp = lm.perplexity(seqs.iter().map(|s| s.as_slice())).unwrap();
    assert!(pp > 1.0 && pp < 10.0, "{pp}");

    // Bad input.
    let e = PhoneBigram::estimate(names, [&[3u16, 48][..]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("phone id 48"), "{e}");
    let none: [&[u16]; 0] = [];
    assert!(PhoneBigram::estimate(names, none).is_err());
    assert!(lm.perplexity(none).is_err());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("\"log_prob\": [", "\"log_prob\": [[0.0],", 1),
    )
    .unwrap();
    let e = PhoneBigram::load(&path).unwrap_err().to_string();
    assert!(e.contains("lm.json"), "{e}");
}

fn counts(n: usize, s: usize, d: usize, i: usize) -> EditCounts {
    EditCounts {
        reference: n,
        substitutions: s,
        deletions: d,
        insertions: i,
    }
}

#[test]
fn edit_counts_on_hand_made_cases() {
    let c = |r: &str, h: &str| {
        let r: Vec<char> = r.chars().collect();
        let h: Vec<char> = h.chars().collect();
        edit_alignment(&r, &h).0
    };
    assert_eq!(c("abc", "abc"), counts(3, 0, 0, 0));
    assert_eq!(c("abcd", "axcd"), counts(4, 1, 0, 0));
    assert_eq!(c("abc", "ac"), counts(3, 0, 1, 0));
    assert_eq!(c("ab", "abcd"), counts(2, 0, 0, 2));
    assert_eq!(c("abc", ""), counts(3, 0, 3, 0));
    assert_eq!(c("", "ab"), counts(0, 0, 0, 2));
    assert_eq!(c("", ""), counts(0, 0, 0, 0));
    // Ties: from the end, a substitution beats a deletion or insertion.
    assert_eq!(c("ab", "ba"), counts(2, 2, 0, 0));
    assert_eq!(c("a", "bc"), counts(1, 1, 0, 1));
    assert_eq!(c("ab", "c"), counts(2, 1, 1, 0));
    assert_eq!(c("abcdef", "azced"), counts(6, 2, 1, 0));
    let (_, ops) = edit_alignment(&['a', 'b', 'c'], &['a', 'x', 'c', 'y']);
    assert_eq!(
        ops,
        vec![
            EditOp::Match('a'),
            EditOp::Substitution {
                reference: 'b',
                hypothesis: 'x'
            },
            EditOp::Match('c'),
            EditOp::Insertion('y')
        ]
    );
    assert_eq!(c("abc", "").error_rate(), Some(1.0));
    assert_eq!(c("", "ab").error_rate(), None);
}

#[test]
fn per_folds_as_kaldis_timit_recipe() {
    let set = PhoneSet::timit();
    let segs: Vec<Segment> = [
        "h#", "q", "ix", "pau", "bcl", "b", "epi", "ao", "zh", "tcl", "h#",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| Segment {
        start: 100 * i as u64,
        end: 100 * (i + 1) as u64,
        label: l.to_string(),
        line: i + 1,
    })
    .collect();
    let p48 = phones48(&segs, set, Path::new("x.phn")).unwrap();
    let name48: Vec<&str> = p48.iter().map(|&p| set.p48.name(p)).collect();
    assert_eq!(
        name48,
        [
            "sil", "ix", "sil", "vcl", "b", "epi", "ao", "zh", "cl", "sil"
        ]
    );
    let name39: Vec<&str> = fold_to_39(&p48, set)
        .iter()
        .map(|&p| set.p39.name(p))
        .collect();
    // Nothing merged: four silences in a row stay four.
    assert_eq!(
        name39,
        [
            "sil", "ih", "sil", "sil", "b", "sil", "aa", "sh", "sil", "sil"
        ]
    );
    // ix/ih and ao/aa are the same 39-set phone; a dropped closure is a deletion.
    let hyp = ids48(
        &["sil", "ih", "sil", "b", "epi", "aa", "sh", "cl", "sil"],
        set,
    )
    .unwrap();
    assert_eq!(score_phones(&p48, &hyp, set), counts(10, 0, 1, 0));
    let e = ids48(&["sil", "h#"], set).unwrap_err().to_string();
    assert!(e.contains("unknown phone `h#`"), "{e}");
    let bad = vec![Segment {
        start: 0,
        end: 10,
        label: "xx".into(),
        line: 3,
    }];
    let e = phones48(&bad, set, Path::new("x.phn"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.phn:3") && e.contains("xx"), "{e}");

    let mut report = PerReport::default();
    report.add("u1", counts(10, 1, 1, 0));
    report.add("u2", counts(5, 0, 0, 3));
    assert_eq!(report.total, counts(15, 1, 1, 3));
    assert!((report.per().unwrap() - 5.0 / 15.0).abs() < 1e-12);
    assert_eq!(PerReport::default().per(), None);
}

fn seg(start: u64, end: u64, label: &str) -> Segment {
    Segment {
        start,
        end,
        label: label.into(),
        line: 0,
    }
}

#[test]
fn boundary_agreement_on_a_constructed_alignment() {
    let set = PhoneSet::timit();
    let geom = FrameGeometry::from_ms(16_000, 25.0, 10.0, true);
    // boundary_sample(f) = 160 f + 200 - 80.
    assert_eq!(boundary_sample(&geom, 6), 1080.0);
    let reference = [
        seg(0, 1000, "h#"),
        seg(1000, 2000, "b"),
        seg(2000, 2100, "q"),
        seg(2100, 3200, "aa"),
        seg(3200, 3500, "pau"),
        seg(3600, 4000, "s"),
    ];
    let sil = set.p48.id("sil").unwrap();
    let (b, aa, s) = (
        set.p48.id("b").unwrap(),
        set.p48.id("aa").unwrap(),
        set.p48.id("s").unwrap(),
    );
    let span = |phone, start, end| PhoneSpan { phone, start, end };
    // b starts at frame 6 (1080: +5 ms), aa after a q (skipped), pau at frame 19 (3160: -2.5 ms),
    // s after a gap (skipped).
    let hyp = [
        span(sil, 0, 6),
        span(b, 6, 12),
        span(aa, 12, 19),
        span(sil, 19, 22),
        span(s, 22, 24),
    ];
    let mut errs = BoundaryErrors::new();
    errs.add(&reference, set, &hyp, &geom, 16_000).unwrap();
    let sum = errs.summary().unwrap();
    assert_eq!((sum.boundaries, sum.skipped), (2, 2));
    assert_eq!(errs.errors_ms(), &[5.0, 2.5]);
    assert_eq!(sum.within_10ms, 100.0);
    assert!((sum.mean_abs_ms - 3.75).abs() < 1e-12);
    assert!((sum.median_abs_ms - 3.75).abs() < 1e-12);

    // A second utterance: b 25 ms late, so 1 of 3 boundaries is beyond 20 ms.
    let late = [
        span(sil, 0, 8),
        span(b, 8, 12),
        span(aa, 12, 19),
        span(sil, 19, 22),
        span(s, 22, 24),
    ];
    // frame 8 starts at 1400: 400 samples = 25 ms late.
    errs.add(&reference, set, &late, &geom, 16_000).unwrap();
    let sum = errs.summary().unwrap();
    assert_eq!(sum.boundaries, 4);
    assert!((sum.within_20ms - 75.0).abs() < 1e-12);
    assert!((sum.within_40ms - 100.0).abs() < 1e-12);
    assert!((sum.median_abs_ms - 3.75).abs() < 1e-12);
    assert!((sum.mean_abs_ms - (5.0 + 2.5 + 25.0 + 2.5) / 4.0).abs() < 1e-12);

    // Different sequences are refused.
    let wrong = [
        span(sil, 0, 12),
        span(aa, 12, 19),
        span(sil, 19, 22),
        span(s, 22, 24),
    ];
    let e = errs
        .add(&reference, set, &wrong, &geom, 16_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("same phone sequence"), "{e}");
    assert!(BoundaryErrors::new().summary().is_none());
}

fn utterance(phones: Vec<Segment>, num_samples: u64) -> Utterance {
    Utterance {
        id: "test/u1".into(),
        speaker: "test".into(),
        gender: Gender::Unknown,
        dialect: String::new(),
        sentence: "u1".into(),
        audio: PathBuf::from("u1.wav"),
        phone_file: PathBuf::from("u1.phn"),
        phones,
        words: Vec::new(),
        text: None,
        transcript: None,
        sample_rate: 16_000,
        num_samples: Some(num_samples),
        subset: None,
        span: None,
        speed: None,
        channel: None,
    }
}

#[test]
fn written_phn_files_read_back_frame_for_frame() {
    let set = PhoneSet::timit();
    for (geom, num_samples) in [
        (FrameGeometry::from_ms(16_000, 25.0, 10.0, true), 9_000u64),
        (FrameGeometry::from_ms(16_000, 25.0, 10.0, false), 9_050),
        (
            FrameGeometry {
                length: 401,
                shift: 161,
                snip_edges: true,
            },
            8_777,
        ),
    ] {
        let frames = geom.num_frames(num_samples as usize);
        // Phones of 1 to 7 frames over the whole utterance.
        let names = ["h#", "s", "ih", "kcl", "k", "s", "pau", "ae", "h#"];
        let mut spans = Vec::new();
        let mut t = 0;
        for (i, name) in names.iter().cycle().enumerate() {
            if t == frames {
                break;
            }
            let len = (1 + (i * 5) % 7).min(frames - t);
            let phone = set.fold_61_to_48(set.p61.id(name).unwrap()).unwrap();
            spans.push((
                PhoneSpan {
                    phone,
                    start: t,
                    end: t + len,
                },
                *name,
            ));
            t += len;
        }
        let (spans, labels): (Vec<PhoneSpan>, Vec<&str>) = spans.into_iter().unzip();
        let segs = spans_to_segments(&spans, &labels, &geom, num_samples).unwrap();
        assert_eq!(segs[0].start, 0);
        assert_eq!(segs.last().unwrap().end, num_samples);
        let text = format_phn(&segs);
        let back = timit::parse_segments(&text, Path::new("u1.phn")).unwrap();
        assert_eq!(back.len(), segs.len());
        assert!(
            back.iter()
                .zip(&segs)
                .all(|(a, b)| (a.start, a.end, &a.label) == (b.start, b.end, &b.label))
        );

        // Labelled by the corpus rule, every frame gets its aligned phone, each segment a phone.
        let labels = frame_labels(&utterance(back, num_samples), num_samples, &geom, set).unwrap();
        assert_eq!(labels.frames.len(), frames);
        assert_eq!((labels.unaligned, labels.deleted), (0, 0));
        for span in &spans {
            for f in span.start..span.end {
                assert_eq!(labels.frames[f].unwrap().phone, span.phone, "frame {f}");
            }
        }
        // 48-set names read back too (parse_segments does not check labels).
        let names48: Vec<&str> = spans.iter().map(|s| set.p48.name(s.phone)).collect();
        let segs48 = spans_to_segments(&spans, &names48, &geom, num_samples).unwrap();
        assert!(format_phn(&segs48).starts_with("0 "));
    }

    // Written atomically to a file the reader opens.
    let dir = tempfile::tempdir().unwrap();
    let geom = FrameGeometry::from_ms(16_000, 25.0, 10.0, true);
    let spans = [
        PhoneSpan {
            phone: set.silence48(),
            start: 0,
            end: 3,
        },
        PhoneSpan {
            phone: set.silence48(),
            start: 3,
            end: 4,
        },
    ];
    let path = dir.path().join("out.phn");
    let segs = spans_to_segments(&spans, &["h#", "pau"], &geom, 880).unwrap();
    write_phn(&path, &segs).unwrap();
    let back = timit::read_phn(&path, set).unwrap();
    assert_eq!(
        back.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
        vec![(0, 600), (600, 880)]
    );

    // Bad input.
    let e = spans_to_segments(&spans, &["h#"], &geom, 880)
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 phone spans but 1 labels"), "{e}");
    let e = spans_to_segments(&spans, &["h#", "pau"], &geom, 2000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cover 4 frames"), "{e}");
    let gap = [
        spans[0],
        PhoneSpan {
            start: 4,
            ..spans[1]
        },
    ];
    assert!(spans_to_segments(&gap, &["h#", "pau"], &geom, 880).is_err());
    let e = spans_to_segments(&spans, &["h#", "a b"], &geom, 880)
        .unwrap_err()
        .to_string();
    assert!(e.contains("spaces"), "{e}");
}

#[test]
fn hybrid_scores_divide_posteriors_by_priors() {
    // Counts 2, 0, 6: priors 1/4, (never seen: switched off), 3/4.
    let lp = log_priors(&[2, 0, 6], PRIOR_FLOOR).unwrap();
    let off = (f32::MAX as f64).sqrt().ln() as f32;
    assert!((lp[0] - 0.25f32.ln()).abs() < 1e-6);
    assert_eq!(lp[1], off);
    assert!((lp[2] - 0.75f32.ln()).abs() < 1e-6);
    let post = array![[0.5f32.ln(), 0.2f32.ln(), 0.3f32.ln()]];
    let h = hybrid_scores(post.view(), &lp, 1.0).unwrap();
    assert!((h[[0, 0]] - (0.5f32 / 0.25).ln()).abs() < 1e-5);
    assert!((h[[0, 2]] - (0.3f32 / 0.75).ln()).abs() < 1e-5);
    assert!(h[[0, 1]] < -40.0);
    // Prior scale 0.5 divides by the square root of the prior.
    let h = hybrid_scores(post.view(), &lp, 0.5).unwrap();
    assert!((h[[0, 0]] - (0.5f32 / 0.25f32.sqrt()).ln()).abs() < 1e-5);
    // Bad input.
    assert!(log_priors(&[0, 0], PRIOR_FLOOR).is_err());
    assert!(hybrid_scores(post.view(), &lp[..2], 1.0).is_err());
    assert!(hybrid_scores(post.view(), &lp, f32::NAN).is_err());
    let nan = array![[f32::NAN, 0.0, 0.0]];
    let e = hybrid_scores(nan.view(), &lp, 1.0).unwrap_err().to_string();
    assert!(e.contains("finite"), "{e}");
}
