//! `asrpipe experiment` and `asrpipe demo`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use asrpipe::corpus::Corpus;
use asrpipe::io::cache::FeatureCache;
use asrpipe::study::experiment::{self, Experiment};
use asrpipe::study::report;
use asrpipe::train::Env;

use super::Bars;

#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// Experiment YAML (e.g. pipelines/why-deep.yaml).
    experiment: PathBuf,
    /// Corpus directory or manifest (default: the embedded demo corpus).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Report directory (report.md, results.csv/json, figures, runs/).
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Report directory.
    #[arg(short, long, default_value = "reports/demo")]
    output: PathBuf,
    /// Corpus (default: the embedded demo corpus).
    #[arg(long)]
    corpus: Option<PathBuf>,
}

pub fn experiment(a: ExperimentArgs) -> Result<()> {
    let exp = Experiment::load(&a.experiment)?;
    run(&exp, a.corpus.as_deref(), &a.output)
}

pub fn demo(a: DemoArgs) -> Result<()> {
    // The demo grid and the pipelines it names live in the source tree's pipelines/.
    let local = Path::new("pipelines/demo.yaml");
    let path = if local.is_file() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/demo.yaml")
    };
    let exp = Experiment::load(&path)?;
    run(&exp, a.corpus.as_deref(), &a.output)
}

fn run(exp: &Experiment, corpus: Option<&Path>, out: &Path) -> Result<()> {
    let corpus = Corpus::open_or_demo(corpus)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let bars = Bars::default();
    let env = Env {
        corpus: &corpus,
        cache: Some(FeatureCache::default_location()),
        observer: &bars,
    };
    let rows = experiment::run_all(&env, exp, out, |msg| eprintln!("{msg}"))?;
    let extras = asrpipe::study::analyses::analyses(&env, exp, out, &rows)?;
    report::write(out, exp, &corpus.root.display().to_string(), &rows, &extras)?;
    super::emit(asrpipe::train::table(
        &rows.iter().map(|r| r.result.clone()).collect::<Vec<_>>(),
    ))?;
    eprintln!("report: {}", out.join("report.md").display());
    Ok(())
}
