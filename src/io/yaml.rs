//! Reading the small hand-written YAML files (pipelines, experiments) with serde-saphyr: bounded
//! parser work, and errors on one line with the file and line.

use std::path::Path;

use crate::error::{Error, Result};

/// Largest hand-written file read whole (pipelines, experiments, tying maps, question sets): far
/// above any real one, and a bound on what `/dev/zero` or a mistaken path can make us allocate.
pub const MAX_TEXT_FILE: u64 = 16 << 20;

/// Read a small text file whole: it must be a regular file of at most [`MAX_TEXT_FILE`] bytes.
pub fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::format(path, "is not a regular file"));
    }
    let mut text = String::new();
    file.take(MAX_TEXT_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_TEXT_FILE {
        return Err(Error::format(
            path,
            format!(
                "larger than {} MiB: too large for a hand-written text file",
                MAX_TEXT_FILE >> 20
            ),
        ));
    }
    Ok(text)
}

/// Parser limits for the small hand-written YAML files (pipelines, experiments): far above what
/// such a file holds, far below what lets an alias bomb or a list of 40 000 stages cost seconds.
pub fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 100_000;
    budget.max_aliases = 1_000;
    budget.max_nodes = 50_000;
    budget.max_depth = 32;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 10_000;
    options
}

/// A YAML parse error as one line naming the file and line. The crate's message also draws a
/// snippet of the source over several lines; the line number says the same in one.
pub fn error(e: &serde_saphyr::Error, path: &Path) -> Error {
    let loc = e.location();
    let line = loc.as_ref().map_or(0, |l| l.line() as usize);
    let mut msg = e
        .without_snippet()
        .to_string()
        .replace("<input>", &path.display().to_string());
    msg = msg.trim_start_matches("error: ").to_string();
    if let Some(l) = loc {
        msg = msg.replacen(&format!("line {} column {}: ", l.line(), l.column()), "", 1);
        msg = msg.replacen(
            &format!(" at line {}, column {}", l.line(), l.column()),
            "",
            1,
        );
    }
    // Whatever else spans lines, the user sees one.
    let msg = msg.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    Error::at_line(path, line, msg)
}
