//! `asrpipe decode`: phone recognition of any audio with a trained model; scored where the
//! corpus has transcripts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use asrpipe::train::decode::decode_utterances;

use super::ModelCorpusArgs;
use super::train::DecodeArgs;

#[derive(clap::Args)]
pub struct DecodeCmdArgs {
    #[command(flatten)]
    m: ModelCorpusArgs,
    /// Output directory: hyp.txt (`utt-id phone phone ...`, 48-set) and, for utterances with a
    /// transcript, per-utt.tsv and the PER in decode.json.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// What `decode.json` holds.
#[derive(serde::Serialize)]
struct Summary<'a> {
    utterances: usize,
    scored: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    per: Option<asrpipe::train::decode::PerSummary>,
    decode: &'a asrpipe::decode::DecodeConfig,
    seconds: f64,
}

pub fn run(a: DecodeCmdArgs) -> Result<()> {
    let patch = a
        .decode
        .patch(false)?
        .context("decoding flags are always applied")?;
    let trained = a.m.load_model()?;
    let mut cfg = trained.pipeline.hmm.decode.clone();
    patch.apply(&mut cfg);
    let session = a.m.data.open()?;
    let utts = a.m.split.utterances(&session.corpus);
    anyhow::ensure!(
        !utts.is_empty(),
        "no utterances in split `{}` of {}",
        a.m.split.name(),
        session.corpus.root.display()
    );
    let _lock = super::lock_output(&a.output)?;
    let d = decode_utterances(&session.env(), &trained, &utts, &cfg)?;
    let scored = d.utts.len() - d.unscored();
    let per = (scored > 0).then(|| d.summary()).transpose()?;
    d.write(&a.output)
        .and_then(|()| {
            asrpipe::io::json::write_json(
                &a.output.join("decode.json"),
                &Summary {
                    utterances: d.utts.len(),
                    scored,
                    per: per.clone(),
                    decode: &cfg,
                    seconds: d.seconds,
                },
            )
        })
        .with_context(|| format!("writing into {}", a.output.display()))?;
    eprintln!(
        "decoded {} utterances in {:.1} s -> {}",
        d.utts.len(),
        d.seconds,
        a.output.join("hyp.txt").display()
    );
    match per {
        Some(p) => eprintln!(
            "PER {:.2}% on the {scored} utterances with a transcript ({} reference phones, {} \
             substitutions, {} deletions, {} insertions){}",
            100.0 * p.per,
            p.ref_phones,
            p.substitutions,
            p.deletions,
            p.insertions,
            if d.unscored() > 0 {
                format!("; {} without a transcript, not scored", d.unscored())
            } else {
                String::new()
            }
        ),
        None => eprintln!("no transcripts: nothing scored (hyp.txt holds the recognised phones)"),
    }
    Ok(())
}
