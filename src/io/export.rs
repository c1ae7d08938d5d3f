//! Writing feature matrices: NumPy (.npy per utterance, or one .npz), Kaldi archives (binary or
//! text .ark, readable by copy-feats), or CSV. Every output is written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::{NpzWriter, WriteNpyExt};

use crate::error::{Error, Result};
use crate::io::atomic;

/// A feature output format (`--format`, or guessed from the output's extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A directory with one `<key>.npy` per utterance.
    NpyDir,
    /// One NumPy `.npz`, an array per utterance.
    Npz,
    /// Kaldi binary archive.
    Ark,
    /// Kaldi text archive.
    ArkText,
    /// `utterance,frame,c0,c1,...` rows with a header.
    Csv,
}

impl Format {
    /// The names `parse` accepts, for help and error messages.
    pub const NAMES: &'static str = "npy, npz, ark, ark-text, csv";

    /// The format for a name in [`Format::NAMES`]; `None` for any other.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "npy" => Format::NpyDir,
            "npz" => Format::Npz,
            "ark" => Format::Ark,
            "ark-text" | "txt" => Format::ArkText,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    /// Guess from the output path: .npz, .ark, .txt, .csv; anything else is a directory of .npy.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npz") => Format::Npz,
            Some("ark") => Format::Ark,
            Some("txt") => Format::ArkText,
            Some("csv") => Format::Csv,
            _ => Format::NpyDir,
        }
    }
}

/// A key usable as a Kaldi archive key and a file name: `dr1-fvmh0/sa1` -> `dr1-fvmh0_sa1`.
pub fn safe_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Write `(key, matrix)` pairs to `path` in `format`.
pub fn write(path: &Path, format: Format, items: &[(String, Array2<f32>)]) -> Result<()> {
    match format {
        Format::NpyDir => write_npy_dir(path, items),
        Format::Npz => {
            // Zipped in memory, where writing cannot fail: a zip writer that fails on a full disk
            // prints its own complaint to stderr when dropped.
            let encode = || -> std::result::Result<Vec<u8>, ndarray_npy::WriteNpzError> {
                let mut npz = NpzWriter::new(std::io::Cursor::new(Vec::new()));
                for (k, m) in items {
                    npz.add_array(safe_key(k), m)?;
                }
                Ok(npz.finish()?.into_inner())
            };
            let bytes =
                encode().map_err(|e| Error::format(path, format!("cannot encode npz: {e}")))?;
            atomic::write_bytes(path, &bytes)
        }
        Format::Ark => atomic::write_file(path, |w| {
            for (k, m) in items {
                write!(w, "{} \0BFM ", safe_key(k))?;
                for n in [m.nrows(), m.ncols()] {
                    w.write_all(&[4])?;
                    w.write_all(&(n as i32).to_le_bytes())?;
                }
                for v in m.iter() {
                    w.write_all(&v.to_le_bytes())?;
                }
            }
            Ok(())
        }),
        Format::ArkText => atomic::write_file(path, |w| {
            for (k, m) in items {
                write!(w, "{}  [", safe_key(k))?;
                for row in m.rows() {
                    write!(w, "\n ")?;
                    for v in row {
                        write!(w, " {v}")?;
                    }
                }
                writeln!(w, " ]")?;
            }
            Ok(())
        }),
        Format::Csv => atomic::write_file(path, |w| {
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
            Ok(())
        }),
    }
}

/// One .npy per utterance in a directory. A new directory appears only when every file is written
/// (built beside it, then renamed); into an existing directory each file is written atomically.
fn write_npy_dir(dir: &Path, items: &[(String, Array2<f32>)]) -> Result<()> {
    let write_all = |d: &Path| -> Result<()> {
        for (k, m) in items {
            let p = d.join(format!("{}.npy", safe_key(k)));
            atomic::write_file(&p, |w| m.write_npy(w).map_err(std::io::Error::other))?;
        }
        Ok(())
    };
    if dir.is_dir() {
        return write_all(dir);
    }
    if dir.exists() {
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
    let tmp = tempfile::Builder::new()
        .prefix(".asrpipe-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    write_all(tmp.path())?;
    let tmp = tmp.keep();
    std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))?;
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
