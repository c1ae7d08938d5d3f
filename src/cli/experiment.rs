//! `asrpipe experiment` and `asrpipe demo`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use asrpipe::study::analyses::analyses;
use asrpipe::study::experiment::{self, Experiment};
use asrpipe::study::report;

use super::CorpusArgs;

#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// Experiment YAML (e.g. pipelines/why-deep.yaml).
    experiment: PathBuf,
    #[command(flatten)]
    data: CorpusArgs,
    /// Report directory (report.md, results.csv/json, figures, runs/).
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Report directory.
    #[arg(short, long, default_value = "reports/demo")]
    output: PathBuf,
    #[command(flatten)]
    data: CorpusArgs,
}

pub fn experiment(a: ExperimentArgs) -> Result<()> {
    let exp = Experiment::load(&a.experiment)?;
    run(&exp, &a.data, &a.output)
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
    run(&exp, &a.data, &a.output)
}

fn run(exp: &Experiment, data: &CorpusArgs, out: &Path) -> Result<()> {
    // Taken first: a second writer, or a directory that cannot be written, is refused at once.
    let _lock = super::lock_output(out)?;
    let session = data.open()?;
    let env = session.env();
    let rows = experiment::run_all(&env, exp, out, |msg| eprintln!("{msg}"))?;
    let extras = analyses(&env, exp, out, &rows)?;
    report::write(out, exp, &session.corpus, &rows, &extras)?;
    super::emit(asrpipe::train::table(
        &rows.iter().map(|r| r.result.clone()).collect::<Vec<_>>(),
    ))?;
    eprintln!("report: {}", out.join("report.md").display());
    Ok(())
}
