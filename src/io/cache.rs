//! Feature cache: chain outputs stored as .npy, keyed by (audio file, pipeline chain), so that
//! experiments running many classifiers on the same cut of the chain compute features once.
//!
//! Layout: `<dir>/<chain hash>/<blake3 hash of the audio file's bytes>.npy`. The chain hash covers
//! every stage option, the channel and the sample rate (the pipeline's `chain_hash`), so a changed
//! option never reads stale features, and the content hash means changed audio never does either. Post-processing is not cached (it is cheap and
//! depends on which utterances are pooled).

use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::error::{Error, Result};
use crate::io::atomic;

/// Chain outputs on disk as `.npy`, keyed by audio file and chain hash (see the module docs).
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    /// A cache rooted at `dir` (directories are made when features are stored).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FeatureCache { dir: dir.into() }
    }

    /// `$ASRPIPE_CACHE`, else `.cache/asrpipe` under the working directory.
    pub fn default_location() -> Self {
        let dir = std::env::var_os("ASRPIPE_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".cache/asrpipe"));
        FeatureCache::new(dir)
    }

    /// Root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry of `audio` under `chain_hash`: named by a hash of the file's bytes, so that audio
    /// replaced in place (even with the same size and modification time, as `cp -p` leaves it)
    /// never serves the old features, and a file moved or copied elsewhere still hits. Hashing
    /// reads the file once more (blake3, GB/s; the audio is read anyway to label its frames).
    fn entry(&self, audio: &Path, chain_hash: &str) -> Result<PathBuf> {
        let key = &file_hash(audio)?.to_hex()[..32];
        Ok(self.dir.join(chain_hash).join(format!("{key}.npy")))
    }

    /// The cached chain output for `audio`, or `compute()` stored for next time. A cache file that
    /// cannot be read (interrupted disk, older format) is recomputed, never trusted.
    pub fn get_or_compute(
        &self,
        audio: &Path,
        chain_hash: &str,
        compute: impl FnOnce() -> Result<Array2<f32>>,
    ) -> Result<Array2<f32>> {
        let path = self.entry(audio, chain_hash)?;
        if let Ok(file) = std::fs::File::open(&path)
            && let Ok(x) = Array2::<f32>::read_npy(std::io::BufReader::new(file))
        {
            return Ok(x);
        }
        let x = compute()?;
        // A cache that cannot be written only costs time; the features are still returned.
        let _ = atomic::write_file(&path, |w| x.write_npy(w).map_err(std::io::Error::other));
        Ok(x)
    }
}

/// The blake3 hash of a file's bytes: what the cache and an experiment's provenance know audio by.
pub fn file_hash(path: &Path) -> Result<blake3::Hash> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = blake3::Hasher::new();
    h.update_reader(file).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_call_reads_the_cache_and_options_change_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("a.wav");
        std::fs::write(&audio, b"not really audio").unwrap();
        let cache = FeatureCache::new(dir.path().join("cache"));
        let x = ndarray::array![[1.0f32, 2.0]];
        let got = cache
            .get_or_compute(&audio, "h1", || Ok(x.clone()))
            .unwrap();
        assert_eq!(got, x);
        let again = cache
            .get_or_compute(&audio, "h1", || panic!("must come from the cache"))
            .unwrap();
        assert_eq!(again, x);
        let other = cache
            .get_or_compute(&audio, "h2", || Ok(ndarray::array![[3.0f32]]))
            .unwrap();
        assert_eq!(other, ndarray::array![[3.0f32]]);
    }

    #[test]
    fn audio_replaced_with_the_same_size_and_time_is_recomputed() {
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("a.wav");
        std::fs::write(&audio, b"first version!").unwrap();
        let mtime = std::fs::metadata(&audio).unwrap().modified().unwrap();
        let cache = FeatureCache::new(dir.path().join("cache"));
        let first = ndarray::array![[1.0f32]];
        cache
            .get_or_compute(&audio, "h", || Ok(first.clone()))
            .unwrap();
        // Same length, same modification time (what `cp -p` leaves), other bytes.
        std::fs::write(&audio, b"second version").unwrap();
        let f = std::fs::File::options().write(true).open(&audio).unwrap();
        f.set_modified(mtime).unwrap();
        let second = ndarray::array![[2.0f32]];
        let got = cache
            .get_or_compute(&audio, "h", || Ok(second.clone()))
            .unwrap();
        assert_eq!(got, second);
        // The same bytes elsewhere share the entry.
        let copy = dir.path().join("b.wav");
        std::fs::copy(&audio, &copy).unwrap();
        let got = cache
            .get_or_compute(&copy, "h", || panic!("same bytes: from the cache"))
            .unwrap();
        assert_eq!(got, second);
    }
}
