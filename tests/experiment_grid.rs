//! Experiment grids with seeds, wide nets, learning curves and learned front ends: how a grid
//! expands into runs, what results.csv and report.md keep of every seed.

use std::path::Path;

use asrpipe::corpus::Corpus;
use asrpipe::io::cache::FeatureCache;
use asrpipe::study::analyses::analyses;
use asrpipe::study::experiment::{self, Experiment, Group};
use asrpipe::study::report;
use asrpipe::train::Env;

fn write_grid(dir: &Path, body: &str) -> Experiment {
    let pipelines = std::fs::canonicalize("pipelines").unwrap();
    let yaml = body.replace("{p}", &pipelines.display().to_string());
    let file = dir.join("grid.yaml");
    std::fs::write(&file, yaml).unwrap();
    Experiment::load(&file).unwrap()
}

#[test]
fn seeds_wide_nets_and_curves_expand_into_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = write_grid(
        tmp.path(),
        "name: g\nseeds: [1, 2, 3]\n\
         runs:\n  - { name: gmm, pipeline: {p}/kaldi-mfcc-gmm.yaml }\n\
         \x20 - { name: one, pipeline: {p}/kaldi-mfcc-dnn.yaml, dnn: { hidden: 1x8 }, seeds: [7] }\n\
         depth: { pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, width: 8, layers: [1, 2], wide: [64] }\n\
         curve: { pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, width: 8, layers: 2, fractions: [0.25, 1.0], seeds: [4, 5] }\n",
    );
    let plan = exp.plan().unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "gmm-s1",
            "gmm-s2",
            "gmm-s3",
            "one-s7",
            "deep-8-s1",
            "deep-8-s2",
            "deep-8-s3",
            "deep-2x8-s1",
            "deep-2x8-s2",
            "deep-2x8-s3",
            "shallow-as-2x8-s1",
            "shallow-as-2x8-s2",
            "shallow-as-2x8-s3",
            "wide-64-s1",
            "wide-64-s2",
            "wide-64-s3",
            "curve-2x8-25pc-s4",
            "curve-2x8-25pc-s5",
            "curve-shallow-as-2x8-25pc-s4",
            "curve-shallow-as-2x8-25pc-s5",
            "curve-2x8-100pc-s4",
            "curve-2x8-100pc-s5",
            "curve-shallow-as-2x8-100pc-s4",
            "curve-shallow-as-2x8-100pc-s5",
        ]
    );
    // The seed reaches the classifier: the GMM's and the DNN's own seed options.
    for p in &plan {
        let c = p.pipeline.classifier.as_ref().unwrap();
        let seed = c
            .dnn
            .as_ref()
            .map(|d| d.seed)
            .or(c.gmm.as_ref().map(|g| g.seed));
        assert_eq!(seed, p.seed, "{}", p.name);
    }
    let wide = plan.iter().find(|p| p.group == Group::Wide).unwrap();
    assert_eq!(wide.run, "wide-64");
    let c = plan.iter().find(|p| p.name == "curve-2x8-25pc-s4").unwrap();
    assert_eq!((c.group, c.fraction, c.layers), (Group::CurveDeep, 0.25, 2));

    // Without seeds, one run each under its own name.
    let exp = write_grid(
        tmp.path(),
        "name: g\nruns:\n  - { name: gmm, pipeline: {p}/kaldi-mfcc-gmm.yaml }\n",
    );
    let plan = exp.plan().unwrap();
    assert_eq!((plan[0].name.as_str(), plan[0].seed), ("gmm", None));

    for (bad, says) in [
        ("seeds: []\n", "empty"),
        ("seeds: [1, 1]\n", "twice"),
        (
            "curve: { pipeline: {p}/kaldi-mfcc-dnn.yaml, width: 8, layers: 2, fractions: [0] }\n",
            "fraction",
        ),
    ] {
        let pipelines = std::fs::canonicalize("pipelines").unwrap();
        let yaml = format!(
            "name: g\n{}runs:\n  - {{ name: gmm, pipeline: {}/kaldi-mfcc-gmm.yaml }}\n",
            bad.replace("{p}", &pipelines.display().to_string()),
            pipelines.display()
        );
        let file = tmp.path().join("bad.yaml");
        std::fs::write(&file, yaml).unwrap();
        let e = Experiment::load(&file).unwrap_err().to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
}

