//! The features of one audio file computed as it is read: the file is read a chunk at a time
//! ([`audio::stream`]), the chunks go through the online extractor ([`OnlineFeatures`], whose
//! frames are the offline chain's bit for bit), and post-processing runs on the frames as they
//! come, so a long recording is never held whole, nor its features: they are handed on in
//! blocks as soon as they are final. The bytes are those of the offline path
//! ([`Extractor::chain_file`] then [`Extractor::post_one`]):
//!
//! - CMVN over the utterance needs its statistics before the first frame can be normalised:
//!   the file is read twice, the first pass only accumulating the statistics (row by row in
//!   frame order, as the offline accumulation adds them, so the sums are the same). Pooled
//!   statistics (a trained model's) are known beforehand and need one pass. Normalisation works
//!   row by row, so blocks of rows get the offline values.
//! - Deltas and splicing look `order x window` and `context` frames to each side, clamped at the
//!   utterance's edges. Frames are held back until that many later frames have come (a bounded
//!   lookahead), and that many earlier ones are kept; each block is computed on a window that
//!   reaches its true neighbours, so no frame it hands on sees a clamp the offline path does not.
//!
//! Files that cannot stream are read whole as before: a rate other than the pipeline's
//! (resampling needs the whole signal), a header [`audio::probe`] cannot read (a FLAC stream
//! that does not declare its length, a SPHERE header beyond 64 KiB). Errors are the offline
//! path's, word for word: when streaming fails, the file is read again whole to report it.

use std::path::Path;
use std::sync::mpsc;

use ndarray::{ArrayView2, s};

use crate::audio::{self, Info};
use crate::error::{Error, Result};
use crate::frontend::cmvn::CmvnStats;
use crate::frontend::splice::splice;
use crate::pipeline::extractor::{CmvnSource, Extractor};
use crate::pipeline::online::OnlineFeatures;

/// Samples read per chunk (32 s at 16 kHz): big enough that its frames keep every thread busy,
/// small enough that a chunk's blocks of frames take a few megabytes.
pub const CHUNK_SAMPLES: usize = 1 << 19;

/// Fewest new frames post-processing waits for before it computes a block (when frames arrive
/// in small pieces; the last block may be smaller).
const POST_BLOCK: usize = 1024;

impl Extractor {
    /// The header of `path` when its features can be computed as it is read (see the module
    /// documentation); `None` when it must be read whole.
    pub fn stream_info(&self, path: &Path) -> Option<Info> {
        audio::probe(path)
            .ok()
            .filter(|i| i.sample_rate == self.pipeline.sample_rate && i.frames > 0)
    }

    /// Frames the features of a file with header `info` have (the chain's count; post-processing
    /// keeps it).
    pub fn frames_of(&self, info: &Info) -> usize {
        let samples = match info.sample_rate {
            r if r > 0 && r != self.pipeline.sample_rate && self.pipeline.resample => {
                audio::resampled_len(info.frames, r, self.pipeline.sample_rate)
            }
            _ => info.frames,
        };
        let samples = usize::try_from(samples).unwrap_or(usize::MAX);
        self.frontend.framing.geometry.num_frames(samples)
    }

    /// Bytes that [`stream_file`](Self::stream_file) holds at once for a file with header
    /// `info` (which must stream, [`stream_info`](Self::stream_info)): a chunk of the file's
    /// bytes (8 per sample and channel, the widest encoding) and of its samples, the two chunks
    /// that travel between the reader and the computation, the online extractor's samples, a
    /// chunk's frames in two blocks of the widest stage (a stage's input and output) and as
    /// chain output, and post-processing's window and its output. The
    /// features themselves are handed on, not held. In `f64`, like
    /// [`file_memory`](Self::file_memory).
    pub fn stream_memory(&self, info: &Info) -> f64 {
        let g = &self.frontend.framing.geometry;
        let chunk = (info.frames as f64).min(CHUNK_SAMPLES as f64);
        let frames = (chunk / g.shift as f64).ceil() + 1.0;
        let widest = self.widest() as f64;
        let post = &self.pipeline.post;
        let window = frames.max(POST_BLOCK as f64) + 2.0 * self.halo() as f64;
        let widened = post.deltas.order > 0 || post.splice.context > 0;
        let post_f32s = match widened {
            true => window * (self.chain_dim() + 2 * self.dim()) as f64,
            false => 0.0,
        };
        let f32s = 4.0 * chunk
            + (chunk + g.length as f64)
            + frames * (2.0 * widest + self.chain_dim() as f64)
            + post_f32s;
        8.0 * chunk * info.channels as f64 + 4.0 * f32s
    }

