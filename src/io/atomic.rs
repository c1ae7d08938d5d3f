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
    /// Make a temporary file, directory or lock file with `make` and list its path (`path_of`)
    /// in one step under [`LIVE`]'s lock: a signal arriving meanwhile either finds it listed,
    /// or holds the lock (see [`remove_temporaries`]) so that it is never made.
    pub(crate) fn create<T, E>(
        make: impl FnOnce() -> std::result::Result<T, E>,
        path_of: impl FnOnce(&T) -> PathBuf,
    ) -> std::result::Result<(T, Tracked), E> {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let made = make()?;
        let path = path_of(&made);
        live.push(path.clone());
        Ok((made, Tracked(path)))
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
/// before the process exits, so that an interrupted command leaves nothing half-written. The
/// list stays locked until the exit, so the threads still working cannot make a new temporary
/// file behind the handler's back (making one waits for the lock).
pub fn remove_temporaries() {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    for p in live.iter() {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
    }
    std::mem::forget(live);
}

/// The name prefix of this process's temporary files and directories: `.asrpipe-<pid>-`. The
/// process id lets a later run tell what a killed one left behind ([`remove_leftovers`]).
pub(crate) fn temp_prefix() -> String {
    format!(".asrpipe-{}-", std::process::id())
}

/// The writer of a temporary file or directory named by [`temp_prefix`], from its name.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".asrpipe-")?;
    let (pid, tail) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || tail.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` runs (Linux: `/proc/<pid>` exists; elsewhere assumed to, so nothing of
/// it is removed). This process counts as not running: what it finds of its own pid was left by
/// an earlier process that had the same id.
pub(crate) fn is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Remove the temporary files and directories (named `.asrpipe-<pid>-*`) in `dir`, and in its
/// subdirectories down to `depth` levels, whose writer no longer runs: what a run killed
/// without a chance to clean up (SIGKILL, power loss) left behind. Symbolic links are not
/// followed. Returns what was removed; what cannot be removed is left (and not listed).
pub fn remove_leftovers(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let owner = name.to_str().and_then(temp_owner);
        match owner {
            Some(pid) if !is_running(pid) => {
                let gone = if kind.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if gone.is_ok() {
                    removed.push(path);
                }
            }
            Some(_) => {}
            None if kind.is_dir() && depth > 0 => {
                removed.extend(remove_leftovers(&path, depth - 1));
            }
            None => {}
        }
    }
    removed
}

/// One line saying that `removed` ([`remove_leftovers`] in `dir`) went, or `None` when empty.
pub fn leftovers_line(dir: &Path, removed: &[PathBuf]) -> Option<String> {
    leftovers_message(dir, None, removed.len())
}

/// "removed what an interrupted run left in DIR: LOCK and N temporary files of killed runs".
pub(crate) fn leftovers_message(dir: &Path, lock: Option<String>, temps: usize) -> Option<String> {
    let temps = (temps > 0).then(|| {
        format!(
            "{temps} temporary file{} of killed runs",
            if temps == 1 { "" } else { "s" }
        )
    });
    let what: Vec<String> = lock.into_iter().chain(temps).collect();
    (!what.is_empty()).then(|| {
        format!(
            "removed what an interrupted run left in {}: {}",
            dir.display(),
            what.join(" and ")
        )
    })
}

/// Write `path` through `fill`; on any error nothing is left at `path` (nor a temp file beside it).
pub fn write_file<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<&mut File>) -> std::io::Result<()>,
{
    write_file_with(path, |w| fill(w).map_err(|e| Error::io(path, e)))
}

/// [`write_file`] with a `fill` that reports its own errors (a computation that writes as it
/// goes): they come back as they are.
pub fn write_file_with<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<&mut File>) -> Result<()>,
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
    let prefix = temp_prefix();
    builder.prefix(&prefix);
    // Temp files are created private (0600); outputs are ordinary files (0644 less the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let (mut tmp, _tracked) = Tracked::create(
        || builder.tempfile_in(dir).map_err(|e| Error::io(dir, e)),
        |t| t.path().to_path_buf(),
    )?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
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

/// A directory of outputs that appears whole or not at all: filled under a temporary name beside
/// `dir` (listed for the signal handler, removed when dropped), it takes `dir`'s place on
/// [`StagedDir::commit`], the old `dir` moving aside and going. A reader never sees half of the
/// new files, nor a mix of old and new ones.
pub struct StagedDir {
    dir: PathBuf,
    new: tempfile::TempDir,
    _tracked: Tracked,
}

impl StagedDir {
    /// A new, empty staging directory for `dir` (its parent is created). A `dir` that exists and
    /// is not a directory is refused.
    pub fn new(dir: &Path) -> Result<StagedDir> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::format(
                dir,
                "exists and is not a directory (this output is a directory)",
            ));
        }
        let parent = Self::parent(dir);
        create_dir_all(&parent)?;
        let (new, tracked) = Tracked::create(|| Self::temp(&parent), |t| t.path().to_path_buf())?;
        Ok(StagedDir {
            dir: dir.to_path_buf(),
            new,
            _tracked: tracked,
        })
    }

    /// Where to write the new files.
    pub fn path(&self) -> &Path {
        self.new.path()
    }

    /// Whether `dir` holds anything now (the old contents, before a commit).
    pub fn target_is_empty(&self) -> Result<bool> {
        match std::fs::read_dir(&self.dir) {
            Ok(mut entries) => Ok(entries.next().is_none()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(Error::io(&self.dir, e)),
        }
    }

    /// Put the new files in `dir`'s place. `keep_empty`: an empty staging directory still
    /// replaces `dir` (otherwise `dir` is then removed: nothing of an earlier run stays).
    pub fn commit(self, keep_empty: bool) -> Result<()> {
        let parent = Self::parent(&self.dir);
        let mut _old = None;
        if self.dir.is_dir() {
            // The old directory moves aside (removed when `old` drops).
            let old = Self::temp(&parent)?;
            let aside = old.path().join("old");
            std::fs::rename(&self.dir, &aside).map_err(|e| Error::io(&self.dir, e))?;
            _old = Some(old);
        }
        let empty = std::fs::read_dir(self.new.path())
            .map_err(|e| Error::io(self.new.path(), e))?
            .next()
            .is_none();
        if empty && !keep_empty {
            return Ok(());
        }
        let new = self.new.keep();
        std::fs::rename(&new, &self.dir).map_err(|e| Error::io(&self.dir, e))?;
        Ok(())
    }

    fn parent(dir: &Path) -> PathBuf {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn temp(parent: &Path) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&temp_prefix())
            .tempdir_in(parent)
            .map_err(|e| Error::io(parent, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_directory_replaces_the_old_one_whole_or_leaves_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old.phn"), b"old").unwrap();
        let listing = || {
            let mut v: Vec<String> = std::fs::read_dir(root.path())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        // Dropped before the commit (an error on the way): the old directory stays as it was.
        let staged = StagedDir::new(&dir).unwrap();
        std::fs::write(staged.path().join("new.phn"), b"new").unwrap();
        assert!(!staged.target_is_empty().unwrap());
        drop(staged);
        assert_eq!(listing(), ["out"]);
        assert_eq!(std::fs::read(dir.join("old.phn")).unwrap(), b"old");
        // Committed: only the new files, and no temporary directory left beside.
        let staged = StagedDir::new(&dir).unwrap();
        std::fs::write(staged.path().join("new.phn"), b"new").unwrap();
        staged.commit(false).unwrap();
        assert_eq!(listing(), ["out"]);
        assert!(!dir.join("old.phn").exists() && dir.join("new.phn").is_file());
        // Nothing staged: the old directory goes, or is replaced by an empty one if asked.
        StagedDir::new(&dir).unwrap().commit(true).unwrap();
        assert!(dir.is_dir() && std::fs::read_dir(&dir).unwrap().next().is_none());
        StagedDir::new(&dir).unwrap().commit(false).unwrap();
        assert!(listing().is_empty());
        std::fs::write(&dir, b"a file").unwrap();
        let err = StagedDir::new(&dir).err().unwrap().to_string();
        assert!(err.contains("not a directory"), "{err}");
    }

    #[test]
    fn leftovers_of_dead_writers_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A pid beyond Linux's pid_max cannot run; pid 1 always does.
        let dead = [".asrpipe-99999999-a1B2c3", ".asrpipe-99999999-x.png"];
        for n in dead {
            std::fs::write(d.join(n), b"partial").unwrap();
        }
        std::fs::create_dir_all(d.join(".asrpipe-99999999-tmpdir")).unwrap();
        std::fs::write(d.join(".asrpipe-99999999-tmpdir/u.npy"), b"x").unwrap();
        std::fs::create_dir_all(d.join("runs/a")).unwrap();
        std::fs::write(d.join("runs/a/.asrpipe-99999999-q"), b"x").unwrap();
        let keep = [
            ".asrpipe-1-live",
            ".asrpipe-notes",
            ".asrpipe-12x-y",
            ".asrpipe.lock",
            "a.npy",
        ];
        for n in keep {
            std::fs::write(d.join(n), b"keep").unwrap();
        }
        let mut removed = remove_leftovers(d, 2);
        removed.sort();
        let mut want: Vec<PathBuf> = dead.iter().map(|n| d.join(n)).collect();
        want.push(d.join(".asrpipe-99999999-tmpdir"));
        want.push(d.join("runs/a/.asrpipe-99999999-q"));
        want.sort();
        assert_eq!(removed, want);
        for n in keep {
            assert!(d.join(n).exists(), "{n}");
        }
        // Not deep enough: a leftover two levels down stays at depth 1.
        std::fs::write(d.join("runs/a/.asrpipe-99999999-q"), b"x").unwrap();
        assert!(remove_leftovers(d, 1).is_empty());
        // Our own temporary names carry our pid (and need a tail after it).
        assert_eq!(temp_owner(&temp_prefix()), None);
        assert_eq!(
            temp_owner(&format!("{}abc", temp_prefix())),
            Some(std::process::id())
        );
    }
}
