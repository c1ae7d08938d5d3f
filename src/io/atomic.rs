//! Outputs appear whole or not at all: write to a temporary file in the target's directory, then rename.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files and directories being written now, and lock files held: what
/// [`remove_temporaries`] removes when a signal ends the process (which runs no destructors).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A path listed in [`LIVE`] while this lives.
pub(crate) struct Tracked(PathBuf);

impl Tracked {
    pub(crate) fn new(path: &Path) -> Tracked {
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.to_path_buf());
        Tracked(path.to_path_buf())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().rposition(|p| *p == self.0) {
            live.swap_remove(i);
        }
    }
}

/// Remove every temporary output and lock file of this process: for a signal handler, just
/// before the process exits, so that an interrupted command leaves nothing half-written.
pub fn remove_temporaries() {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    for p in live.iter() {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
    }
}

/// Write `path` through `fill`; on any error nothing is left at `path` (nor a temp file beside it).
pub fn write_file<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
{
    // Renaming over a device, a pipe or a directory would replace it (or fail obscurely).
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(Error::format(
            path,
            "exists and is not a regular file; outputs are written whole to a new file and \
             renamed into place, so give a file path",
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".asrpipe-");
    // Temp files are created private (0600); outputs are ordinary files (0644 less the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    let _tracked = Tracked::new(tmp.path());
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        fill(&mut w).map_err(|e| Error::io(path, e))?;
        w.flush().map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// `std::fs::create_dir_all`, saying plainly when `dir` is a file (the OS says "File exists").
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        // The OS says "File exists" or "Not a directory": name the file in the way.
        match dir.ancestors().find(|a| a.exists()) {
            Some(a) if a == dir && !a.is_dir() => {
                Error::format(dir, "exists and is not a directory")
            }
            Some(a) if !a.is_dir() => Error::format(
                dir,
                format!(
                    "cannot be created: {} is a file, not a directory",
                    a.display()
                ),
            ),
            _ => Error::io(dir, e),
        }
    })
}

/// Write bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, |w| w.write_all(bytes))
}
