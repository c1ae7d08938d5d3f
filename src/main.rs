//! Command-line interface: parse, call the library, print. No logic lives here.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "asrpipe",
    version,
    about = "The speech-recognition production line, box by box: waveform -> DFT -> spectrogram -> mel -> log -> DCT -> GMM, and DNNs that replace any suffix"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compute features for audio files with a YAML pipeline.
    Features(cli::features::Args),
    /// List the stages with their options, defaults and help.
    Stages,
    /// Validate a pipeline file or an experiment file.
    Check(cli::features::CheckArgs),
    /// Train a classifier (GMM, or DNN from any cut of the chain) on a corpus's training split.
    Train(cli::train::TrainArgs),
    /// Score a classifier on the test split (training it first unless --model is given).
    Eval(cli::train::EvalArgs),
    /// Forced alignment of a corpus with a trained model: .phn, TextGrid, states, boundary agreement.
    Align(cli::align::AlignArgs),
    /// Phone recognition of any audio with a trained model: hyp.txt, scored where transcripts exist.
    Decode(cli::decode::DecodeCmdArgs),
    /// Hidden-layer activations of a DNN for some utterances.
    Activations(cli::plot::ActivationsArgs),
    /// Plots of what trained networks do inside.
    #[command(subcommand)]
    Plot(cli::plot::Command),
    /// Run a grid of experiments from YAML and write a report.
    Experiment(cli::experiment::ExperimentArgs),
    /// A small version of every experiment on the demo corpus (a few minutes).
    Demo(cli::experiment::DemoArgs),
    /// Inspect a corpus: summary and frame labels.
    #[command(subcommand)]
    Corpus(cli::corpus::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ctrl-C, SIGTERM, SIGHUP end the process without running destructors: remove the
    // temporary outputs and lock files first, so that an interrupted command leaves nothing.
    let _ = ctrlc::set_handler(|| {
        asrpipe::io::atomic::remove_temporaries();
        eprintln!("error: interrupted; nothing half-written was left");
        std::process::exit(130);
    });
    let result = match cli.command {
        Command::Features(a) => cli::features::run(a),
        Command::Stages => cli::features::stages(),
        Command::Check(a) => cli::features::check(a),
        Command::Corpus(c) => cli::corpus::run(c),
        Command::Train(a) => cli::train::train(a),
        Command::Eval(a) => cli::train::eval(a),
        Command::Align(a) => cli::align::run(a),
        Command::Decode(a) => cli::decode::run(a),
        Command::Activations(a) => cli::plot::activations(a),
        Command::Plot(c) => cli::plot::run(c),
        Command::Experiment(a) => cli::experiment::experiment(a),
        Command::Demo(a) => cli::experiment::demo(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `asrpipe stages | head` is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, each said once: an error that names its file usually
/// repeats its cause's text, which the chain would print again.
fn message(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg += ": ";
        }
        msg += &text;
    }
    msg.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}
