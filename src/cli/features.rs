//! `asrpipe features`, `asrpipe stages`, `asrpipe check`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use asrpipe::audio::{self, Channel};
use asrpipe::corpus::Corpus;
use asrpipe::corpus::shard::Shard;
use asrpipe::frontend::StageKind;
use asrpipe::io::atomic;
use asrpipe::io::cache::FeatureCache;
use asrpipe::io::export::{self, Format};
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::pipeline::{self, Pipeline, StageConfig};
use asrpipe::study::experiment::Experiment;
use asrpipe::train::Env;
use ndarray::Array2;
use rayon::prelude::*;

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline YAML (default: the built-in Kaldi MFCC pipeline).
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
    /// Stop after this stage: waveform, dft, spectrogram, filterbank, log, dct (mfcc).
    #[arg(long, value_parser = parse_stage)]
    until: Option<StageKind>,
    /// Channel of multi-channel audio: a number from 0, `mean` (average of all channels) or
    /// `mono` (files must be mono); overrides the pipeline's `waveform: { channel }`.
    #[arg(long, value_parser = |s: &str| s.parse::<Channel>())]
    channel: Option<Channel>,
    /// Output format: npy (a directory), npz, ark, ark-text, csv (default: from the extension).
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Output path: a file (.npy for one input, .npz, .ark, .txt, .csv), a directory of .npy files
    /// (no extension), or `-` for standard output (ark, ark-text or csv).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing non-empty output directory.
    #[arg(long)]
    force: bool,
    /// Audio files (WAV, NIST SPHERE, FLAC); with --corpus, utterance ids (none: all of them).
    #[arg(required_unless_present_any = ["corpus", "list"], conflicts_with = "list")]
    inputs: Vec<PathBuf>,
    /// Read utterances of this corpus (directory, manifest, or directory of audio files): keys
    /// are utterance ids, and CMVN pools as the pipeline says over the corpus (a speaker's
    /// utterances, the training split), whichever utterances are asked for.
    #[arg(long, conflicts_with = "list")]
    corpus: Option<PathBuf>,
    /// A list of utterances instead of files: `<utterance> <path>` per line (a Kaldi wav.scp;
    /// paths as written, relative to the current directory). An utt2spk beside it gives the
    /// speakers (shards by speaker, speaker CMVN).
    #[arg(long)]
    list: Option<PathBuf>,
    /// Only shard K of N of the list (1-based, by the rule of Kaldi's split_data.sh: whole
    /// speakers when there is an utt2spk).
    #[arg(long, requires = "list")]
    shard: Option<Shard>,
    /// Run the list's command entries (`... |`) with sh -c.
    #[arg(long, requires = "list")]
    allow_commands: bool,
    /// Also write a Kaldi script file indexing the archive (`-o` must be a binary .ark file):
    /// `<utterance> <ark>:<offset>` lines, the ark path as given to -o.
    #[arg(long)]
    scp: Option<PathBuf>,
    #[command(flatten)]
    runtime: super::Runtime,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Pipeline or experiment YAML to validate (an experiment file: its grid, seeds, analyses
    /// and every pipeline its runs name).
    pipeline: PathBuf,
}

pub fn parse_stage(s: &str) -> Result<StageKind, String> {
    StageKind::parse(s).ok_or_else(|| {
        format!(
            "unknown stage `{s}` (stages: waveform, dft, spectrogram, filterbank, log, dct or mfcc)"
        )
    })
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown format `{s}` (formats: {})", Format::NAMES))
}

/// Output bytes above which a file's features are written as they are computed (one file at a
/// time, its chunks in parallel) rather than computed whole beside other files in parallel.
const STREAM_OUTPUT: f64 = (16 << 20) as f64;

/// Output bytes of the small files computed in parallel before they are written.
const BATCH_OUTPUT: f64 = (64 << 20) as f64;

