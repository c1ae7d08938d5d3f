//! One module per group of subcommands: argument structs and thin handlers.

pub mod corpus;
pub mod experiment;
pub mod features;
pub mod plot;
pub mod train;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr (hidden when stderr is not a terminal).
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

impl asrpipe::train::Observer for Bars {
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
