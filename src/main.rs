//! Command-line interface: parse, call the library, print. No logic lives here.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "asrpipe", version, about = "The speech-recognition production line, box by box")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> std::process::ExitCode {
    let _cli = Cli::parse();
    std::process::ExitCode::SUCCESS
}
