//! The HMM model layer: the dense context table answers as the tying does and knows when it is
//! monophone, transition probabilities re-estimate from hand-made alignments to hand-computed
//! values, options refuse nonsense with the option's name.

use std::path::Path;

use asrpipe::corpus::PhoneSet;
use asrpipe::model::hmm::{ContextTable, HmmConfig, Topology, Transitions};
use asrpipe::model::tree::{Tree, Tying, TyingMap};
use asrpipe::options::Describe;

const NAMES: [&str; 3] = ["a", "b", "sil"];

#[test]
fn context_table_tabulates_the_lookup_and_detects_context_independence() {
    let topo = Topology::uniform(3, 2).unwrap();
    // Monophone: leaf = 2 c + s whatever the context.
    let ci = ContextTable::build(&NAMES, 2, &topo, 6, |_, c, _, s| {
        Some(2 * c as u32 + s as u32)
    })
    .unwrap();
    assert!(ci.is_context_independent());
    assert_eq!(ci.leaf(0, 1, 2, 1), Some(3));
    assert_eq!(ci.leaf(2, 2, 0, 0), Some(4));

    // State 0 of `a` depends on its left phone: not context-independent.
    let cd = ContextTable::build(&NAMES, 2, &topo, 7, |l, c, _, s| {
        Some(if c == 0 && s == 0 && l == 1 {
            6
        } else {
            2 * c as u32 + s as u32
        })
    })
    .unwrap();
    assert!(!cd.is_context_independent());
    assert_eq!(cd.leaf(1, 0, 2, 0), Some(6));
    assert_eq!(cd.leaf(0, 0, 2, 0), Some(0));
    assert_eq!(cd.leaf(1, 0, 2, 1), Some(1));

    // A phone some of whose contexts are missing is not context-independent either, and a phone
    // with a state missing everywhere is unusable.
    let gaps = ContextTable::build(&NAMES, 2, &topo, 6, |l, c, _, s| {
        let missing = (c == 1 && s == 1) || (c == 0 && l == 1);
        (!missing).then_some(2 * c as u32 + s as u32)
    })
    .unwrap();
    assert!(!gaps.is_context_independent());
    assert!(gaps.is_usable(0) && !gaps.is_usable(1) && gaps.is_usable(2));
    assert!(!gaps.complete(1, 0, 2) && gaps.complete(0, 0, 2));
}

