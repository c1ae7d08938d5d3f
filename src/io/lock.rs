//! One writer per output directory: a lock file holding the writer's process id, so that two
//! commands writing into the same directory at once (whose results would contradict the models
//! on disk) are refused rather than interleaved.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::atomic::{self, Tracked};

/// The lock file's name inside the locked directory.
pub const LOCK_FILE: &str = ".asrpipe.lock";

/// A held lock; released (the file removed) when dropped, or by
/// [`atomic::remove_temporaries`] when a signal ends the process.
pub struct DirLock {
    path: PathBuf,
    /// The directory, when taking the lock created it: removed again if left empty (a command
    /// that failed leaves nothing behind).
    created: Option<PathBuf>,
    _tracked: Tracked,
}

impl DirLock {
    /// Lock `dir` (created if needed; an unwritable directory fails here, before any work).
    /// A lock left by a process that no longer runs is taken over.
    pub fn take(dir: &Path) -> Result<DirLock> {
        let created = (!dir.exists()).then(|| dir.to_path_buf());
        atomic::create_dir_all(dir)?;
        let path = dir.join(LOCK_FILE);
        for _ in 0..2 {
            match std::fs::File::create_new(&path) {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
                    return Ok(DirLock {
                        _tracked: Tracked::new(&path),
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

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.created {
            // Fails, as it should, unless empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Whether process `pid` runs (Linux: `/proc/<pid>` exists; elsewhere assumed to, so a stale
/// lock is then removed by hand, as the message says).
fn is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
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
