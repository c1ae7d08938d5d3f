//! One writer per output directory: a lock file holding the writer's process id, so that two
//! commands writing into the same directory at once (whose results would contradict the models
//! on disk) are refused rather than interleaved.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::atomic::{self, Tracked, is_running};

/// The lock file's name inside the locked directory.
pub const LOCK_FILE: &str = ".asrpipe.lock";

/// A held lock; released (the file removed) when dropped, or by
/// [`atomic::remove_temporaries`] when a signal ends the process.
pub struct DirLock {
    path: PathBuf,
    /// What a killed earlier writer left, removed on taking the lock (see [`DirLock::take`]).
    cleaned: Option<String>,
    /// The directory, when taking the lock created it: removed again if left empty (a command
    /// that failed leaves nothing behind).
    created: Option<PathBuf>,
    _tracked: Tracked,
}

impl DirLock {
    /// Lock `dir` (created if needed; an unwritable directory fails here, before any work).
    /// A lock left by a process that no longer runs is taken over. Once the lock is held, the
    /// temporary files and directories of writers that no longer run are removed from `dir`
    /// and its subdirectories down to [`LEFTOVER_DEPTH`] levels ([`atomic::remove_leftovers`]):
    /// [`DirLock::cleaned`] says what went.
    pub fn take(dir: &Path) -> Result<DirLock> {
        let created = (!dir.exists()).then(|| dir.to_path_buf());
        atomic::create_dir_all(dir)?;
        let path = dir.join(LOCK_FILE);
        let mut stale = None;
        for _ in 0..2 {
            match Tracked::create(|| std::fs::File::create_new(&path), |_| path.clone()) {
                Ok((mut f, tracked)) => {
                    writeln!(f, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
                    let removed = atomic::remove_leftovers(dir, LEFTOVER_DEPTH);
                    return Ok(DirLock {
                        cleaned: cleaned_message(dir, stale, removed.len()),
                        _tracked: tracked,
                        path,
                        created,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim().parse::<u32>().ok();
                    if let Some(pid) = pid.filter(|&p| is_running(p)) {
                        return Err(Error::format(
                            dir,
                            format!(
                                "is being written by another asrpipe (process {pid}): wait for \
                                 it to finish, or write elsewhere (if no such process runs, \
                                 remove {})",
                                path.display()
                            ),
                        ));
                    }
                    // Its writer is gone (killed without cleaning up): take it over.
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                    stale = Some(pid);
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::format(
            dir,
            "cannot take the lock: another process keeps taking it",
        ))
    }
}

impl DirLock {
    /// One line saying what a killed earlier run had left in the directory and taking the
    /// lock removed (its lock, its temporary files), or `None` when there was nothing.
    pub fn cleaned(&self) -> Option<&str> {
        self.cleaned.as_deref()
    }
}

/// How deep below a locked directory [`DirLock::take`] looks for leftovers: an experiment's
/// `runs/<name>/` and a model's `flat_start/alignments/<speaker>/` are within it.
pub const LEFTOVER_DEPTH: usize = 3;

fn cleaned_message(dir: &Path, stale: Option<Option<u32>>, temps: usize) -> Option<String> {
    let lock = stale.map(|pid| match pid {
        Some(pid) => format!("the lock of process {pid}, which no longer runs"),
        None => "an unreadable lock".to_string(),
    });
    atomic::leftovers_message(dir, lock, temps)
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.created {
            // Fails, as it should, unless empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_a_dead_ones_lock_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DirLock::take(dir.path()).unwrap();
        // Pretend another live process holds it: pid 1 always runs.
        std::fs::write(dir.path().join(LOCK_FILE), "1\n").unwrap();
        let e = DirLock::take(dir.path()).err().unwrap().to_string();
        assert!(e.contains("process 1"), "{e}");
        // A pid that cannot be running (beyond Linux's pid_max): taken over.
        std::fs::write(dir.path().join(LOCK_FILE), "99999999\n").unwrap();
        let again = DirLock::take(dir.path()).unwrap();
        drop(lock);
        drop(again);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
