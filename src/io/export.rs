//! Writing feature matrices: NumPy (.npy per utterance, or one .npz), Kaldi archives (binary or
//! text .ark, readable by copy-feats), or CSV. Every output is written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::{NpzWriter, WriteNpyExt};

use crate::error::{Error, Result};
use crate::io::atomic;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A directory with one `<key>.npy` per utterance.
    NpyDir,
    /// One `.npy` file: a single utterance's matrix.
    Npy,
    /// One NumPy `.npz` archive, an array per utterance named by its key.
    Npz,
    /// Kaldi binary archive.
    Ark,
    /// Kaldi text archive.
    ArkText,
    /// `utterance,frame,c0,c1,...` rows with a header.
    Csv,
}

impl Format {
    /// The names `--format` takes.
    pub const NAMES: &'static str = "npy, npz, ark, ark-text, csv";

    /// A `--format` name; `npy` is a directory of files, or one file for a `.npy` path.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "npy" => Format::NpyDir,
            "npz" => Format::Npz,
            "ark" => Format::Ark,
            "ark-text" | "txt" => Format::ArkText,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    /// From the output path's extension (any letter case): .npy (one file), .npz, .ark, .txt,
    /// .csv; no extension is a directory of .npy files; any other extension is refused.
    pub fn from_path(path: &Path) -> Result<Format> {
        let Some(ext) = path.extension() else {
            return Ok(Format::NpyDir);
        };
        Ok(match ext.to_string_lossy().to_ascii_lowercase().as_str() {
            "npy" => Format::Npy,
            "npz" => Format::Npz,
            "ark" => Format::Ark,
            "txt" => Format::ArkText,
            "csv" => Format::Csv,
            other => {
                return Err(Error::format(
                    path,
                    format!(
                        "unknown output extension `.{other}`: use .npy, .npz, .ark, .txt (Kaldi \
                         text), .csv, no extension for a directory of .npy files, or --format"
                    ),
                ));
            }
        })
    }

    /// Whether the format can go to standard output (a stream, not a directory or a zip).
    fn streams(self) -> bool {
        matches!(self, Format::Ark | Format::ArkText | Format::Csv)
    }
}

/// Where features go: a path, or standard output (`-o -`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file, or a directory for [`Format::NpyDir`].
    Path(PathBuf),
    /// Standard output (Kaldi's `ark:-`).
    Stdout,
}

/// A checked output: decided before any feature is computed, so that a bad one costs nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Where.
    pub target: Target,
    /// How.
    pub format: Format,
    /// Replace an existing non-empty npy directory.
    pub force: bool,
}

impl Output {
    /// Check writing `count` matrices computed from `inputs` to `path` (`-`: standard output) in
    /// `format` (default: from the extension; Kaldi binary archive for standard output). Refused:
    /// an output that is one of the inputs, a .npy file for several matrices, npy or npz to
    /// standard output, an existing non-empty directory of npy files without `force`, a
    /// directory where a file goes.
    pub fn plan(
        path: &Path,
        format: Option<Format>,
        inputs: &[PathBuf],
        count: usize,
        force: bool,
    ) -> Result<Output> {
        if path.as_os_str() == "-" {
            let format = format.unwrap_or(Format::Ark);
            if !format.streams() {
                return Err(Error::format(
                    path,
                    "npy and npz cannot go to standard output: write ark, ark-text or csv there \
                     (--format), or give a file name",
                ));
            }
            return Ok(Output {
                target: Target::Stdout,
                format,
                force,
            });
        }
        let mut format = match format {
            // An extension that names another format would mislead whoever opens the file.
            Some(f) => match Format::from_path(path) {
                Ok(named)
                    if path.extension().is_some()
                        && named != f
                        && !(named == Format::Npy && f == Format::NpyDir) =>
                {
                    return Err(Error::format(
                        path,
                        format!("the extension says {named:?} but --format says {f:?}"),
                    ));
                }
                _ => f,
            },
            None => Format::from_path(path)?,
        };
        // `--format npy` with a `.npy` path and one matrix: that file.
        if format == Format::NpyDir
            && count == 1
            && Format::from_path(path).ok() == Some(Format::Npy)
        {
            format = Format::Npy;
        }
        if format == Format::Npy && count != 1 {
            return Err(Error::format(
                path,
                format!(
                    "a .npy file holds one matrix, not {count}: give a directory (no extension) \
                     or an .npz, .ark or .csv file"
                ),
            ));
        }
        if let Ok(out) = std::fs::canonicalize(path) {
            for input in inputs {
                if std::fs::canonicalize(input).is_ok_and(|i| i == out) {
                    return Err(Error::format(
                        path,
                        "is one of the inputs: writing there would destroy it",
                    ));
                }
            }
        }
        match (format, path.is_dir()) {
            (Format::NpyDir, true) => {
                let full = std::fs::read_dir(path)
                    .map_err(|e| Error::io(path, e))?
                    .next()
                    .is_some();
                if full && !force {
                    return Err(Error::format(
                        path,
                        "is a directory that is not empty: its old .npy files would mix with the \
                         new ones; give a new directory, or --force to replace it",
                    ));
                }
            }
            (Format::NpyDir, false) if path.exists() => {
                return Err(Error::format(
                    path,
                    "exists and is not a directory (npy output is a directory)",
                ));
            }
            (_, true) => {
                return Err(Error::format(
                    path,
                    "is a directory, but this format is one file",
                ));
            }
            _ => {}
        }
        Ok(Output {
            target: Target::Path(path.to_path_buf()),
            format,
            force,
        })
    }

