//! Kaldi script files over binary archives: `feats.ark` with a `feats.scp` beside it whose lines
//! are `<key> <ark path>:<byte offset>`, as `copy-feats ark:- ark,scp:feats.ark,feats.scp` writes
//! them. The offset points just past `<key> ` at the binary marker (`\0B`), where Kaldi's
//! `scp:` readers (and kaldiio) seek to.
//!
//! The ark path is written as given, as Kaldi writes it: a relative one is resolved against the
//! current directory when the scp is read, so give an absolute path for files read elsewhere.
//! Script files concatenate: shards' `feats.scp` files `cat`ed together index every shard's
//! archive.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::io::atomic;

/// Write one matrix as a Kaldi binary archive entry (`<key> \0BFM <rows> <cols> <floats>`);
/// the offset of its binary marker from the start of the entry.
pub fn write_entry(w: &mut dyn Write, key: &str, m: &Array2<f32>) -> std::io::Result<u64> {
    write!(w, "{key} \0BFM ")?;
    for n in [m.nrows(), m.ncols()] {
        w.write_all(&[4])?;
        w.write_all(&(n as i32).to_le_bytes())?;
    }
    for v in m.iter() {
        w.write_all(&v.to_le_bytes())?;
    }
    Ok(key.len() as u64 + 1)
}

/// Bytes [`write_entry`] writes for `key` and an `r` x `c` matrix.
fn entry_len(key: &str, r: usize, c: usize) -> u64 {
    key.len() as u64 + 1 + 2 + 3 + 10 + 4 * (r * c) as u64
}

/// Write `items` to the archive `ark` and the script file `scp` indexing it (both atomically,
/// the archive first). Keys must be non-empty and free of white space.
pub fn write_ark_scp(ark: &Path, scp: &Path, items: &[(String, Array2<f32>)]) -> Result<()> {
    if let Some((k, _)) = items
        .iter()
        .find(|(k, _)| k.is_empty() || k.contains(char::is_whitespace))
    {
        return Err(Error::invalid(format!(
            "`{k}` cannot be a Kaldi archive key: keys are non-empty and have no white space"
        )));
    }
    atomic::write_file(ark, |w| {
        for (k, m) in items {
            write_entry(w, k, m)?;
        }
        Ok(())
    })?;
    let mut text = String::new();
    let mut offset = 0u64;
    for (k, m) in items {
        text += &format!("{k} {}:{}\n", ark.display(), offset + k.len() as u64 + 1);
        offset += entry_len(k, m.nrows(), m.ncols());
    }
    atomic::write_bytes(scp, text.as_bytes())
}

/// One line of a script file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpEntry {
    /// The utterance key.
    pub key: String,
    /// The archive, as written in the line.
    pub ark: PathBuf,
    /// Byte offset of the entry's binary marker in the archive.
    pub offset: u64,
    /// 1-based line in the script file.
    pub line: usize,
}

/// Read a script file of `<key> <ark>:<offset>` lines. Blank lines are skipped; a key given twice,
/// a line without an offset, or one naming a pipe or range is an error naming the line.
pub fn read_scp(path: &Path) -> Result<Vec<ScpEntry>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let at = |msg: String| Error::at_line(path, line, msg);
        let (key, target) = raw
            .split_once(char::is_whitespace)
            .ok_or_else(|| at(format!("`{raw}`: expected `<key> <ark>:<offset>`")))?;
        let target = target.trim();
        if target.ends_with('|') || target.ends_with(']') {
            return Err(at(format!(
                "`{target}`: only `<ark>:<offset>` entries are read (no pipes, no row ranges)"
            )));
        }
        let (ark, offset) = target
            .rsplit_once(':')
            .and_then(|(a, o)| Some((a, o.parse::<u64>().ok()?)))
            .ok_or_else(|| at(format!("`{target}`: expected `<ark>:<byte offset>`")))?;
        if let Some(prev) = seen.insert(key.to_string(), line) {
            return Err(at(format!("`{key}` was already given on line {prev}")));
        }
        out.push(ScpEntry {
            key: key.to_string(),
            ark: PathBuf::from(ark),
            offset,
            line,
        });
    }
    Ok(out)
}