    /// Frames that post-processing looks at on each side of a frame: the deltas' reach plus the
    /// splicing context.
    fn halo(&self) -> usize {
        let post = &self.pipeline.post;
        post.deltas.order * post.deltas.window + post.splice.context
    }

    /// The features of the file `path` (dither seeded by its name, as
    /// [`chain_file`](Self::chain_file)), post-processed with the extractor's stored global
    /// statistics where it holds them, handed to `emit` in blocks of whole rows, in order, as
    /// they are ready; returns the frames. The rows are those of
    /// [`chain_file`](Self::chain_file) then [`post_one`](Self::post_one), bit for bit.
    pub fn stream_file(
        &self,
        path: &Path,
        emit: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<usize> {
        let name = path.to_string_lossy();
        let pooled = self.global_cmvn.as_ref();
        // A refused CMVN mode is reported by the offline path, after any error of the file's.
        let source = match self.cmvn_source(pooled, self.chain_dim()) {
            Ok(source) if self.stream_info(path).is_some() => source,
            _ => return self.whole_file(path, emit),
        };
        // Whether an error came from `emit` (reported as it is) or from reading and computing.
        let (mut emitted, mut emit_failed) = (false, false);
        let streamed = (|| {
            let stats = match source {
                CmvnSource::None => None,
                CmvnSource::Pooled(st) => Some(st.clone()),
                CmvnSource::Utterance => {
                    let mut st = CmvnStats::new(self.chain_dim());
                    self.stream_chain(path, &name, &mut |rows| {
                        let view =
                            ArrayView2::from_shape((rows.len() / st.sum.len(), st.sum.len()), rows)
                                .expect("whole rows");
                        st.accumulate(view);
                        Ok(())
                    })?;
                    Some(st)
                }
            };
            let mut post = PostStream::new(self, stats);
            let mut out = |rows: &[f32]| {
                emitted = true;
                emit(rows).inspect_err(|_| emit_failed = true)
            };
            let frames = self.stream_chain(path, &name, &mut |rows| post.push(rows, &mut out))?;
            post.finish(&mut out)?;
            Ok(frames)
        })();
        match streamed {
            Ok(frames) => Ok(frames),
            Err(e) if emit_failed => Err(e),
            // Read it whole, for the offline path's own error; a file that streaming refused
            // but the offline path reads (nothing handed on yet) gives its features from there.
            Err(e) => match self.offline(path) {
                Err(offline) => Err(offline),
                Ok(x) if !emitted => {
                    emit(x.as_slice().expect("standard layout"))?;
                    Ok(x.nrows())
                }
                Ok(_) => Err(e.in_file(path)),
            },
        }
    }

    /// The offline path: the file read whole, the chain, post-processing.
    fn offline(&self, path: &Path) -> Result<ndarray::Array2<f32>> {
        let x = self.chain_file(path)?;
        self.post_one(x, self.global_cmvn.as_ref())
            .map(|x| x.as_standard_layout().into_owned())
    }

    /// [`stream_file`](Self::stream_file) for a file that must be read whole.
    fn whole_file(&self, path: &Path, emit: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<usize> {
        let x = self.offline(path)?;
        emit(x.as_slice().expect("standard layout"))?;
        Ok(x.nrows())
    }

    /// Run the chain over the file as it is read, handing its frames to `each` as the online
    /// extractor makes them; returns the frames. No frames (a file shorter than one frame) is an
    /// error, as offline.
    fn stream_chain(
        &self,
        path: &Path,
        name: &str,
        each: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<usize> {
        let mut online =
            OnlineFeatures::new(&self.pipeline.without_post(), self.utterance_seed(name))?;
        let rate = self.pipeline.sample_rate;
        let mut taken = 0;
        let mut drain = |online: &mut OnlineFeatures| -> Result<()> {
            let ready = online.num_frames_ready();
            if ready > taken {
                each(
                    online
                        .get_frames(taken, ready - taken)?
                        .as_slice()
                        .expect("rows"),
                )?;
                online.pop(ready - taken)?;
                taken = ready;
            }
            Ok(())
        };
        let channel = self.read_options().channel;
        std::thread::scope(|scope| {
            // The file is read and decoded a chunk ahead, on a thread of its own, while the
            // chain computes the chunk before. The hand-over waits for the chain to take the
            // chunk (a channel without room), so two chunk buffers travel between the two, as
            // `stream_memory` counts.
            let (full_tx, full_rx) = mpsc::sync_channel::<Vec<f32>>(0);
            let (empty_tx, empty_rx) = mpsc::channel::<Vec<f32>>();
            let reader = scope.spawn(move || {
                audio::stream(path, channel, CHUNK_SAMPLES, &mut |samples| {
                    let mut chunk = empty_rx.try_recv().unwrap_or_default();
                    chunk.clear();
                    chunk.extend_from_slice(samples);
                    // Refused only when the computation stopped, with its own error.
                    full_tx
                        .send(chunk)
                        .map_err(|_| Error::invalid("feature computation stopped"))
                })
            });
            let computed = full_rx.iter().try_for_each(|chunk| {
                online.accept_waveform(rate, &chunk)?;
                drain(&mut online)?;
                // The reader may have finished: the buffer is then not needed.
                let _ = empty_tx.send(chunk);
                Ok(())
            });
            // The reader stops at its next chunk once nobody receives.
            drop(full_rx);
            let read = reader
                .join()
                .unwrap_or_else(|_| Err(Error::invalid("the audio reader panicked")));
            computed.and(read)
        })?;
        online.input_finished()?;
        drain(&mut online)?;
        match online.num_frames_ready() {
            0 => Err(Error::format(path, "no frames (shorter than one frame)")),
            n => Ok(n),
        }
    }
}

/// Post-processing over frames that arrive in order (see the module documentation): CMVN with
/// known statistics, deltas and splicing with a bounded lookahead.
struct PostStream<'a> {
    extractor: &'a Extractor,
    cmvn: Option<CmvnStats>,
    /// Chain width.
    dim: usize,
    /// Frames each side that deltas and splicing look at.
    halo: usize,
    /// Normalised chain frames from frame `first` on, row-major.
    kept: Vec<f32>,
    first: usize,
    /// Frames received, and handed on.
    received: usize,
    emitted: usize,
}

impl<'a> PostStream<'a> {
    fn new(extractor: &'a Extractor, cmvn: Option<CmvnStats>) -> Self {
        PostStream {
            extractor,
            cmvn,
            dim: extractor.chain_dim(),
            halo: extractor.halo(),
            kept: Vec::new(),
            first: 0,
            received: 0,
            emitted: 0,
        }
    }

    fn widens(&self) -> bool {
        let post = &self.extractor.pipeline.post;
        post.deltas.order > 0 || post.splice.context > 0
    }

    /// Take the next chain frames; hand on the frames that are final.
    fn push(&mut self, rows: &[f32], emit: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<()> {
        let n = rows.len() / self.dim;
        let at = self.kept.len();
        self.kept.extend_from_slice(rows);
        self.received += n;
        if let Some(st) = &self.cmvn {
            let mut fresh = ndarray::ArrayViewMut2::from_shape((n, self.dim), &mut self.kept[at..])
                .expect("whole rows");
            st.apply(&mut fresh, self.extractor.pipeline.post.cmvn.norm_vars);
        }
        if !self.widens() {
            emit(&self.kept)?;
            self.emitted = self.received;
            self.kept.clear();
            self.first = self.received;
            return Ok(());
        }
        let upto = self.received.saturating_sub(self.halo);
        if upto >= self.emitted + POST_BLOCK {
            self.emit_until(upto, emit)?;
        }
        Ok(())
    }

    /// The utterance is complete: hand on the frames held back.
    fn finish(&mut self, emit: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<()> {
        if self.widens() && self.emitted < self.received {
            self.emit_until(self.received, emit)?;
        }
        Ok(())
    }

    /// Deltas and splicing of frames `emitted..upto`, computed on the kept frames from `halo`
    /// before them to the last received: every frame handed on reaches only frames inside that
    /// window, or the utterance's true edges (`upto` is the last frame only at the end).
    fn emit_until(
        &mut self,
        upto: usize,
        emit: &mut dyn FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let from = self.emitted.saturating_sub(self.halo).max(self.first);
        let window = ArrayView2::from_shape(
            (self.received - from, self.dim),
            &self.kept[(from - self.first) * self.dim..],
        )
        .expect("whole rows");
        let post = &self.extractor.pipeline.post;
        let mut y = match post.deltas.order {
            0 => window.to_owned(),
            _ => self.extractor.deltas.apply(window),
        };
        if post.splice.context > 0 {
            y = splice(y.view(), post.splice.context);
        }
        let out = y.slice(s![self.emitted - from..upto - from, ..]);
        emit(
            out.as_standard_layout()
                .as_slice()
                .expect("standard layout"),
        )?;
        self.emitted = upto;
        // Frames before `upto - halo` are no later frame's neighbours.
        let keep_from = upto.saturating_sub(self.halo).max(self.first);
        self.kept.drain(..(keep_from - self.first) * self.dim);
        self.first = keep_from;
        Ok(())
    }
}