    /// Write `(key, matrix)` pairs (keys as made by [`unique_keys`] for this format).
    pub fn write(&self, items: &[(String, Array2<f32>)]) -> Result<()> {
        match &self.target {
            Target::Path(p) if self.format == Format::NpyDir => write_npy_dir(p, items, self.force),
            Target::Path(p) => write(p, self.format, items),
            Target::Stdout => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let stdout = Path::new("<standard output>");
                write_stream(&mut out, self.format, items)
                    .and_then(|()| out.flush())
                    .map_err(|e| Error::io(stdout, e))
            }
        }
    }
}

/// A key usable as a file name: `dr1-fvmh0/sa1` -> `dr1-fvmh0_sa1`. Letters and digits of any
/// script are kept; whitespace, separators and punctuation other than `-_.` become `_`.
pub fn safe_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Format {
    /// The key an utterance id is written under. Kept as written where the format allows it:
    /// npz member names (`dr1-fvmh0/sa1.npy` inside the zip; `numpy.load` gives the key
    /// `dr1-fvmh0/sa1`), and Kaldi archive and CSV keys except for white space and control
    /// characters (and, in CSV, `,` and `"`), which become `_`. A directory of .npy files names
    /// its files with [`safe_key`] (`/` becomes `_` too).
    pub fn key(self, id: &str) -> String {
        let sep = |c: char| c.is_whitespace() || c.is_control();
        match self {
            Format::Npz | Format::Npy => id.to_string(),
            Format::Ark | Format::ArkText => id.replace(sep, "_"),
            Format::Csv => id.replace(|c| sep(c) || c == ',' || c == '"', "_"),
            Format::NpyDir => safe_key(id),
        }
    }
}

/// The key of each id in `format` ([`Format::key`]), refusing two that become the same (`a b`
/// and `a_b`), with both `sources` named (the inputs the keys came from).
pub fn unique_keys(format: Format, keys: &[String], sources: &[PathBuf]) -> Result<Vec<String>> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let safe = format.key(k);
        if let Some(&j) = seen.get(&safe) {
            let name = |n: usize| {
                sources
                    .get(n)
                    .map_or_else(|| keys[n].clone(), |p| p.display().to_string())
            };
            return Err(Error::invalid(format!(
                "{} and {} would both be written as `{safe}`: rename one of them",
                name(j),
                name(i)
            )));
        }
        seen.insert(safe.clone(), i);
        out.push(safe);
    }
    Ok(out)
}

/// Write `(key, matrix)` pairs to the file `path` in `format` (not [`Format::NpyDir`]: see
/// [`Output::write`]), atomically.
fn write(path: &Path, format: Format, items: &[(String, Array2<f32>)]) -> Result<()> {
    match format {
        Format::NpyDir => write_npy_dir(path, items, false),
        Format::Npy => {
            let (_, m) = items
                .first()
                .ok_or_else(|| Error::format(path, "nothing to write"))?;
            atomic::write_file(path, |w| m.write_npy(w).map_err(std::io::Error::other))
        }
        Format::Npz => {
            // Zipped in memory, where writing cannot fail: a zip writer that fails on a full disk
            // prints its own complaint to stderr when dropped.
            let encode = || -> std::result::Result<Vec<u8>, ndarray_npy::WriteNpzError> {
                let mut npz = NpzWriter::new(std::io::Cursor::new(Vec::new()));
                for (k, m) in items {
                    npz.add_array(k.as_str(), m)?;
                }
                Ok(npz.finish()?.into_inner())
            };
            let bytes =
                encode().map_err(|e| Error::format(path, format!("cannot encode npz: {e}")))?;
            atomic::write_bytes(path, &bytes)
        }
        Format::Ark | Format::ArkText | Format::Csv => {
            atomic::write_file(path, |w| write_stream(w, format, items))
        }
    }
}

