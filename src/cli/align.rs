//! `asrpipe align`: forced alignment of a corpus with a trained model.

use std::path::PathBuf;

use anyhow::{Context, Result};
use asrpipe::train::align::{align_corpus, plot_alignment};

use super::ModelCorpusArgs;

#[derive(clap::Args)]
pub struct AlignArgs {
    #[command(flatten)]
    m: ModelCorpusArgs,
    /// Output directory: per utterance .phn, .TextGrid and .states, and alignment.json.
    #[arg(short, long)]
    output: PathBuf,
    /// Also draw these utterances (ids, comma-separated): spectrogram with hand and automatic
    /// boundaries, `<OUTPUT>/<id>.png`.
    #[arg(long, value_delimiter = ',')]
    plot: Vec<String>,
}

pub fn run(a: AlignArgs) -> Result<()> {
    let trained = a.m.load_model()?;
    let session = a.m.data.open()?;
    let env = session.env();
    let utts = a.m.split.utterances(&session.corpus);
    anyhow::ensure!(
        !utts.is_empty(),
        "no utterances in split `{}`",
        a.m.split.name()
    );
    // The figures' utterances checked before any work: known, and among those aligned.
    let plotted = session.corpus.utterances_by_id(&a.plot).context("--plot")?;
    for u in &plotted {
        anyhow::ensure!(
            utts.iter().any(|v| v.id == u.id),
            "--plot {}: not among the {} utterances of split `{}` (`--split all` aligns every \
             utterance)",
            u.id,
            utts.len(),
            a.m.split.name()
        );
    }
    let s = align_corpus(
        &env,
        &trained,
        &utts,
        &trained.pipeline.hmm.align,
        &a.output,
    )
    .with_context(|| format!("aligning into {}", a.output.display()))?;
    eprintln!(
        "aligned {} of {} utterances ({} with the retry beam) in {:.1} s -> {}",
        s.aligned,
        s.utterances,
        s.retried,
        s.seconds,
        a.output.display()
    );
    if !s.skipped.is_empty() {
        eprintln!("skipped {}:", s.skipped.len());
        for k in &s.skipped {
            eprintln!("  {}: {}", k.utterance, k.reason);
        }
    }
    for utt in plotted {
        let id = &utt.id;
        let png = a.output.join(format!("{id}.png"));
        plot_alignment(utt, &a.output.join(format!("{id}.phn")), &png)
            .with_context(|| format!("plotting {id} (was it aligned?)"))?;
        eprintln!("figure: {}", png.display());
    }
    match &s.boundaries {
        Some(b) => eprintln!(
            "boundaries vs hand labels: {} compared ({} skipped: q or gaps); within 10/20/40 ms: \
             {:.1}% / {:.1}% / {:.1}%; mean {:.1} ms, median {:.1} ms",
            b.boundaries,
            b.skipped,
            b.within_10ms,
            b.within_20ms,
            b.within_40ms,
            b.mean_abs_ms,
            b.median_abs_ms
        ),
        None => eprintln!("no boundaries to compare with hand labels"),
    }
    Ok(())
}