#[test]
fn context_table_refuses_tied_states_beyond_the_count() {
    let topo = Topology::uniform(3, 2).unwrap();
    let e = ContextTable::build(&NAMES, 2, &topo, 5, |_, c, _, s| {
        Some(2 * c as u32 + s as u32)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("tied state 5") && e.contains("only 5"), "{e}");
    let e = ContextTable::build(&NAMES, 2, &topo, 6, |_, _, _, _| None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no phone"), "{e}");
    let e = ContextTable::build(&NAMES, 3, &topo, 6, |_, _, _, _| Some(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("silence phone id 3"), "{e}");
}

#[test]
fn context_table_from_a_tying_answers_as_the_tying() {
    let set = PhoneSet::timit();
    let topo = HmmConfig::default()
        .topology(set.p48.len(), set.silence48())
        .unwrap();
    // Untied tree over all 48 x 3 (centre, state): monophone.
    let roots: Vec<(String, u8)> = set
        .p48
        .names()
        .iter()
        .flat_map(|n| (0..3).map(move |s| (n.clone(), s)))
        .collect();
    let tree = Tying::Tree(Tree::untied(&roots));
    let ctx = ContextTable::from_tying(&tree, &set.p48, &topo).unwrap();
    assert!(ctx.is_context_independent());
    assert_eq!(ctx.num_leaves(), 144);
    let aa = set.p48.id("aa").unwrap();
    let b = set.p48.id("b").unwrap();
    assert_eq!(
        ctx.leaf(b, aa, b, 2),
        Some(tree.leaf("aa", 2, "b", "b").unwrap())
    );

    // A table with wildcards and one right-context exception; `zh` has no entries at all.
    let mut text = String::new();
    let mut leaf = 0;
    for n in set.p48.names() {
        if n == "zh" {
            continue;
        }
        for s in 0..3 {
            text.push_str(&format!("{n} {s} * * {leaf}\n"));
            leaf += 1;
        }
    }
    text.push_str(&format!("aa 2 * m {leaf}\n"));
    let map = Tying::Map(TyingMap::parse(&text, Path::new("t.tsv")).unwrap());
    let ctx = ContextTable::from_tying(&map, &set.p48, &topo).unwrap();
    assert!(!ctx.is_context_independent());
    let m = set.p48.id("m").unwrap();
    let zh = set.p48.id("zh").unwrap();
    assert_eq!(ctx.leaf(b, aa, m, 2), Some(leaf));
    assert_eq!(ctx.leaf(b, aa, b, 2), map.leaf("aa", 2, "b", "b").ok());
    assert_eq!(ctx.leaf(b, zh, b, 0), None);
    assert!(!ctx.is_usable(zh) && ctx.is_usable(aa));
}

#[test]
fn transitions_reestimate_from_counts_as_computed_by_hand() {
    let topo = Topology::uniform(3, 3).unwrap();
    let mut t = Transitions::new(&NAMES, &topo, 0.75).unwrap();
    let mut counts = t.counts();
    // Two occurrences of `a`: states 0 0 1 2 2 2 and 0 1 1 2.
    counts.add_segment(0, &[0, 0, 1, 2, 2, 2]).unwrap();
    counts.add_segment(0, &[0, 1, 1, 2]).unwrap();
    // `b`: state 0 five frames, never a self-loop on state 1, three frames of state 2.
    counts.add_segment(1, &[0, 0, 0, 0, 0, 1, 2, 2]).unwrap();
    assert_eq!((counts.self_loops(0, 0), counts.forwards(0, 0)), (1.0, 2.0));
    assert_eq!((counts.self_loops(0, 1), counts.forwards(0, 1)), (1.0, 2.0));
    assert_eq!((counts.self_loops(0, 2), counts.forwards(0, 2)), (2.0, 2.0));

    // No minimum count, a negligible floor: relative frequencies.
    let mut exact = t.clone();
    let s = exact.update(&counts, 1e-12, 0.0).unwrap();
    assert_eq!((s.updated, s.kept), (6, 3));
    assert!((exact.self_loop_prob(0, 0) - 1.0 / 3.0).abs() < 1e-9);
    assert!((exact.self_loop_prob(0, 1) - 1.0 / 3.0).abs() < 1e-9);
    assert!((exact.self_loop_prob(0, 2) - 0.5).abs() < 1e-9);
    assert!((exact.self_loop_prob(1, 0) - 0.8).abs() < 1e-9);
    assert!((exact.log_forward(1, 0) - 0.2f64.ln()).abs() < 1e-9);
    // `sil` was never seen: it keeps the initial 0.75.
    assert_eq!(exact.self_loop_prob(2, 1), 0.75);

    // Minimum count 3: a's states (3, 3 and 4 transitions) and b's state 0 (5) are re-estimated;
    // b's states 1 and 2 (1 and 2 transitions) and sil's keep 0.75.
    let s = t.update(&counts, 0.1, 3.0).unwrap();
    assert_eq!((s.updated, s.kept), (4, 5));
    assert_eq!(t.self_loop_prob(1, 1), 0.75);
    assert_eq!(t.self_loop_prob(1, 2), 0.75);
    assert!((t.self_loop_prob(0, 2) - 0.5).abs() < 1e-12);
    assert!((t.self_loop_prob(1, 0) - 0.8).abs() < 1e-12);
    // Floor 0.1 on b's state 1 (0 self-loops of 1): 0.1 / (0.1 + 1) after renormalising.
    let mut floored = Transitions::new(&NAMES, &topo, 0.75).unwrap();
    floored.update(&counts, 0.1, 0.0).unwrap();
    assert!((floored.self_loop_prob(1, 1) - 0.1 / 1.1).abs() < 1e-12);
    assert!(floored.update(&counts, 0.0, 0.0).is_err());

    // Bad segments.
    assert!(counts.add_segment(3, &[0]).is_err());
    let e = counts.add_segment(0, &[0, 3]).unwrap_err().to_string();
    assert!(e.contains("state 3"), "{e}");
}

#[test]
fn transitions_and_topology_round_trip_through_json() {
    let dir = tempfile::tempdir().unwrap();
    let topo = Topology::from_counts(vec![3, 2, 5]).unwrap();
    let mut t = Transitions::new(&NAMES, &topo, 0.6).unwrap();
    t.set_self_loop_prob(2, 4, 0.9).unwrap();
    let path = dir.path().join("transitions.json");
    t.save(&path).unwrap();
    let back = Transitions::load(&path).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.topology().unwrap(), topo);
    assert_eq!(serde_json::to_string(&topo).unwrap(), "[3,2,5]");

    // A damaged file names itself and the bad value.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("0.9", "1.5");
    std::fs::write(&path, text).unwrap();
    let e = Transitions::load(&path).unwrap_err().to_string();
    assert!(e.contains("transitions.json") && e.contains("1.5"), "{e}");
    assert!(serde_json::from_str::<Topology>("[3,0]").is_err());
}

#[test]
fn hmm_options_refuse_nonsense_naming_the_option() {
    assert!(HmmConfig::default().validate().is_ok());
    let cases: Vec<(HmmConfig, &str)> = vec![
        (
            HmmConfig {
                states_per_phone: 5,
                ..HmmConfig::default()
            },
            "states_per_phone must be 3",
        ),
        (
            HmmConfig {
                silence_states: 1,
                ..HmmConfig::default()
            },
            "silence_states must be 3",
        ),
        (
            HmmConfig {
                self_loop_prob: f64::NAN,
                ..HmmConfig::default()
            },
            "self_loop_prob must be in (0, 1)",
        ),
        (
            HmmConfig {
                transition_floor: 0.7,
                ..HmmConfig::default()
            },
            "transition_floor",
        ),
        (
            HmmConfig {
                transition_min_count: -1.0,
                ..HmmConfig::default()
            },
            "transition_min_count",
        ),
    ];
    for (cfg, want) in cases {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(want) && !e.contains('\n'), "{e}");
    }
    let docs = HmmConfig::option_docs();
    assert!(
        docs.iter()
            .any(|d| d.name == "self_loop_prob" && d.default == "0.75")
    );
    let topo = HmmConfig::default().topology(48, 35).unwrap();
    assert_eq!((topo.num_phones(), topo.states(35)), (48, 3));
}