/// How one input file is computed.
struct Plan {
    /// Frames, when its header says (and it streams).
    streamed: Option<usize>,
    /// Bytes of features it gives (0 when its header cannot be read).
    output: f64,
}

/// Plan each file from its header, and refuse, before any file is read, inputs whose features
/// need more memory than the limit: a file written as it is computed needs a chunk's worth
/// ([`Extractor::stream_memory`]), one computed whole its samples, frames and output
/// ([`Extractor::file_memory`]); small files are computed in parallel in batches whose outputs
/// are held until written.
fn plan_files(extractor: &Extractor, inputs: &[PathBuf]) -> Result<Vec<Plan>> {
    let (mut small_outputs, mut largest_small, mut largest_stream) = (0.0f64, 0.0f64, 0.0f64);
    let mut plans = Vec::with_capacity(inputs.len());
    for path in inputs {
        // A file that cannot be opened is refused by the reader, with its own message.
        let (Ok(info), Ok(meta)) = (audio::probe(path), std::fs::metadata(path)) else {
            plans.push(Plan {
                streamed: None,
                output: 0.0,
            });
            continue;
        };
        let frames = extractor.frames_of(&info);
        let output = 4.0 * frames as f64 * extractor.dim() as f64;
        let streams = extractor.stream_info(path).is_some() && output > STREAM_OUTPUT;
        let bytes = match streams {
            true => extractor.stream_memory(&info),
            false => extractor.file_memory(&info, meta.len()).0,
        };
        asrpipe::memory::check(
            &format!(
                "computing the features of {} ({} samples x {} channels: {frames} frames x \
                 {} dims)",
                path.display(),
                info.frames,
                info.channels,
                extractor.dim()
            ),
            bytes,
        )?;
        if streams {
            largest_stream = largest_stream.max(bytes);
        } else {
            small_outputs += output;
            largest_small = largest_small.max(bytes);
        }
        plans.push(Plan {
            streamed: streams.then_some(frames),
            output,
        });
    }
    let threads = rayon::current_num_threads().min(inputs.len()) as f64;
    asrpipe::memory::check(
        &format!("the features of {} files", inputs.len()),
        largest_stream.max(small_outputs.min(BATCH_OUTPUT) + threads * largest_small),
    )?;
    Ok(plans)
}

/// Compute the features of `inputs` and write them under `keys` as they are ready: long files
/// one at a time as they are read, runs of small ones in parallel; returns the frames.
fn write_files(
    extractor: &Extractor,
    inputs: &[PathBuf],
    keys: &[String],
    output: &export::Output,
    progress: &(dyn Fn() + Sync),
) -> Result<usize> {
    let plans = plan_files(extractor, inputs)?;
    let dim = extractor.dim();
    let mut frames = 0;
    output.write_with(&mut |sink| {
        let mut i = 0;
        while i < inputs.len() {
            if let Some(rows) = plans[i].streamed {
                sink.begin(&keys[i], rows, dim)?;
                frames += extractor.stream_file(&inputs[i], &mut |r| sink.rows(r))?;
                sink.end()?;
                progress();
                i += 1;
                continue;
            }
            let mut end = i + 1;
            let mut held = plans[i].output;
            while end < inputs.len() && plans[end].streamed.is_none() {
                held += plans[end].output;
                if held > BATCH_OUTPUT {
                    break;
                }
                end += 1;
            }
            let feats = inputs[i..end]
                .par_iter()
                .map(|p| {
                    let mut x = Vec::new();
                    extractor.stream_file(p, &mut |r| {
                        x.extend_from_slice(r);
                        Ok(())
                    })?;
                    progress();
                    Ok(x)
                })
                .collect::<asrpipe::Result<Vec<Vec<f32>>>>()?;
            for (key, x) in keys[i..end].iter().zip(feats) {
                sink.begin(key, x.len() / dim, dim)?;
                sink.rows(&x)?;
                sink.end()?;
                frames += x.len() / dim;
            }
            i = end;
        }
        Ok(())
    })?;
    Ok(frames)
}

