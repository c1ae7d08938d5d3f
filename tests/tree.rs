//! Decision-tree state tying: splits follow the data's real context effects, the leaf budget is
//! honoured, no splits means monophone states, and tables and trees answer the same.

use std::path::Path;

use asrpipe::corpus::{FrameLabel, PhoneSet};
use asrpipe::model::tree::{
    ContextAccumulator, ContextStats, QuestionSet, Side, Tree, TreeConfig, Tying, TyingMap,
};

/// Statistics of `n` frames with per-dimension mean `m` and variance `v`.
fn stats(
    centre: &str,
    state: u8,
    left: &str,
    right: &str,
    n: f64,
    m: &[f64],
    v: &[f64],
) -> ContextStats {
    ContextStats {
        centre: centre.into(),
        state,
        left: left.into(),
        right: right.into(),
        count: n,
        sum: m.iter().map(|m| n * m).collect(),
        sum_sq: m.iter().zip(v).map(|(m, v)| n * (v + m * m)).collect(),
    }
}

/// aa state 1 is shifted by a following nasal; s state 0 by a preceding vowel. The other context
/// varies harmlessly (small mean wiggles).
fn contexts() -> Vec<ContextStats> {
    let rights = ["m", "n", "ng", "en", "t", "d", "s", "f", "k", "iy"];
    let lefts = ["sil", "b", "t", "iy", "ae", "l"];
    let mut out = Vec::new();
    for (i, l) in lefts.iter().enumerate() {
        for (j, r) in rights.iter().enumerate() {
            let nasal = ["m", "n", "ng", "en"].contains(r);
            let wiggle = 0.05 * ((i * 7 + j * 3) % 5) as f64;
            let m0 = if nasal { 3.0 } else { 0.0 } + wiggle;
            out.push(stats(
                "aa",
                1,
                l,
                r,
                200.0 + 10.0 * j as f64,
                &[m0, -1.0],
                &[1.0, 0.5],
            ));
            let vowel = ["iy", "ae"].contains(l);
            let m1 = if vowel { -2.0 } else { 0.5 } + wiggle;
            out.push(stats("s", 0, l, r, 150.0, &[1.0, m1], &[0.8, 1.0]));
        }
    }
    out
}

fn cfg(num_leaves: usize) -> TreeConfig {
    TreeConfig {
        num_leaves,
        min_gain: 0.0,
        min_count: 50.0,
        ..TreeConfig::default()
    }
}

#[test]
fn the_strongest_context_effects_are_split_first() {
    let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &cfg(4)).unwrap();
    assert_eq!(tree.num_leaves(), 4);
    let first = &tree.history[0];
    assert_eq!(
        (
            first.centre.as_str(),
            first.state,
            first.side,
            first.question.as_str()
        ),
        ("aa", 1, Side::Right, "nasal")
    );
    let second = &tree.history[1];
    assert_eq!(
        (
            second.centre.as_str(),
            second.side,
            second.question.as_str()
        ),
        ("s", Side::Left, "vowel")
    );
    assert!(first.gain > second.gain && second.gain > 0.0);
    // Roots in order of appearance, leaves depth first with "yes" first.
    assert_eq!(tree.leaf("aa", 1, "b", "n").unwrap(), 0);
    assert_eq!(tree.leaf("aa", 1, "b", "t").unwrap(), 1);
    assert_eq!(tree.leaf("s", 0, "iy", "t").unwrap(), 2);
    assert_eq!(tree.leaf("s", 0, "sil", "t").unwrap(), 3);
    assert_eq!(tree.leaf_phone(3), ("s", 0));
    // Unseen contexts walk the questions: en is a nasal, an unknown phone is in no set.
    assert_eq!(tree.leaf("aa", 1, "zz", "en").unwrap(), 0);
    assert_eq!(tree.leaf("aa", 1, "m", "xx").unwrap(), 1);
    let err = tree.leaf("aa", 2, "b", "t").unwrap_err().to_string();
    assert!(err.contains("aa state 2"), "{err}");
}

