//! How much memory a command may take, checked before the big allocations are made: a request
//! that cannot fit is refused with its figure and the limit, instead of dying half-way with
//! "memory allocation of N bytes failed" (an abort, exit 134, no message naming the option).
//!
//! The limit is, in order: what the command line set ([`set_limit`], `--max-memory`), the
//! environment variable `ASRPIPE_MAX_MEMORY`, else 80 % of the machine's memory (the smaller of
//! `MemTotal` in `/proc/meminfo` and a cgroup v2 `memory.max`), else 16 GiB where neither can be
//! read. Total memory rather than what is free at the moment: the same command on the same
//! machine is then accepted or refused the same way every time; 80 % leaves room for the system
//! and for estimates that are a little low.
//!
//! Sizes are written as a number of bytes with an optional binary unit: `512M`, `16G`, `1.5TiB`.

use std::fmt;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The environment variable that sets the limit.
pub const ENV: &str = "ASRPIPE_MAX_MEMORY";

/// Fraction of the machine's memory taken as the default limit.
const DEFAULT_FRACTION: f64 = 0.8;

/// The limit where the machine's memory cannot be read.
const FALLBACK: u64 = 16 << 30;

/// A memory limit and where it came from (said in errors, so the user knows what to change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Bytes.
    pub bytes: u64,
    /// `--max-memory`, `ASRPIPE_MAX_MEMORY`, or how the default was found.
    pub source: String,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", human(self.bytes as f64), self.source)
    }
}

static SET: OnceLock<Limit> = OnceLock::new();

/// Set the limit for this process (the command line's `--max-memory`); the first call wins.
pub fn set_limit(bytes: u64, source: &str) {
    let _ = SET.set(Limit {
        bytes,
        source: source.to_string(),
    });
}

/// The limit in force: [`set_limit`], else `ASRPIPE_MAX_MEMORY`, else the machine's default.
/// An unreadable `ASRPIPE_MAX_MEMORY` is an error, not a silent default.
pub fn limit() -> Result<Limit> {
    if let Some(l) = SET.get() {
        return Ok(l.clone());
    }
    if let Some(v) = std::env::var_os(ENV) {
        let v = v.to_string_lossy();
        let bytes = parse_size(&v).map_err(|e| Error::invalid(format!("{ENV}: {e}")))?;
        return Ok(Limit {
            bytes,
            source: ENV.to_string(),
        });
    }
    Ok(default_limit())
}

/// 80 % of the machine's (or the cgroup's) memory, or 16 GiB when it cannot be read.
pub fn default_limit() -> Limit {
    static DEFAULT: OnceLock<Limit> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let total = meminfo_total();
            let cgroup = cgroup_max();
            let (bytes, what) = match (total, cgroup) {
                (Some(t), Some(c)) if c < t => (c, "the cgroup's memory.max"),
                (Some(t), _) => (t, "RAM"),
                (None, Some(c)) => (c, "the cgroup's memory.max"),
                (None, None) => {
                    return Limit {
                        bytes: FALLBACK,
                        source: format!(
                            "default: the machine's memory is unknown; set --max-memory or {ENV}"
                        ),
                    };
                }
            };
            Limit {
                bytes: (bytes as f64 * DEFAULT_FRACTION) as u64,
                source: format!(
                    "default: 80% of the {} of {what}; set --max-memory or {ENV}",
                    human(bytes as f64)
                ),
            }
        })
        .clone()
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

fn cgroup_max() -> Option<u64> {
    let text = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
    text.trim().parse().ok()
}

/// Refuse `what` when it needs more than the limit: `needs` bytes (an estimate; `f64` so that
/// absurd requests do not overflow on the way to the comparison).
pub fn check(what: &str, needs: f64) -> Result<()> {
    check_against(what, needs, &limit()?)
}

/// [`check`] against a given limit.
pub fn check_against(what: &str, needs: f64, limit: &Limit) -> Result<()> {
    if needs > limit.bytes as f64 {
        return Err(Error::invalid(format!(
            "{what} needs about {} of memory, more than the limit of {limit}",
            human(needs)
        )));
    }
    Ok(())
}

/// `1.5 GiB`, `312.0 MiB`, `900 B`.
pub fn human(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"];
    if !bytes.is_finite() {
        return "an unbounded amount".to_string();
    }
    if bytes < 1024.0 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A size: bytes, or a number with a binary unit `K`, `M`, `G`, `T` (also `KiB`, `MB`, ...:
/// powers of 1024 either way), any letter case. Zero is refused.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let bad = || {
        format!(
            "size `{text}`: expected a number of bytes or a number with K, M, G or T (e.g. 16G)"
        )
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("size `{text}` must be at least one byte"));
    }
    if bytes >= u64::MAX as f64 {
        return Err(format!("size `{text}` is too large"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("16G"), Ok(16 << 30));
        assert_eq!(parse_size("16GiB"), Ok(16 << 30));
        assert_eq!(parse_size(" 512 mb "), Ok(512 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        for bad in ["", "G", "-1G", "0", "1.5x", "nan", "1e30T", "0.1"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(900.0), "900 B");
        assert_eq!(human(1536.0), "1.5 KiB");
        assert_eq!(human((3u64 << 30) as f64), "3.0 GiB");
        assert_eq!(human(f64::INFINITY), "an unbounded amount");
    }
}
