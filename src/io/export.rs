//! Writing feature matrices: NumPy (.npy per utterance, or one .npz), Kaldi archives (binary or
//! text .ark, readable by copy-feats), or CSV. Every output is written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;

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
        self.write_with(&mut |sink| {
            for (k, m) in items {
                sink.begin(k, m.nrows(), m.ncols())?;
                sink.rows(m.as_standard_layout().as_slice().expect("standard layout"))?;
                sink.end()?;
            }
            Ok(())
        })
    }

    /// Write the matrices that `fill` hands to a [`Sink`], one after another, each in pieces
    /// as it is computed: only the piece in hand is in memory. Atomic as
    /// [`write`](Self::write): an error from `fill` leaves nothing at the target (on standard
    /// output, what was written stays written).
    pub fn write_with(&self, fill: &mut dyn FnMut(&mut Sink) -> Result<()>) -> Result<()> {
        match &self.target {
            Target::Path(p) if self.format == Format::NpyDir => {
                npy_dir(p, self.force, &mut |dir| {
                    let mut sink = Sink::new(Out::Dir(dir.to_path_buf(), None), self.format, p);
                    fill(&mut sink)?;
                    sink.finish()
                })
            }
            Target::Path(p) if self.format == Format::Npz => atomic::write_file_with(p, |w| {
                let w: &mut dyn WriteSeek = w;
                let mut sink = Sink::new(Out::Zip(zip::ZipWriter::new(w)), self.format, p);
                let filled = fill(&mut sink).and_then(|()| sink.finish());
                if filled.is_err()
                    && let Out::Zip(zip) = std::mem::replace(&mut sink.out, Out::Done)
                {
                    // Dropping an unfinished zip writer writes its directory and complains on
                    // stderr when that fails; the file is removed anyway.
                    std::mem::forget(zip);
                }
                filled
            }),
            Target::Path(p) => atomic::write_file_with(p, |w| {
                let mut sink = Sink::new(Out::Stream(w), self.format, p);
                fill(&mut sink)?;
                sink.finish()
            }),
            Target::Stdout => {
                let stdout = Path::new("<standard output>");
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let mut sink = Sink::new(Out::Stream(&mut out), self.format, stdout);
                fill(&mut sink)?;
                sink.finish()?;
                drop(sink);
                out.flush().map_err(|e| Error::io(stdout, e))
            }
        }
    }
}

/// A file that a zip archive is written to (it seeks back to fill in each member's size).
trait WriteSeek: Write + std::io::Seek {}

impl<T: Write + std::io::Seek> WriteSeek for T {}

/// Where a [`Sink`] writes.
enum Out<'w> {
    /// One stream: a file or standard output.
    Stream(&'w mut dyn Write),
    /// An npz archive (a zip of .npy members) in a file.
    Zip(zip::ZipWriter<&'w mut dyn WriteSeek>),
    /// A directory of .npy files, and the one being written.
    Dir(PathBuf, Option<std::io::BufWriter<std::fs::File>>),
    /// Finished, or given up.
    Done,
}

/// Matrices written one after another, each as rows arrive ([`Output::write_with`]): the row
/// count is given first, because the .npy header and the Kaldi matrix header come before the
/// data. The bytes are those of writing each matrix whole.
pub struct Sink<'w> {
    out: Out<'w>,
    format: Format,
    /// The output, named in errors.
    path: PathBuf,
    /// The matrix being written: key, rows announced, columns, rows written.
    key: String,
    rows: usize,
    cols: usize,
    written: usize,
    /// Matrices begun.
    count: usize,
    /// The CSV header is written (its columns are the first matrix's).
    header: bool,
    /// Little-endian bytes of the rows in hand (binary formats), reused.
    bytes: Vec<u8>,
}

impl<'w> Sink<'w> {
    fn new(out: Out<'w>, format: Format, path: &Path) -> Self {
        Sink {
            out,
            format,
            path: path.to_path_buf(),
            key: String::new(),
            rows: 0,
            cols: 0,
            written: 0,
            count: 0,
            header: false,
            bytes: Vec::new(),
        }
    }

