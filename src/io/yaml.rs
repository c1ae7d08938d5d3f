//! Reading the small hand-written YAML files (pipelines, experiments) with serde-saphyr: bounded
//! parser work, and errors on one line with the file and line.

use std::path::Path;

use crate::error::Error;

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
