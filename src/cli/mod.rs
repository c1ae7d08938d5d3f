//! One module per group of subcommands: argument structs and thin handlers.

pub mod align;
pub mod corpus;
pub mod decode;
pub mod experiment;
pub mod features;
pub mod features_list;
pub mod plot;
pub mod train;

use std::path::PathBuf;

use anyhow::{Context, Result};
use asrpipe::corpus::{Corpus, OpenOptions, Split, SplitOptions, Splits, Utterance};
use asrpipe::io::cache::FeatureCache;
use asrpipe::io::lock::DirLock;
use asrpipe::train::{Env, Observer, Quiet, Trained};
use indicatif::{ProgressBar, ProgressStyle};

/// How a command runs: threads and progress output. Every command that works takes these.
#[derive(clap::Args, Debug, Clone)]
pub struct Runtime {
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bars (errors and results are still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Most memory the command may plan to take, e.g. `8G` (default: $ASRPIPE_MAX_MEMORY, else
    /// 80% of the machine's memory). Larger requests are refused before any work.
    #[arg(long, value_parser = |s: &str| asrpipe::memory::parse_size(s))]
    max_memory: Option<u64>,
}

impl Runtime {
    /// Size the thread pool once, before any work.
    pub fn start(&self) -> Result<()> {
        match self.max_memory {
            Some(b) => asrpipe::memory::set_limit(b, "--max-memory"),
            // An unreadable $ASRPIPE_MAX_MEMORY is reported now, not half-way through.
            None => drop(asrpipe::memory::limit()?),
        }
        if let Some(n) = self.threads {
            // Far more threads than cores only costs memory; 100000 would not even start.
            anyhow::ensure!(
                (1..=1024).contains(&n),
                "--threads must be between 1 and 1024, got {n}"
            );
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .context("setting up the worker threads")?;
        }
        Ok(())
    }

    /// One progress bar, hidden with --quiet.
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        if self.quiet {
            ProgressBar::hidden()
        } else {
            progress(len, what)
        }
    }

    /// Progress bars on stderr, or nothing with --quiet.
    pub fn observer(&self) -> Box<dyn Observer> {
        if self.quiet {
            Box::new(Quiet)
        } else {
            Box::new(Bars::default())
        }
    }
}

/// The arguments every command that reads a corpus shares.
#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    /// Corpus directory or manifest (default: the embedded demo corpus).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Feature cache directory (default: $ASRPIPE_CACHE or .cache/asrpipe).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Run the command entries (`... |`) of a Kaldi data directory's wav.scp, with sh -c; their
    /// audio is kept under the cache directory.
    #[arg(long)]
    pub allow_commands: bool,
    /// Speed perturbation, off by default: add copies of every training utterance played at
    /// these speeds (Kaldi's recipe: 0.9,1.0,1.1; 1.0 is the original) as pseudo-speakers
    /// `sp0.9-SPK`, with their labels scaled.
    #[arg(long, value_parser = |s: &str| asrpipe::corpus::perturb::parse_speeds(s))]
    pub speed_perturb: Option<std::vec::Vec<u32>>,
    #[command(flatten)]
    pub runtime: Runtime,
}

/// Which utterances of a corpus a command works on.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every utterance of the corpus, SA sentences included.
    All,
    /// The training speakers.
    Train,
    /// The dev speakers.
    Dev,
    /// The test speakers.
    Test,
}

impl Which {
    /// The name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Which::All => "all",
            Which::Train => "train",
            Which::Dev => "dev",
            Which::Test => "test",
        }
    }

    /// The utterances of `corpus` it selects, in corpus order (a split follows
    /// [`Splits::for_corpus`]).
    pub fn utterances(self, corpus: &Corpus) -> Vec<&Utterance> {
        let split = match self {
            Which::All => return corpus.utterances.iter().collect(),
            Which::Train => Split::Train,
            Which::Dev => Split::Dev,
            Which::Test => Split::Test,
        };
        Splits::for_corpus(corpus).utterances(corpus, split, &SplitOptions::default())
    }
}

/// The arguments of the commands that run a trained model's HMMs over a corpus (`align`,
/// `decode`): the model, the corpus and which of its utterances.
#[derive(clap::Args)]
pub struct ModelCorpusArgs {
    /// Trained model directory (with hmm.json and lm.json).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: CorpusArgs,
    /// Which utterances (default: every utterance of the corpus, SA included).
    #[arg(long, value_enum, default_value_t = Which::All)]
    pub split: Which,
}

impl ModelCorpusArgs {
    /// The trained model, refused without its HMMs (hmm.json).
    pub fn load_model(&self) -> Result<Trained> {
        let trained = Trained::load(&self.model)?;
        trained.hmm()?;
        Ok(trained)
    }
}

/// How to open a corpus: commands allowed or not, their output kept under `cache`.
pub fn open_options(allow_commands: bool, cache: &FeatureCache) -> OpenOptions {
    OpenOptions {
        command_output: allow_commands.then(|| cache.dir().join("wav-commands")),
    }
}

/// What a corpus command works with: the opened corpus, the cache, the progress output.
pub struct Session {
    pub corpus: Corpus,
    cache: FeatureCache,
    observer: Box<dyn Observer>,
}

impl CorpusArgs {
    /// Start the runtime and open the corpus.
    pub fn open(&self) -> Result<Session> {
        self.runtime.start()?;
        let cache = self
            .cache
            .as_ref()
            .map_or_else(FeatureCache::default_location, FeatureCache::new);
        let corpus = match &self.corpus {
            Some(p) => Corpus::open_with(p, &open_options(self.allow_commands, &cache))?,
            None => Corpus::open_or_demo(None)?,
        };
        let corpus = match &self.speed_perturb {
            Some(speeds) => asrpipe::corpus::perturb::speed_perturb(&corpus, speeds)?,
            None => corpus,
        };
        Ok(Session {
            corpus,
            cache,
            observer: self.runtime.observer(),
        })
    }
}

impl Session {
    /// The library's view of it.
    pub fn env(&self) -> Env<'_> {
        Env::new(&self.corpus)
            .cache(self.cache.clone())
            .observer(self.observer.as_ref())
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
/// Lock the output directory `dir` ([`DirLock::take`]), saying in one line what a killed earlier
/// run left there and taking the lock removed.
pub fn lock_output(dir: &std::path::Path) -> asrpipe::Result<DirLock> {
    let lock = DirLock::take(dir)?;
    if let Some(m) = lock.cleaned() {
        eprintln!("{m}");
    }
    Ok(lock)
}

pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Write `text` to stdout; unlike `print!`, a closed pipe is an error the caller can pass up
/// (and `main` treats as success) rather than a panic.
pub fn emit(text: impl std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")?;
    out.flush()
}

/// Progress bars for the library's [`asrpipe::train::Observer`]: one bar per phase, status lines
/// (EM iterations, epochs) kept above it.
#[derive(Default)]
pub struct Bars {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Observer for Bars {
    fn begin(&self, what: &str, total: u64) {
        let bar = if total == 0 {
            let b = ProgressBar::new_spinner();
            b.set_message(what.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        } else {
            progress(total, what)
        };
        *self.bar.lock().expect("not poisoned") = Some(bar);
    }

    fn step(&self, msg: Option<String>) {
        if let Some(b) = self.bar.lock().expect("not poisoned").as_ref() {
            b.inc(1);
            if let Some(m) = msg {
                b.println(format!("  {m}"));
            }
        }
    }

    fn end(&self) {
        if let Some(b) = self.bar.lock().expect("not poisoned").take() {
            b.finish_and_clear();
        }
    }
}
