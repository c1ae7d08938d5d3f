//! `asrpipe corpus info` and `asrpipe corpus labels`.

use std::path::PathBuf;

use anyhow::Result;
use asrpipe::corpus::split::SplitOptions;
use asrpipe::corpus::{Corpus, PhoneSet, corpus_info, utterance_labels};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Speakers, utterances, minutes, phones and frames per split.
    Info(InfoArgs),
    /// Frame-by-frame labels of one utterance (TSV).
    Labels(LabelsArgs),
}

#[derive(clap::Args)]
pub struct InfoArgs {
    /// Corpus directory or manifest (default: the embedded demo corpus).
    corpus: Option<PathBuf>,
    /// Pipeline whose framing counts the frames (default: Kaldi MFCC, 25 ms / 10 ms).
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
    /// Count the SA sentences in train/dev/test too.
    #[arg(long)]
    include_sa: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Run the command entries (`... |`) of a Kaldi data directory's wav.scp, with sh -c.
    #[arg(long)]
    allow_commands: bool,
}

#[derive(clap::Args)]
pub struct LabelsArgs {
    /// Corpus directory or manifest.
    corpus: PathBuf,
    /// Utterance id, e.g. dr1-fvmh0/sa1.
    utterance: String,
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Info(a) => {
            let corpus = match &a.corpus {
                Some(p) => Corpus::open_with(
                    p,
                    &super::open_options(
                        a.allow_commands,
                        &asrpipe::io::cache::FeatureCache::default_location(),
                    ),
                )?,
                None => Corpus::open_or_demo(None)?,
            };
            let pipeline = super::features::load_pipeline(a.pipeline.as_deref(), None)?;
            let framing = pipeline.frontend()?.framing;
            let opts = SplitOptions {
                include_sa: a.include_sa,
            };
            let info = corpus_info(&corpus, &framing.geometry, pipeline.sample_rate, &opts)?;
            if a.json {
                super::emit(format!("{}\n", serde_json::to_string_pretty(&info)?))?;
            } else {
                super::emit(&info)?;
            }
        }
        Command::Labels(a) => {
            let corpus = Corpus::open(&a.corpus)?;
            let utt = corpus.utterances_by_id(std::slice::from_ref(&a.utterance))?[0];
            let pipeline = super::features::load_pipeline(a.pipeline.as_deref(), None)?;
            let extractor = asrpipe::pipeline::extractor::Extractor::new(&pipeline)?;
            let wav = extractor.read_utterance(utt)?;
            let table = utterance_labels(
                utt,
                wav.samples.len() as u64,
                &extractor.frontend.framing.geometry,
                wav.sample_rate,
                PhoneSet::timit(),
            )?;
            super::emit(&table)?;
        }
    }
    Ok(())
}