#[test]
fn gain_is_the_single_gaussian_likelihood_difference() {
    // Two halves of 10 frames, unit variance, means 0 and 2: the pool has variance 2, so the
    // split gains 20 * 0.5 * ln 2 = 10 ln 2.
    let s = vec![
        stats("a", 0, "p", "x", 10.0, &[0.0], &[1.0]),
        stats("a", 0, "b", "x", 10.0, &[2.0], &[1.0]),
    ];
    let c = TreeConfig {
        num_leaves: 10,
        min_gain: 0.0,
        min_count: 0.0,
        var_floor: 0.0,
        ..TreeConfig::default()
    };
    let tree = Tree::build(&s, &QuestionSet::builtin(), &c).unwrap();
    assert_eq!(tree.num_leaves(), 2);
    assert!(
        (tree.history[0].gain - 10.0 * 2f64.ln()).abs() < 1e-9,
        "{}",
        tree.history[0].gain
    );
}

#[test]
fn the_leaf_budget_and_thresholds_are_honoured() {
    for n in [2, 3, 5, 9, 17] {
        let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &cfg(n)).unwrap();
        assert_eq!(tree.num_leaves(), n);
        assert_eq!(tree.history.len(), n - 2);
    }
    // A high gain threshold keeps only the two real effects.
    let c = TreeConfig {
        min_gain: 2000.0,
        ..cfg(100)
    };
    let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &c).unwrap();
    assert_eq!(tree.num_leaves(), 4, "{:?}", tree.history);
    // Children must keep min_count frames: aa/s roots have ~12000 / 9000 frames.
    let c = TreeConfig {
        min_count: 6000.0,
        ..cfg(100)
    };
    let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &c).unwrap();
    assert!(tree.num_leaves() <= 3);
}

#[test]
fn no_splits_gives_one_untied_state_per_phone_state() {
    let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &cfg(0)).unwrap();
    assert_eq!(tree.num_leaves(), 2);
    assert!(tree.history.is_empty());
    for c in contexts() {
        let want = if c.centre == "aa" { 0 } else { 1 };
        assert_eq!(
            tree.leaf(&c.centre, c.state, &c.left, &c.right).unwrap(),
            want
        );
    }
    let untied = Tree::untied(&[("aa", 0), ("aa", 1), ("aa", 2), ("b", 0)]);
    assert_eq!(untied.num_leaves(), 4);
    assert_eq!(untied.leaf("aa", 2, "x", "y").unwrap(), 2);
    assert_eq!(untied.leaf_phone(3), ("b", 0));
}