    fn io(&self, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::io(&self.path, std::io::Error::other(e))
    }

    /// The writer of the current matrix's bytes.
    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.out {
            Out::Stream(w) => *w,
            Out::Zip(z) => z,
            Out::Dir(_, Some(f)) => f,
            Out::Dir(_, None) | Out::Done => unreachable!("a matrix is begun"),
        }
    }

    /// Start the matrix `key` of `rows` x `cols` (a key as [`unique_keys`] makes it).
    pub fn begin(&mut self, key: &str, rows: usize, cols: usize) -> Result<()> {
        if self.format == Format::Npy && self.count > 0 {
            return Err(Error::format(&self.path, "a .npy file holds one matrix"));
        }
        (self.key, self.rows, self.cols, self.written) = (key.to_string(), rows, cols, 0);
        self.count += 1;
        let npy_header = || {
            ndarray_npy::npy::header::Header {
                type_descriptor: <f32 as ndarray_npy::WritableElement>::type_descriptor(),
                layout: ndarray_npy::npy::header::Layout::Standard,
                shape: vec![rows, cols],
            }
            .to_bytes()
        };
        let r = match self.format {
            Format::Npy | Format::NpyDir | Format::Npz => {
                let header = npy_header().map_err(|e| self.io(e))?;
                match &mut self.out {
                    Out::Zip(z) => {
                        let opts = zip::write::SimpleFileOptions::default()
                            .compression_method(zip::CompressionMethod::Stored);
                        z.start_file(format!("{key}.npy"), opts)
                            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
                    }
                    Out::Dir(dir, file) => {
                        let p = dir.join(format!("{key}.npy"));
                        let f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
                        *file = Some(std::io::BufWriter::new(f));
                    }
                    Out::Stream(_) | Out::Done => {}
                }
                self.writer().write_all(&header)
            }
            Format::Ark => {
                let w = self.writer();
                write!(w, "{key} \0BFM ").and_then(|()| {
                    for n in [rows, cols] {
                        w.write_all(&[4])?;
                        w.write_all(&(n as i32).to_le_bytes())?;
                    }
                    Ok(())
                })
            }
            Format::ArkText => write!(self.writer(), "{key}  ["),
            Format::Csv => self.csv_header(cols),
        };
        r.map_err(|e| Error::io(&self.path, e))
    }

    fn csv_header(&mut self, cols: usize) -> std::io::Result<()> {
        if self.header {
            return Ok(());
        }
        self.header = true;
        let w = self.writer();
        write!(w, "utterance,frame")?;
        for c in 0..cols {
            write!(w, ",f{c}")?;
        }
        writeln!(w)
    }

    /// The next whole rows of the current matrix, row-major.
    pub fn rows(&mut self, data: &[f32]) -> Result<()> {
        let n = data.len().checked_div(self.cols).unwrap_or(0);
        if n * self.cols != data.len() || self.written + n > self.rows {
            return Err(Error::invalid(format!(
                "{} values for `{}` after {} of its {} rows of {}",
                data.len(),
                self.key,
                self.written,
                self.rows,
                self.cols
            )));
        }
        let (format, cols, first) = (self.format, self.cols, self.written);
        let key = std::mem::take(&mut self.key);
        let mut bytes = std::mem::take(&mut self.bytes);
        let w = self.writer();
        let r = (|| -> std::io::Result<()> {
            match format {
                Format::Npy | Format::NpyDir | Format::Npz | Format::Ark => {
                    bytes.clear();
                    bytes.extend(data.iter().flat_map(|v| v.to_le_bytes()));
                    w.write_all(&bytes)?;
                }
                Format::ArkText => {
                    for row in data.chunks_exact(cols.max(1)) {
                        write!(w, "\n ")?;
                        for v in row {
                            write!(w, " {v}")?;
                        }
                    }
                }
                Format::Csv => {
                    for (f, row) in data.chunks_exact(cols.max(1)).enumerate() {
                        write!(w, "{key},{}", first + f)?;
                        for v in row {
                            write!(w, ",{v}")?;
                        }
                        writeln!(w)?;
                    }
                }
            }
            Ok(())
        })();
        (self.key, self.bytes) = (key, bytes);
        self.written += n;
        r.map_err(|e| Error::io(&self.path, e))
    }

    /// The current matrix is complete: it must have all the rows [`begin`](Self::begin) said.
    pub fn end(&mut self) -> Result<()> {
        if self.written != self.rows {
            return Err(Error::invalid(format!(
                "`{}` was announced with {} rows but {} were computed",
                self.key, self.rows, self.written
            )));
        }
        let r = if self.format == Format::ArkText {
            writeln!(self.writer(), " ]")
        } else if let Out::Dir(_, file) = &mut self.out
            && let Some(mut f) = file.take()
        {
            f.flush().and_then(|()| f.get_ref().sync_all())
        } else {
            Ok(())
        };
        r.map_err(|e| Error::io(&self.path, e))
    }

    /// After the last matrix: the CSV header when there was none, the zip's directory.
    fn finish(&mut self) -> Result<()> {
        if self.format == Format::Npy && self.count == 0 {
            return Err(Error::format(&self.path, "nothing to write"));
        }
        if self.format == Format::Csv && !self.header {
            self.csv_header(0).map_err(|e| Error::io(&self.path, e))?;
        }
        if let Out::Zip(zip) = std::mem::replace(&mut self.out, Out::Done) {
            zip.finish()
                .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        }
        Ok(())
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

/// One .npy per utterance in a directory: `fill` writes them into a new directory beside `dir`,
/// which then takes its place: a reader never sees half of them, nor a mix of old and new. An
/// existing `dir` must be empty unless `replace`.
fn npy_dir(dir: &Path, replace: bool, fill: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
    let staged = atomic::StagedDir::new(dir)?;
    fill(staged.path())?;
    if !replace && !staged.target_is_empty()? {
        return Err(Error::format(dir, "is a directory that is not empty"));
    }
    staged.commit(true)
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
    use ndarray_npy::{NpzWriter, WriteNpyExt};

    /// Matrices with awkward shapes (one row, no rows, odd widths) and values.
    fn items() -> Vec<(String, Array2<f32>)> {
        let m = |r: usize, c: usize, k: f32| {
            Array2::from_shape_fn((r, c), |(i, j)| k * (i as f32 - 1.5) / (j as f32 + 0.3))
        };
        vec![
            ("dr1-a/sa1".into(), m(7, 13, 1.0)),
            ("b".into(), m(1, 3, -2.5)),
            ("c".into(), m(0, 5, 1.0)),
            ("d".into(), m(300, 41, 1e-3)),
        ]
    }

    /// Write `items` through a sink, each matrix in pieces of up to `piece` rows.
    fn in_pieces(out: &Output, items: &[(String, Array2<f32>)], piece: usize) {
        out.write_with(&mut |sink| {
            for (k, m) in items {
                sink.begin(k, m.nrows(), m.ncols())?;
                let rows = m.as_slice().unwrap();
                for block in rows.chunks((piece * m.ncols()).max(1)) {
                    sink.rows(block)?;
                }
                sink.end()?;
            }
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn matrices_written_in_pieces_are_the_bytes_of_the_whole_matrix_writers() {
        let dir = tempfile::tempdir().unwrap();
        let items = items();
        // npz: ndarray-npy's writer, each array whole.
        let mut npz = NpzWriter::new(std::io::Cursor::new(Vec::new()));
        for (k, m) in &items {
            npz.add_array(k.as_str(), m).unwrap();
        }
        let npz = npz.finish().unwrap().into_inner();
        // ark: the archive entry writer of io::scp.
        let mut ark = Vec::new();
        for (k, m) in &items {
            super::super::scp::write_entry(&mut ark, k, m).unwrap();
        }
        // npy: ndarray-npy, one matrix.
        let mut npy = Vec::new();
        items[0].1.write_npy(&mut npy).unwrap();
        for piece in [1, 2, 1000] {
            let at = |name: &str| dir.path().join(format!("{piece}-{name}"));
            let plan = |name: &str, n: usize| Output::plan(&at(name), None, &[], n, false).unwrap();
            in_pieces(&plan("f.npz", 4), &items, piece);
            assert!(
                std::fs::read(at("f.npz")).unwrap() == npz,
                "npz, pieces of {piece}"
            );
            in_pieces(&plan("f.ark", 4), &items, piece);
            assert!(
                std::fs::read(at("f.ark")).unwrap() == ark,
                "ark, pieces of {piece}"
            );
            in_pieces(&plan("f.npy", 1), &items[..1], piece);
            assert!(
                std::fs::read(at("f.npy")).unwrap() == npy,
                "npy, pieces of {piece}"
            );
            // A directory names its files with safe keys (`/` becomes `_`).
            let safe: Vec<_> = items
                .iter()
                .map(|(k, m)| (Format::NpyDir.key(k), m.clone()))
                .collect();
            in_pieces(&plan("dir", 4), &safe, piece);
            for (k, m) in &safe {
                let mut want = Vec::new();
                m.write_npy(&mut want).unwrap();
                let got = std::fs::read(at("dir").join(format!("{k}.npy")));
                assert!(got.unwrap() == want, "{k}.npy, pieces of {piece}");
            }
        }
    }

    #[test]
    fn text_formats_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let items = vec![
            (
                "u1".to_string(),
                ndarray::array![[1.0f32, -0.5], [2.25, 3.0]],
            ),
            ("u2".to_string(), ndarray::array![[0.125f32, 7.0]]),
        ];
        for piece in [1, 5] {
            let txt = dir.path().join(format!("{piece}.txt"));
            in_pieces(
                &Output::plan(&txt, None, &[], 2, false).unwrap(),
                &items,
                piece,
            );
            assert_eq!(
                std::fs::read_to_string(&txt).unwrap(),
                "u1  [\n  1 -0.5\n  2.25 3 ]\nu2  [\n  0.125 7 ]\n"
            );
            let csv = dir.path().join(format!("{piece}.csv"));
            in_pieces(
                &Output::plan(&csv, None, &[], 2, false).unwrap(),
                &items,
                piece,
            );
            assert_eq!(
                std::fs::read_to_string(&csv).unwrap(),
                "utterance,frame,f0,f1\nu1,0,1,-0.5\nu1,1,2.25,3\nu2,0,0.125,7\n"
            );
        }
        let empty = dir.path().join("empty.csv");
        in_pieces(&Output::plan(&empty, None, &[], 0, false).unwrap(), &[], 1);
        assert_eq!(
            std::fs::read_to_string(&empty).unwrap(),
            "utterance,frame\n"
        );
    }

    #[test]
    fn rows_beyond_or_short_of_the_announced_count_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.ark");
        let out = Output::plan(&path, None, &[], 1, false).unwrap();
        let e = out
            .write_with(&mut |sink| {
                sink.begin("u", 2, 3)?;
                sink.rows(&[0.0; 6])?;
                sink.rows(&[0.0; 3])
            })
            .unwrap_err()
            .to_string();
        assert_eq!(e, "3 values for `u` after 2 of its 2 rows of 3");
        let e = out
            .write_with(&mut |sink| {
                sink.begin("u", 2, 3)?;
                sink.rows(&[0.0; 3])?;
                sink.end()
            })
            .unwrap_err()
            .to_string();
        assert_eq!(e, "`u` was announced with 2 rows but 1 were computed");
        assert!(!path.exists(), "nothing is left behind");
    }

    #[test]
    fn keys_drop_the_common_directory() {
        let p = |s: &str| PathBuf::from(s);
        let keys = keys_for(&[p("/c/dr1-a/sa1.wav"), p("/c/dr2-b/sa1.wav")]).unwrap();
        assert_eq!(keys, ["dr1-a/sa1", "dr2-b/sa1"]);
        assert_eq!(keys_for(&[p("x/sa1.wav")]).unwrap(), ["sa1"]);
        assert!(keys_for(&[p("a.wav"), p("a.flac")]).is_err());
    }
}
