//! The library's error type. Every variant names the file (and line, where there is one) so that a
//! user sees what was wrong and where; the CLI prints the chain and exits non-zero.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in the library; [`Error::has_location`] tells whether a file is
/// named.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at the OS level.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (or directory) the operation was on.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file was read but its content is not what it should be (audio, labels, model, ...).
    #[error("{}: {msg}", path.display())]
    Format {
        /// The file whose content is wrong.
        path: PathBuf,
        /// What is wrong, in one line.
        msg: String,
    },
    /// A file is wrong at a known line (YAML pipelines, .phn, TextGrid, manifests).
    #[error("{}:{line}: {msg}", path.display())]
    AtLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, in one line.
        msg: String,
    },
    /// A request that cannot be satisfied, not tied to one file (bad option values, incompatible parts).
    #[error("{0}")]
    Invalid(String),
    /// Frames of the wrong width for a model or stage.
    #[error("{what} expects {expected}-dimensional frames, got {got}")]
    DimensionMismatch {
        /// The model or stage that received the frames.
        what: &'static str,
        /// Its input dimension.
        expected: usize,
        /// Columns of the frames given.
        got: usize,
    },
    /// Audio at another rate than the pipeline is built for, and resampling is off.
    #[error(
        "sample rate is {got} Hz but {expected} Hz is required; convert the file or enable \
         resampling (`resample: true` in the pipeline)"
    )]
    RateMismatch {
        /// The pipeline's rate, Hz.
        expected: u32,
        /// The audio's rate, Hz.
        got: u32,
    },
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An OS-level I/O failure on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Wrong content in `path`, no line known.
    pub fn format(path: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            msg: msg.into(),
        }
    }

    /// Wrong content in `path` at 1-based `line`.
    pub fn at_line(path: impl AsRef<Path>, line: usize, msg: impl Into<String>) -> Self {
        Error::AtLine {
            path: path.as_ref().to_path_buf(),
            line,
            msg: msg.into(),
        }
    }

    /// A bad request not tied to a file (options, incompatible parts).
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    /// True when the error already names a file.
    pub fn has_location(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Format { .. } | Error::AtLine { .. }
        )
    }

    /// Name `path` in an error that does not name a file yet (errors that do are kept).
    pub fn in_file(self, path: impl AsRef<Path>) -> Self {
        if self.has_location() {
            self
        } else {
            Error::format(path, self.to_string())
        }
    }

    /// Name `path` and `line` in an error that does not name a file yet, with `prefix` (e.g. the
    /// option's section) in front of its message.
    pub fn at(self, path: impl AsRef<Path>, line: usize, prefix: &str) -> Self {
        if self.has_location() {
            self
        } else {
            Error::at_line(path, line, format!("{prefix}{self}"))
        }
    }
}