/// The pipeline named on the command line, or the built-in default, cut at `until`.
pub fn load_pipeline(path: Option<&Path>, until: Option<StageKind>) -> Result<Pipeline> {
    let p = match path {
        Some(p) => Pipeline::load(p)?,
        None => Pipeline::kaldi_mfcc(),
    };
    Ok(match until {
        Some(k) => p.until(k)?,
        None => p,
    })
}

pub fn run(a: Args) -> Result<()> {
    a.runtime.start()?;
    let mut pipeline = load_pipeline(a.pipeline.as_deref(), a.until)?;
    if let (Some(c), Some(StageConfig::Waveform(framing))) =
        (a.channel, pipeline.stages.first_mut())
    {
        framing.channel = c;
    }
    let extractor = Extractor::new(&pipeline)?;
    // What a killed run left beside the output (its temporary files and directories).
    if a.output.as_os_str() != "-" {
        let dir = match a.output.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Some(m) = atomic::leftovers_line(dir, &atomic::remove_leftovers(dir, 0)) {
            eprintln!("{m}");
        }
    }
    let scp_check = |output: &export::Output| {
        anyhow::ensure!(
            a.scp.is_none() || (output.format == Format::Ark && a.output.as_os_str() != "-"),
            "--scp indexes a binary archive: give -o a .ark file (or --format ark)"
        );
        Ok(())
    };
    let (output, items) = match (&a.list, &a.corpus) {
        (Some(list), _) => {
            let output =
                export::Output::plan(&a.output, a.format, std::slice::from_ref(list), 0, a.force)?;
            scp_check(&output)?;
            let opts = super::open_options(a.allow_commands, &FeatureCache::default_location());
            let bar = a.runtime.bar(0, "features");
            let items =
                super::features_list::features(list, a.shard, &opts, &extractor, || bar.inc(1))?;
            bar.finish_and_clear();
            (output, items)
        }
        (None, Some(dir)) => corpus_items(&a, dir, &extractor, scp_check)?,
        (None, None) => {
            let output =
                export::Output::plan(&a.output, a.format, &a.inputs, a.inputs.len(), a.force)?;
            scp_check(&output)?;
            let keys = export::keys_for(&a.inputs)?;
            let keys = export::unique_keys(output.format, &keys, &a.inputs)?;
            if a.scp.is_none() {
                // Written as computed: a long recording is never held whole.
                let bar = a.runtime.bar(a.inputs.len() as u64, "features");
                let frames = write_files(&extractor, &a.inputs, &keys, &output, &|| bar.inc(1))?;
                bar.finish_and_clear();
                return summary(a.inputs.len(), frames, &extractor, &pipeline, &a.output);
            }
            // The script file needs each matrix's offset in the archive: computed whole.
            plan_files(&extractor, &a.inputs)?;
            let bar = a.runtime.bar(a.inputs.len() as u64, "features");
            let feats = extractor.files(&a.inputs, || bar.inc(1))?;
            bar.finish_and_clear();
            (output, keys.into_iter().zip(feats).collect())
        }
    };
    let frames: usize = items.iter().map(|(_, m)| m.nrows()).sum();
    match &a.scp {
        Some(scp) => asrpipe::io::scp::write_ark_scp(&a.output, scp, &items)?,
        None => output
            .write(&items)
            .with_context(|| format!("writing {}", a.output.display()))?,
    }
    summary(items.len(), frames, &extractor, &pipeline, &a.output)
}

/// The closing line: what was written where.
fn summary(
    utterances: usize,
    frames: usize,
    extractor: &Extractor,
    pipeline: &Pipeline,
    output: &Path,
) -> Result<()> {
    eprintln!(
        "{utterances} utterances, {frames} frames x {} dims ({} after `{}`) -> {}",
        extractor.dim(),
        pipeline.name,
        extractor.output_kind(),
        output.display()
    );
    Ok(())
}