#[test]
fn trees_and_tables_survive_json_and_agree() {
    let tree = Tree::build(&contexts(), &QuestionSet::builtin(), &cfg(6)).unwrap();
    let tying = Tying::Tree(tree.clone());
    let json = serde_json::to_string(&tying).unwrap();
    let back: Tying = serde_json::from_str(&json).unwrap();
    assert_eq!(back, tying);
    let ctx: Vec<(String, u8, String, String)> = contexts()
        .into_iter()
        .map(|c| (c.centre, c.state, c.left, c.right))
        .collect();
    let table = TyingMap::from_tree(&tree, &ctx).unwrap();
    assert_eq!(table.num_leaves(), 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tying.tsv");
    table.write(&path).unwrap();
    let read = Tying::Map(TyingMap::load(&path).unwrap());
    for (c, s, l, r) in &ctx {
        assert_eq!(
            read.leaf(c, *s, l, r).unwrap(),
            back.leaf(c, *s, l, r).unwrap()
        );
    }
}

#[test]
fn tying_tables_use_wildcards_and_report_bad_lines() {
    let f = Path::new("t.tsv");
    let m = TyingMap::parse(
        "# c s l r leaf\naa 0 * * 0\naa 0 m * 1\naa 0 m n 2\naa 0 * t 1\n",
        f,
    )
    .unwrap();
    assert_eq!(m.leaf("aa", 0, "m", "n").unwrap(), 2);
    assert_eq!(m.leaf("aa", 0, "m", "k").unwrap(), 1);
    assert_eq!(m.leaf("aa", 0, "b", "t").unwrap(), 1);
    assert_eq!(m.leaf("aa", 0, "b", "k").unwrap(), 0);
    assert!(m.leaf("aa", 1, "b", "k").is_err());
    let err = |t: &str| TyingMap::parse(t, f).unwrap_err().to_string();
    assert_eq!(
        err("aa 0 * *\n"),
        "t.tsv:1: expected 5 fields `centre state left right leaf`, found 4"
    );
    assert_eq!(
        err("aa 0 * * 0\naa 0 * * 1\n"),
        "t.tsv:2: aa 0 * * is listed twice"
    );
    assert!(
        err("aa 0 * * 0\nb 0 * * 0\n")
            .starts_with("t.tsv:2: leaf 0 belongs to aa state 0 (line 1)")
    );
    assert!(err("aa 0 * * 0\nb 0 * * 2\n").contains("1 is missing"));
    assert!(err("aa x * * 0\n").starts_with("t.tsv:1: state"));
}

/// Frames of one synthetic utterance: phone `centre` in thirds between `left` and `right`, 2-d
/// features whose first dimension is +4 before a nasal (all states) and noise otherwise.
fn utterance(
    phones: &asrpipe::corpus::phones::PhoneList,
    words: &[(&str, &str, &str)],
    frames_each: usize,
    seed: u64,
) -> (ndarray::Array2<f32>, Vec<Option<FrameLabel>>) {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut feats = Vec::new();
    let mut labels = Vec::new();
    for (left, centre, right) in words {
        let nasal = ["m", "n", "ng", "en"].contains(right);
        for k in 0..frames_each {
            let state = (3 * k / frames_each) as u8;
            feats.push(noise.sample(&mut rng) as f32 + if nasal { 4.0 } else { 0.0 });
            feats.push(noise.sample(&mut rng) as f32 + state as f32 * 10.0);
            labels.push(Some(FrameLabel {
                phone: phones.id(centre).unwrap(),
                state,
                left: phones.id(left).unwrap(),
                right: phones.id(right).unwrap(),
            }));
        }
        // A frame without a label (TIMIT q) is left out.
        feats.extend([1e6, 1e6]);
        labels.push(None);
    }
    let n = labels.len();
    (
        ndarray::Array2::from_shape_vec((n, 2), feats).unwrap(),
        labels,
    )
}

fn two_utterances() -> Vec<(ndarray::Array2<f32>, Vec<Option<FrameLabel>>)> {
    let p48 = &PhoneSet::timit().p48;
    let words = [
        // Every left phone is seen before a nasal and before another phone.
        ("sil", "aa", "m"),
        ("t", "aa", "n"),
        ("t", "aa", "t"),
        ("sil", "aa", "s"),
        ("d", "iy", "ng"),
        ("k", "iy", "d"),
        ("d", "iy", "t"),
        ("k", "iy", "n"),
    ];
    vec![
        utterance(p48, &words, 300, 1),
        utterance(p48, &words[1..], 300, 2),
    ]
}

#[test]
fn trees_grow_from_labelled_frames_and_answer_unseen_contexts() {
    let p48 = &PhoneSet::timit().p48;
    let utts = two_utterances();
    let views = || utts.iter().map(|(f, l)| (f.view(), l.as_slice()));
    let mut acc = ContextAccumulator::new();
    for (f, l) in views() {
        acc.add(f, l).unwrap();
    }
    let stats = acc.finish(p48).unwrap();
    // 8 (left, centre, right) words x 3 states; the unlabelled frames are not counted.
    assert_eq!(stats.len(), 24);
    let aa_m = stats
        .iter()
        .find(|c| {
            (
                c.centre.as_str(),
                c.state,
                c.left.as_str(),
                c.right.as_str(),
            ) == ("aa", 1, "sil", "m")
        })
        .unwrap();
    assert_eq!(aa_m.count, 100.0);

    let cfg = TreeConfig {
        num_leaves: 100,
        min_gain: 50.0,
        min_count: 50.0,
        ..TreeConfig::default()
    };
    let tree = Tree::build_from_frames(views(), p48, &QuestionSet::builtin(), &cfg).unwrap();
    assert_eq!(
        tree,
        Tree::build(&stats, &QuestionSet::builtin(), &cfg).unwrap()
    );
    // One root per (centre, state): 6; the one real effect (a following nasal) splits each once,
    // and the noise is not worth the minimum gain.
    assert_eq!(tree.num_leaves(), 12);
    assert_eq!(tree.history.len(), 6);
    let first = &tree.history[0];
    assert!(tree.history.iter().all(|h| h.side == Side::Right));
    let q = QuestionSet::builtin();
    let asked = &q
        .questions
        .iter()
        .find(|x| x.name == first.question)
        .unwrap()
        .phones;
    for p in ["m", "n", "ng"] {
        assert!(asked.contains(p), "{} lacks {p}", first.question);
    }
    for p in ["t", "s", "d"] {
        assert!(!asked.contains(p), "{} has {p}", first.question);
    }
    // Every context of a trained (centre, state) has a leaf, also with neighbours never seen.
    let aa1 = |l: &str, r: &str| tree.leaf("aa", 1, l, r).unwrap();
    assert_eq!(aa1("zh", "en"), aa1("sil", "m"));
    assert_eq!(aa1("oy", "th"), aa1("t", "t"));
    assert_ne!(aa1("oy", "en"), aa1("oy", "th"));
    for l in p48.names() {
        for r in p48.names() {
            for s in 0..3 {
                let leaf = tree.leaf("iy", s, l, r).unwrap();
                assert_eq!(tree.leaf_phone(leaf), ("iy", s));
            }
        }
    }
    // Only a phone state without training frames has no tree.
    let e = tree.leaf("uw", 0, "sil", "sil").unwrap_err();
    assert!(
        e.to_string().contains("no tree for phone uw state 0"),
        "{e}"
    );
}

#[test]
fn untied_monophones_are_phone_times_three() {
    let p48 = &PhoneSet::timit().p48;
    let utts = two_utterances();
    let views = utts.iter().map(|(f, l)| (f.view(), l.as_slice()));
    let cfg = TreeConfig {
        num_leaves: 0,
        ..TreeConfig::default()
    };
    let tree = Tree::build_from_frames(views, p48, &QuestionSet::builtin(), &cfg).unwrap();
    // aa and iy, 3 states each; leaves numbered root by root in order of first appearance
    // (contexts sorted by 48-set id: aa < iy).
    assert_eq!(tree.num_leaves(), 6);
    let leaves: Vec<(&str, u8)> = (0..6).map(|l| tree.leaf_phone(l)).collect();
    assert_eq!(
        leaves,
        [
            ("aa", 0),
            ("aa", 1),
            ("aa", 2),
            ("iy", 0),
            ("iy", 1),
            ("iy", 2)
        ]
    );
    assert_eq!(tree.leaf("iy", 2, "ng", "sh").unwrap(), 5);
}

#[test]
fn frame_statistics_check_their_input() {
    let p48 = &PhoneSet::timit().p48;
    let mut acc = ContextAccumulator::new();
    let (f, l) = &two_utterances()[0];
    let e = acc.add(f.view(), &l[1..]).unwrap_err();
    assert!(e.to_string().contains("frame labels for"), "{e}");
    acc.add(f.view(), l).unwrap();
    let wide = ndarray::Array2::<f32>::zeros((l.len(), 3));
    let e = acc.add(wide.view(), l).unwrap_err();
    assert!(
        e.to_string()
            .contains("dimension 3 after features of dimension 2"),
        "{e}"
    );
    let bad = [Some(FrameLabel {
        phone: 200,
        state: 0,
        left: 0,
        right: 0,
    })];
    let mut acc = ContextAccumulator::new();
    acc.add(ndarray::Array2::<f32>::zeros((1, 2)).view(), &bad)
        .unwrap();
    assert!(acc.finish(p48).is_err());
}

#[test]
fn a_user_question_file_replaces_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("questions.txt");
    std::fs::write(&path, "# mine\nnasal: m n ng\nstop: t d\n").unwrap();
    let q = QuestionSet::load(&path).unwrap();
    assert_eq!(q.questions.len(), 2);
    q.check_phones(PhoneSet::timit().p48.names()).unwrap();
    std::fs::write(&path, "nasal: m n ng\nstop t d\n").unwrap();
    let e = QuestionSet::load(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:2:", path.display())), "{e}");
    let e = QuestionSet::load(&dir.path().join("missing.txt")).unwrap_err();
    assert!(e.to_string().contains("missing.txt"), "{e}");
    // The built-in set is data/questions.txt, word for word.
    let file = QuestionSet::load(Path::new("data/questions.txt")).unwrap();
    assert_eq!(file.questions, QuestionSet::builtin().questions);
}
