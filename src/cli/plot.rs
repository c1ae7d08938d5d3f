//! `asrpipe plot hidden|filters` and `asrpipe activations`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use asrpipe::io::export;
use asrpipe::study::filters;
use asrpipe::study::hidden::{self, HiddenOptions};
use asrpipe::train::{Model, Trained};

use super::CorpusArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Hidden layers of several speakers saying one sentence: t-SNE and PCA panels by speaker,
    /// and per layer speaker k-NN (other sentence), linear speaker probe and phone k-NN, each with
    /// its chance level, for the trained net and the same net at its random start.
    Hidden(Box<HiddenArgs>),
    /// First-layer weights of a DNN fed the spectrogram, beside the mel filter bank.
    Filters(FiltersArgs),
}

#[derive(clap::Args)]
pub struct HiddenArgs {
    /// Trained DNN model directory.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: CorpusArgs,
    /// Sentences said by several speakers (the `sentence` column, or the file stem in a directory
    /// of audio), comma-separated: the first is plotted, all are scored (speaker candidates come
    /// from the other sentences) [default: sa1,sa2 where the corpus has them, else the two said
    /// by the most speakers].
    #[arg(long, value_delimiter = ',')]
    sentences: Option<Vec<String>>,
    /// Layers to show, comma-separated (0 = the network's input) [default: 0,1,2,4].
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// Neighbours of the k-NN scores [default: 5].
    #[arg(long)]
    k: Option<usize>,
    /// Speaker k-NN candidates of any phone of the other sentences (default: the same phone).
    #[arg(long)]
    any_phone: bool,
    /// t-SNE perplexity [default: 30].
    #[arg(long)]
    perplexity: Option<f32>,
    /// Seed of the t-SNE maps [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Output stem: writes STEM-tsne.png/.svg and STEM-pca.png/.svg.
    #[arg(short, long, default_value = "hidden")]
    output: PathBuf,
}

impl HiddenArgs {
    /// The analysis settings: the flags given, the library's defaults for the rest.
    fn options(&self) -> HiddenOptions {
        let mut o = HiddenOptions {
            sentences: self.sentences.clone(),
            ..HiddenOptions::default()
        };
        if let Some(l) = &self.layers {
            o.layers = l.clone();
        }
        if let Some(k) = self.k {
            o.k = k;
        }
        if let Some(p) = self.perplexity {
            o.perplexity = p;
        }
        o.same_phone = !self.any_phone;
        if let Some(s) = self.seed {
            o.seed = s;
        }
        o
    }
}

#[derive(clap::Args)]
pub struct FiltersArgs {
    /// Trained DNN model directory (fed from `spectrogram`).
    #[arg(long)]
    model: PathBuf,
    /// Output image (.png or .svg).
    #[arg(short, long, default_value = "filters.png")]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct ActivationsArgs {
    /// Trained DNN model directory.
    #[arg(long)]
    model: PathBuf,
    /// Layer: 0 = the network's input, 1.. = hidden layers.
    #[arg(long)]
    layer: usize,
    #[command(flatten)]
    data: CorpusArgs,
    /// Utterance ids (e.g. dr1-fvmh0/sa1), looked up in --corpus (default: the embedded demo
    /// corpus). Output keys keep them as written where the format allows (npz, ark, csv).
    #[arg(required = true)]
    utterances: Vec<String>,
    /// Output (.npy for one utterance, .npz, a directory of .npy, .ark, .txt, .csv, or `-`;
    /// format from the extension).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Hidden(a) => {
            a.options().validate()?;
            let trained = Trained::load(&a.model)?;
            let session = a.data.open()?;
            let rep = hidden::hidden_layers(&session.env(), &trained, &a.options(), &a.output)?;
            let mut table = String::from(
                "network\tlayer\tunits\tspeaker_knn\tchance\tchance_sd\tspeaker_probe\tchance\tphone_knn\tchance\n",
            );
            let rows = [("trained", &rep.scores), ("random-start", &rep.control)];
            for (net, scores) in rows {
                for s in scores {
                    // No phone labels: the phone columns say `-`.
                    let (phone, chance) =
                        s.phone_knn.as_ref().map_or(("-".into(), "-".into()), |p| {
                            (format!("{:.4}", p.accuracy), format!("{:.4}", p.chance))
                        });
                    table.push_str(&format!(
                        "{net}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{phone}\t{chance}\n",
                        s.layer,
                        s.dim,
                        s.speaker_knn.accuracy,
                        s.speaker_knn.chance,
                        s.speaker_knn.chance_sd,
                        s.speaker_probe.accuracy,
                        s.speaker_probe.chance,
                    ));
                }
            }
            super::emit(table)?;
            eprintln!(
                "sentences: {} (the first plotted){}",
                rep.sentences.join(", "),
                if rep.unlabelled {
                    "; no phone alignment: every frame used, no phone measures"
                } else {
                    ""
                }
            );
            for f in &rep.figures {
                eprintln!("wrote {}", f.display());
            }
        }
        Command::Filters(a) => {
            let trained = Trained::load(&a.model)?;
            filters::first_layer_filters(&trained, &a.output)?;
            eprintln!("wrote {}", a.output.display());
        }
    }
    Ok(())
}

pub fn activations(a: ActivationsArgs) -> Result<()> {
    let trained = Trained::load(&a.model)?;
    let Model::Dnn(dnn) = &trained.model else {
        bail!(
            "{}: activations need a DNN model; this one is a GMM",
            a.model.display()
        );
    };
    let session = a.data.open()?;
    let corpus = &session.corpus;
    let extractor = trained.extractor()?;
    let utts = corpus.utterances_by_id(&a.utterances)?;
    let audio: Vec<PathBuf> = utts.iter().map(|u| u.audio.clone()).collect();
    let output = export::Output::plan(&a.output, None, &audio, utts.len(), false)?;
    let keys = export::unique_keys(output.format, &a.utterances, &audio)?;
    // CMVN pools over the sets the pipeline names in the corpus (a speaker's utterances there,
    // or the model's stored statistics), never over the utterances given here.
    let set = session.env().load("features", &utts, &extractor)?;
    let items = set
        .utts
        .iter()
        .zip(keys)
        .map(|(u, k)| Ok((k, dnn.activations(u.feats.view(), a.layer)?)))
        .collect::<asrpipe::Result<Vec<_>>>()?;
    output
        .write(&items)
        .with_context(|| format!("writing {}", a.output.display()))?;
    let (n, d) = items.first().map_or((0, 0), |(_, m)| m.dim());
    eprintln!(
        "layer {} of {}: {} utterance(s), first {n} x {d} -> {}",
        a.layer,
        a.model.display(),
        items.len(),
        a.output.display()
    );
    Ok(())
}