/// Reads the matrices a script file points to, keeping each archive open.
#[derive(Debug)]
pub struct ScpReader {
    scp: PathBuf,
    open: Option<(PathBuf, File, u64)>,
}

impl ScpReader {
    /// A reader for entries of the script file `scp` (named in errors).
    pub fn new(scp: &Path) -> ScpReader {
        ScpReader {
            scp: scp.to_path_buf(),
            open: None,
        }
    }

    /// The matrix `e` points to: Kaldi binary float (`FM`) or double (`DM`) matrices. An offset
    /// past the archive's end, a truncated matrix, or another kind of object is an error naming
    /// the script file's line and the archive.
    pub fn read(&mut self, e: &ScpEntry) -> Result<Array2<f32>> {
        let scp = self.scp.clone();
        let at = |msg: String| {
            Error::at_line(
                &scp,
                e.line,
                format!("`{}` -> {}:{}: {msg}", e.key, e.ark.display(), e.offset),
            )
        };
        if self.open.as_ref().is_none_or(|(p, _, _)| *p != e.ark) {
            let f =
                File::open(&e.ark).map_err(|err| at(format!("cannot open the archive: {err}")))?;
            let len = f
                .metadata()
                .map_err(|err| at(format!("cannot read the archive: {err}")))?
                .len();
            self.open = Some((e.ark.clone(), f, len));
        }
        let (_, file, len) = self.open.as_mut().expect("opened above");
        let len = *len;
        if e.offset >= len {
            return Err(at(format!(
                "the archive has only {len} bytes (truncated, or not the archive this scp was \
                 written with)"
            )));
        }
        file.seek(SeekFrom::Start(e.offset))
            .map_err(|err| at(err.to_string()))?;
        let mut head = [0u8; 15];
        let truncated = |need: u64| {
            at(format!(
                "truncated archive: the matrix needs {need} bytes from here but the archive \
                 ends {} bytes after the offset",
                len - e.offset
            ))
        };
        if len - e.offset < head.len() as u64 {
            return Err(truncated(head.len() as u64));
        }
        file.read_exact(&mut head)
            .map_err(|err| at(err.to_string()))?;
        let width = match &head[..5] {
            b"\0BFM " => 4,
            b"\0BDM " => 8,
            b"\0BCM " | b"\0BCM2" | b"\0BCM3" => {
                return Err(at(
                    "a compressed matrix: write it uncompressed (copy-feats --compress=false)"
                        .into(),
                ));
            }
            other => {
                return Err(at(format!(
                    "not a Kaldi binary matrix (starts with {:?}); expected `\\0BFM `",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        let dim = |b: &[u8]| -> Result<usize> {
            if b[0] != 4 {
                return Err(at(format!("bad dimension size byte {}", b[0])));
            }
            let v = i32::from_le_bytes(b[1..5].try_into().expect("4 bytes"));
            usize::try_from(v).map_err(|_| at(format!("negative dimension {v}")))
        };
        let (rows, cols) = (dim(&head[5..10])?, dim(&head[10..15])?);
        let need = (rows as u64)
            .checked_mul(cols as u64)
            .and_then(|n| n.checked_mul(width))
            .unwrap_or(u64::MAX);
        if need > len - e.offset - head.len() as u64 {
            return Err(truncated(need.saturating_add(head.len() as u64)));
        }
        let mut bytes = vec![0u8; need as usize];
        file.read_exact(&mut bytes)
            .map_err(|err| at(err.to_string()))?;
        let data: Vec<f32> = if width == 4 {
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect()
        } else {
            bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect()
        };
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(at(format!(
                "value {} at row {}, column {} is not finite",
                data[i],
                i / cols.max(1),
                i % cols.max(1)
            )));
        }
        Array2::from_shape_vec((rows, cols), data).map_err(|err| at(err.to_string()))
    }
}

/// Every matrix of the script file `scp`, in its order.
pub fn read_scp_matrices(scp: &Path) -> Result<Vec<(String, Array2<f32>)>> {
    let entries = read_scp(scp)?;
    let mut reader = ScpReader::new(scp);
    entries
        .into_iter()
        .map(|e| Ok((e.key.clone(), reader.read(&e)?)))
        .collect()
}