/// The streaming formats: Kaldi binary or text archive, CSV.
fn write_stream(
    w: &mut dyn Write,
    format: Format,
    items: &[(String, Array2<f32>)],
) -> std::io::Result<()> {
    match format {
        Format::Ark => {
            for (k, m) in items {
                super::scp::write_entry(w, k, m)?;
            }
        }
        Format::ArkText => {
            for (k, m) in items {
                write!(w, "{k}  [")?;
                for row in m.rows() {
                    write!(w, "\n ")?;
                    for v in row {
                        write!(w, " {v}")?;
                    }
                }
                writeln!(w, " ]")?;
            }
        }
        Format::Csv => {
            let dim = items.first().map_or(0, |(_, m)| m.ncols());
            write!(w, "utterance,frame")?;
            for c in 0..dim {
                write!(w, ",f{c}")?;
            }
            writeln!(w)?;
            for (k, m) in items {
                for (f, row) in m.rows().into_iter().enumerate() {
                    write!(w, "{k},{f}")?;
                    for v in row {
                        write!(w, ",{v}")?;
                    }
                    writeln!(w)?;
                }
            }
        }
        Format::NpyDir | Format::Npy | Format::Npz => {
            unreachable!("not a stream format (Output::plan refuses it)")
        }
    }
    Ok(())
}

/// One .npy per utterance in a directory, named by its key. The files are written into a new
/// directory beside `dir`, which then takes its place: a reader never sees half of them, nor a
/// mix of old and new. An existing `dir` must be empty unless `replace`.
fn write_npy_dir(dir: &Path, items: &[(String, Array2<f32>)], replace: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::format(
            dir,
            "exists and is not a directory (npy output is a directory)",
        ));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    atomic::create_dir_all(&parent)?;
    let temp = || {
        tempfile::Builder::new()
            .prefix(&crate::io::atomic::temp_prefix())
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))
    };
    let new = temp()?;
    let _tracked = atomic::Tracked::new(new.path());
    for (k, m) in items {
        let p = new.path().join(format!("{k}.npy"));
        atomic::write_file(&p, |w| m.write_npy(w).map_err(std::io::Error::other))?;
    }
    let mut _old = None;
    if dir.is_dir() {
        let full = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_some();
        if full && !replace {
            return Err(Error::format(dir, "is a directory that is not empty"));
        }
        // The old directory moves aside (removed when `old` drops), the new one takes its name.
        let old = temp()?;
        let aside = old.path().join("old");
        std::fs::rename(dir, &aside).map_err(|e| Error::io(dir, e))?;
        _old = Some(old);
    }
    let new = new.keep();
    std::fs::rename(&new, dir).map_err(|e| Error::io(dir, e))?;
    Ok(())
}

/// Keys for a list of input files: each path relative to the inputs' deepest common directory,
/// without extension (`.../timit/dr1-fvmh0/sa1.wav` -> `dr1-fvmh0/sa1` when speakers differ).
pub fn keys_for(paths: &[PathBuf]) -> Result<Vec<String>> {
    let dirs: Vec<Vec<_>> = paths
        .iter()
        .map(|p| p.parent().map_or(vec![], |d| d.components().collect()))
        .collect();
    let common = dirs.first().map_or(0, |first| {
        (0..first.len())
            .take_while(|&i| dirs.iter().all(|d| d.get(i) == first.get(i)))
            .count()
    });
    let mut keys: Vec<String> = Vec::with_capacity(paths.len());
    for p in paths {
        let rel: PathBuf = p.with_extension("").components().skip(common).collect();
        let key = rel.to_string_lossy().replace('\\', "/");
        if keys.contains(&key) {
            return Err(Error::format(p, format!("given twice (as {key})")));
        }
        keys.push(key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_drop_the_common_directory() {
        let p = |s: &str| PathBuf::from(s);
        let keys = keys_for(&[p("/c/dr1-a/sa1.wav"), p("/c/dr2-b/sa1.wav")]).unwrap();
        assert_eq!(keys, ["dr1-a/sa1", "dr2-b/sa1"]);
        assert_eq!(keys_for(&[p("x/sa1.wav")]).unwrap(), ["sa1"]);
        assert!(keys_for(&[p("a.wav"), p("a.flac")]).is_err());
    }
}