/// Two seeds of a tiny net, a learning curve and a learned filter bank on the demo corpus:
/// results.csv keeps a row per seed, report.md gives mean ± sd, the curve and filter figures
/// exist, and the learned filter bank's weights are non-negative.
#[test]
fn an_experiment_with_seeds_reports_mean_and_sd() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::new(&corpus).cache(FeatureCache::new(tmp.path().join("cache")));
    let exp = write_grid(
        tmp.path(),
        "name: seeds\nstates: { tied: 144 }\nseeds: [1, 2]\n\
         defaults: { dnn: { context: 1, epochs: 1, batch: 256 } }\n\
         runs:\n\
         \x20 - { name: dup, pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, dnn: { hidden: 2x16 } }\n\
         \x20 - { name: fb, pipeline: {p}/spectrogram-fbank-dnn.yaml, dnn: { hidden: 1x16, front: { filterbank: { filters: 12, init: mel } } }, seeds: [1] }\n\
         curve: { pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, width: 16, layers: 2, fractions: [0.5, 1.0] }\n\
         filters: { run: fb, runs: [fb] }\n\
         vowels: { run: dup, layers: [0, 2] }\n",
    );
    let out = tmp.path().join("report");
    let mut log = Vec::new();
    let rows = experiment::run_all(&env, &exp, &out, |m| log.push(m.to_string())).unwrap();
    assert_eq!(rows.len(), 2 + 1 + 2 * 2 * 2);
    // The curve's 100 % deep points are the listed run `dup` again: taken, not retrained.
    for s in [1, 2] {
        assert!(
            log.iter().any(|m| m.contains(&format!(
                "curve-2x16-100pc-s{s}: the same training as `dup-s{s}`"
            ))),
            "{log:?}"
        );
    }
    let extras = analyses(&env, &exp, &out, &rows).unwrap();
    report::write(&out, &exp, &corpus, &rows, &extras).unwrap();

    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("name,run,seed,group,layers,train_fraction,"));
    // Every run is also decoded over the tuning grid; the demo has no dev speakers, so the
    // point is the best on test, and the report says so.
    assert!(
        lines[0].contains(",per,per_tuned,tuned_acoustic_scale,tuned_insertion_penalty,tuned_on,")
    );
    assert!(
        rows.iter()
            .all(|r| r
                .result
                .tuned
                .as_ref()
                .is_some_and(|t| t.chosen_on == asrpipe::corpus::Split::Test
                    && t.per <= r.result.per.unwrap()))
    );
    assert_eq!(lines.len(), 1 + rows.len());
    assert!(csv.contains("curve-2x16-50pc-s1,curve-2x16-50pc,1,curve-deep,2,0.5,"));
    assert!(csv.contains("curve-2x16-50pc-s2,curve-2x16-50pc,2,curve-deep,2,0.5,"));
    // Half the speakers: fewer training frames than all of them.
    let frames = |name: &str| {
        rows.iter()
            .find(|r| r.result.name == name)
            .unwrap()
            .result
            .about
            .train_frames
    };
    assert!(frames("curve-2x16-50pc-s1") < frames("curve-2x16-100pc-s1"));
    // Different seeds, different nets.
    let acc = |name: &str| {
        rows.iter()
            .find(|r| r.result.name == name)
            .unwrap()
            .result
            .state_accuracy
    };
    assert_ne!(acc("curve-2x16-100pc-s1"), acc("curve-2x16-100pc-s2"));
    assert_eq!(acc("curve-2x16-100pc-s1"), acc("dup-s1"));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Learning curves"), "{md}");
    assert!(md.contains("PER % (default / grid)"), "{md}");
    assert!(
        md.contains("no dev speakers, so the grid point is the best on the test"),
        "{md}"
    );
    let (a, b) = (acc("curve-2x16-100pc-s1"), acc("curve-2x16-100pc-s2"));
    let mean = 50.0 * (a + b);
    let sd = 100.0 * (a - b).abs() / 2f64.sqrt();
    assert!(
        md.contains(&format!("{mean:.1} ± {sd:.1}")),
        "{mean:.1} ± {sd:.1} missing from\n{md}"
    );
    assert!(md.contains("n = 1 (seed 1)"), "{md}");
    assert!(md.contains("## Vowels layer by layer"), "{md}");
    for f in [
        "learning-curve.png",
        "filters.png",
        "filters-fb.png",
        "vowels.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
        assert!(md.contains(f), "{f}");
    }
    let fb = asrpipe::train::Trained::load(&out.join("runs/fb-s1/model")).unwrap();
    let asrpipe::train::Model::Dnn(dnn) = &fb.model else {
        panic!("a DNN")
    };
    let filters = dnn.front_filters(512).unwrap().unwrap();
    assert_eq!(filters.weights.dim(), (12, 257));
    assert!(filters.weights.iter().all(|w| *w >= 0.0));
}

/// The shipped grids load, and every run of why-deep (sample and full TIMIT) has three seeds.
#[test]
fn shipped_grids_load_with_three_seeds() {
    for file in ["why-deep.yaml", "why-deep-timit-full.yaml"] {
        let exp = Experiment::load(&Path::new("pipelines").join(file)).unwrap();
        let plan = exp.plan().unwrap();
        let mut runs: Vec<&str> = plan.iter().map(|p| p.run.as_str()).collect();
        runs.dedup();
        for r in runs {
            let seeds: Vec<Option<u64>> =
                plan.iter().filter(|p| p.run == r).map(|p| p.seed).collect();
            assert_eq!(seeds, [Some(1), Some(2), Some(3)], "{file}: {r}");
        }
        for g in [Group::Wide, Group::CurveDeep, Group::CurveShallow] {
            assert!(plan.iter().any(|p| p.group == g), "{file}: {g:?}");
        }
    }
    let demo = Experiment::load(Path::new("pipelines/demo.yaml")).unwrap();
    assert!(demo.vowels.is_some() && demo.curve.is_some());
}