/// Matrices with their output keys.
type Keyed = Vec<(String, Array2<f32>)>;

/// `--corpus`: the utterances named (all without ids), keyed by id, through the corpus's CMVN
/// sets and the feature cache.
fn corpus_items(
    a: &Args,
    dir: &Path,
    extractor: &Extractor,
    check: impl Fn(&export::Output) -> Result<()>,
) -> Result<(export::Output, Keyed)> {
    let corpus = Corpus::open(dir)?;
    let ids: Vec<String> = a
        .inputs
        .iter()
        .map(|p| p.to_string_lossy().into())
        .collect();
    let utts = if ids.is_empty() {
        corpus.utterances.iter().collect()
    } else {
        corpus.utterances_by_id(&ids)?
    };
    let ids: Vec<String> = utts.iter().map(|u| u.id.clone()).collect();
    let audio: Vec<PathBuf> = utts.iter().map(|u| u.audio.clone()).collect();
    let output = export::Output::plan(&a.output, a.format, &audio, utts.len(), a.force)?;
    check(&output)?;
    let keys = export::unique_keys(output.format, &ids, &audio)?;
    let observer = a.runtime.observer();
    let env = Env::new(&corpus)
        .cache(FeatureCache::default_location())
        .observer(observer.as_ref());
    let set = env.load("features", &utts, extractor)?;
    Ok((
        output,
        keys.into_iter()
            .zip(set.utts.into_iter().map(|u| u.feats))
            .collect(),
    ))
}

pub fn stages() -> Result<()> {
    let mut out = std::io::stdout().lock();
    for (kind, docs) in pipeline::stage_docs() {
        writeln!(out, "{kind}: {}", kind.summary())?;
        print_docs(&mut out, &docs)?;
    }
    writeln!(
        out,
        "\npost-processing (section `post:`, applied in this order):"
    )?;
    for (name, docs) in pipeline::post_docs() {
        writeln!(out, "{name}:")?;
        print_docs(&mut out, &docs)?;
    }
    writeln!(
        out,
        "\nphone HMMs (section `hmm:`; topology is trained with the model, decode and align are used by eval and align, sat by train --flat-start):"
    )?;
    for (name, docs) in pipeline::hmm::hmm_docs() {
        writeln!(out, "{name}:")?;
        print_docs(&mut out, &docs)?;
    }
    Ok(())
}

fn print_docs(out: &mut impl Write, docs: &[asrpipe::options::OptionDoc]) -> Result<()> {
    let width = docs
        .iter()
        .map(|d| d.name.len() + d.default.len())
        .max()
        .unwrap_or(0)
        + 3;
    for d in docs {
        let head = format!("{} = {}", d.name, d.default);
        writeln!(out, "    {head:<width$}  {}", d.help)?;
    }
    Ok(())
}

pub fn check(a: CheckArgs) -> Result<()> {
    if Experiment::is_experiment_file(&a.pipeline)? {
        let exp = Experiment::load(&a.pipeline)?;
        for line in exp.check()? {
            println!("{line}");
        }
        return Ok(());
    }
    let p = Pipeline::load(&a.pipeline)?;
    let kinds: Vec<&str> = p.kinds().iter().map(|k| k.name()).collect();
    let extractor = Extractor::new(&p)?;
    println!(
        "{}: ok — {} at {} Hz -> {} dims per frame",
        a.pipeline.display(),
        kinds.join(" -> "),
        p.sample_rate,
        extractor.dim()
    );
    if let Some(c) = p.describe_classifier()? {
        println!("  classifier: {c}");
    }
    let cmvn = p.post.cmvn.mode;
    println!(
        "  cmvn: {} — {}",
        format!("{cmvn:?}").to_lowercase(),
        cmvn.scope()
    );
    println!("  hmm: {}", p.describe_hmm());
    Ok(())
}
