//! Streaming features: audio arrives in chunks, frames come out as soon as the samples they cover
//! have arrived. The semantics are those of Kaldi's `OnlineGenericBaseFeature` as
//! kaldi-native-fbank exposes it (`AcceptWaveform`, `InputFinished`, `NumFramesReady`,
//! `GetFrame`, `Pop`), and the frames are the offline chain's, bit for bit, for any chunking:
//! framing and every stage run the same code on blocks of frames, and dither draws from one
//! generator frame after frame, as offline.
//!
//! Only the chain streams. Post-processing is refused rather than silently dropped: CMVN needs
//! the statistics of the whole utterance (or speaker, or training set) before the first frame can
//! be normalised, and a stream that returned frames of another width than the pipeline's would
//! be wrong without saying so.

use ndarray::{ArrayView2, ArrayViewMut2};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frontend::framing::{FrameGeometry, Framing, first_non_finite_sample};
use crate::frontend::{Frontend, Work, first_non_finite};
use crate::pipeline::Pipeline;

/// Feature extraction over a stream of audio chunks (one utterance per instance).
#[derive(Debug)]
pub struct OnlineFeatures {
    frontend: Frontend,
    /// Samples a frame still to come may need: the stream's samples from `offset` on.
    buffer: Vec<f32>,
    offset: usize,
    /// Samples accepted so far.
    total: usize,
    finished: bool,
    /// The error that broke the stream, repeated by every later call.
    broken: Option<String>,
    rng: ChaCha8Rng,
    /// The chain's working buffers, one per thread that computes frames.
    works: Vec<Work>,
    /// Frames computed and not popped, row-major, from frame `first` on.
    frames: Vec<f32>,
    first: usize,
    /// Frames computed so far (popped ones included): `NumFramesReady`.
    ready: usize,
}

impl OnlineFeatures {
    /// A stream through `pipeline`'s chain; `seed` drives the dither as in
    /// [`Frontend::compute`] (use [`Extractor::utterance_seed`] for the offline extractor's seed
    /// of a named utterance). A pipeline with post-processing is refused.
    ///
    /// [`Extractor::utterance_seed`]: crate::pipeline::extractor::Extractor::utterance_seed
    pub fn new(pipeline: &Pipeline, seed: u64) -> Result<Self> {
        let steps = pipeline.post_steps();
        if !steps.is_empty() {
            return Err(Error::format(
                pipeline.path(),
                format!(
                    "the pipeline post-processes its frames ({}), which cannot stream (CMVN \
                     needs the whole utterance first); stream the chain without `post:` and \
                     post-process the frames when the utterance is complete",
                    steps.join(", ")
                ),
            ));
        }
        Ok(OnlineFeatures {
            frontend: pipeline.frontend()?,
            buffer: Vec::new(),
            offset: 0,
            total: 0,
            finished: false,
            broken: None,
            rng: Framing::dither_rng(seed),
            works: Vec::new(),
            frames: Vec::new(),
            first: 0,
            ready: 0,
        })
    }

    /// Width of each frame.
    pub fn dim(&self) -> usize {
        self.frontend.dim()
    }

    /// The rate the chunks must be at.
    pub fn sample_rate(&self) -> u32 {
        self.frontend.framing.sample_rate
    }

    /// Frame shift in seconds.
    pub fn frame_shift_secs(&self) -> f64 {
        self.geometry().shift as f64 / self.sample_rate() as f64
    }

    fn geometry(&self) -> FrameGeometry {
        self.frontend.framing.geometry
    }

    /// Append a chunk of samples (16-bit scale, as offline) and compute the frames it completes.
    /// Chunks at another rate, non-finite samples and chunks after [`input_finished`] are errors
    /// that leave the stream as it was.
    ///
    /// [`input_finished`]: Self::input_finished
    pub fn accept_waveform(&mut self, sample_rate: u32, samples: &[f32]) -> Result<()> {
        self.check_usable()?;
        if self.finished {
            return Err(Error::invalid(
                "accept_waveform after input_finished: the stream is complete; start a new one \
                 for the next utterance",
            ));
        }
        if sample_rate != self.sample_rate() {
            return Err(Error::invalid(format!(
                "audio is {sample_rate} Hz but the pipeline expects {} Hz",
                self.sample_rate()
            )));
        }
        if let Some(i) = first_non_finite_sample(samples) {
            return Err(Error::invalid(format!(
                "audio sample {} is {}; samples must be finite",
                self.total + i,
                samples[i]
            )));
        }
        self.buffer.extend_from_slice(samples);
        self.total += samples.len();
        self.compute(false)
    }

    /// No more audio: compute the last frames (with `snip_edges: false`, those that reach past
    /// the end and reflect it). Calling it again does nothing.
    pub fn input_finished(&mut self) -> Result<()> {
        self.check_usable()?;
        if !self.finished {
            self.finished = true;
            self.compute(true)?;
            self.buffer = Vec::new();
        }
        Ok(())
    }

    /// Whether [`input_finished`](Self::input_finished) was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Frames computed so far, popped ones included (frame indices never shift).
    pub fn num_frames_ready(&self) -> usize {
        self.ready
    }

    /// Whether `frame` is the stream's last (only once the input is finished).
    pub fn is_last_frame(&self, frame: usize) -> bool {
        self.finished && frame + 1 == self.ready
    }

    /// Frames `start .. start + count`, one row each: they must be ready and not popped.
    pub fn get_frames(&self, start: usize, count: usize) -> Result<ArrayView2<'_, f32>> {
        self.check_usable()?;
        let end = start.saturating_add(count);
        if start < self.first || end > self.ready {
            let popped = match self.first {
                0 => String::new(),
                f => format!(", frames before {f} were popped"),
            };
            return Err(Error::invalid(format!(
                "frames {start}..{end} requested but frames {}..{} are available ({} ready{popped})",
                self.first, self.ready, self.ready
            )));
        }
        let dim = self.dim();
        let rows = &self.frames[(start - self.first) * dim..(end - self.first) * dim];
        Ok(ArrayView2::from_shape((count, dim), rows).expect("rows of `dim` values"))
    }

    /// Discard the oldest `n` frames still kept (kaldi-native-fbank's `Pop`), so a long stream
    /// holds only the frames not yet consumed; more than are kept is an error.
    pub fn pop(&mut self, n: usize) -> Result<()> {
        self.check_usable()?;
        let kept = self.ready - self.first;
        if n > kept {
            return Err(Error::invalid(format!(
                "cannot pop {n} frames: {kept} are kept (frames {}..{})",
                self.first, self.ready
            )));
        }
        self.frames.drain(..n * self.dim());
        self.first += n;
        Ok(())
    }

    fn check_usable(&self) -> Result<()> {
        match &self.broken {
            None => Ok(()),
            Some(e) => Err(Error::invalid(format!("the stream failed earlier: {e}"))),
        }
    }

    /// Compute every frame the samples so far complete (all of them when `flush`), then drop
    /// the samples no later frame needs.
    fn compute(&mut self, flush: bool) -> Result<()> {
        let g = self.geometry();
        let ready = frames_ready(&g, self.total, flush);
        if ready > self.ready
            && let Err(e) = self.compute_frames(ready)
        {
            self.broken = Some(e.to_string());
            return Err(e);
        }
        // Frames never start before the next frame's first sample (reflections at the start are
        // of samples the buffer still holds; at the end they stay at or after the last frame's
        // start, as a frame's centre is inside the signal).
        let next = g.first_sample(self.ready).max(0) as usize;
        let drop = next.saturating_sub(self.offset).min(self.buffer.len());
        self.buffer.drain(..drop);
        self.offset += drop;
        Ok(())
    }

    /// Compute frames `self.ready..ready` and append them, through the chain's buffers kept
    /// in `self.works` (one per thread), straight into the rows kept. Without dither every
    /// frame depends on its own samples only, so a long run of frames is split into parts
    /// computed in parallel (rayon), with rows identical to one part's; with dither the frames
    /// draw from one generator in order, so they are computed in one part.
    fn compute_frames(&mut self, ready: usize) -> Result<()> {
        let range = self.ready..ready;
        let dim = self.dim();
        let threads = rayon::current_num_threads();
        let parallel = self.frontend.framing.opts.dither == 0.0
            && threads > 1
            && range.len() >= 2 * PARALLEL_MIN_FRAMES;
        let step = match parallel {
            true => range.len().div_ceil(threads).max(PARALLEL_MIN_FRAMES),
            false => range.len(),
        };
        let parts = range.len().div_ceil(step);
        while self.works.len() < parts {
            self.works.push(self.frontend.work());
        }
        let at = self.frames.len();
        self.frames.resize(at + range.len() * dim, 0.0);
        let (fe, buffer, offset, total) = (&self.frontend, &self.buffer, self.offset, self.total);
        let out = &mut self.frames[at..];
        let part = |p: usize, rows: &mut [f32], work: &mut Work, rng: &mut ChaCha8Rng| {
            let start = range.start + p * step;
            let n = rows.len() / dim;
            let rows = ArrayViewMut2::from_shape((n, dim), rows).expect("whole rows");
            fe.frames_into(
                buffer,
                offset,
                total,
                start..start + n,
                rng,
                rows,
                None,
                work,
            )
        };
        let done = if parallel {
            out.par_chunks_mut(step * dim)
                .zip(self.works.par_iter_mut())
                .enumerate()
                // Not drawn from: there is no dither.
                .map(|(p, (rows, work))| part(p, rows, work, &mut Framing::dither_rng(0)))
                .collect::<Result<()>>()
        } else {
            part(0, out, &mut self.works[0], &mut self.rng)
        };
        let fresh = ArrayView2::from_shape((range.len(), dim), &self.frames[at..]);
        let non_finite = first_non_finite(fresh.expect("whole rows"));
        if let Err(e) = done {
            self.frames.truncate(at);
            return Err(e);
        }
        if let Some((f, c)) = non_finite {
            let value = self.frames[at + f * dim + c];
            self.frames.truncate(at);
            return Err(Error::invalid(format!(
                "non-finite features: frame {} of the `{}` output is {value} (column {c})",
                range.start + f,
                self.frontend.output_kind(),
            )));
        }
        self.ready = ready;
        Ok(())
    }
}

/// Fewest frames in a block computed on its own thread: below this the threads' start costs
/// more than they save.
const PARALLEL_MIN_FRAMES: usize = 256;

/// Frames computable from the first `n` samples (Kaldi's `NumFrames` with `flush`): without
/// `snip_edges`, before the end is known only frames that end inside the samples seen.
fn frames_ready(g: &FrameGeometry, n: usize, flush: bool) -> usize {
    let mut k = g.num_frames(n);
    if g.snip_edges || flush {
        return k;
    }
    while k > 0 && g.first_sample(k - 1) + g.length as i64 > n as i64 {
        k -= 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::audio::Waveform;

    fn pipeline(waveform: &str, tail: &str) -> Pipeline {
        let yaml = format!(
            "sample_rate: 16000\nstages:\n  - waveform: {{ {waveform} }}\n  - dft: {{}}\n  \
             - spectrogram: {{}}\n{tail}"
        );
        Pipeline::parse(&yaml, Path::new("online-test.yaml")).unwrap()
    }

    /// Chains that cover every stage, both edge modes, dither and both energies.
    fn chains() -> Vec<Pipeline> {
        let mfcc = "  - filterbank: {}\n  - log: {}\n  - dct: { use_energy: true }\n";
        let fbank =
            "  - filterbank: { num_bins: 40 }\n  - log: { use_energy: true, raw_energy: false }\n";
        let mut out = Vec::new();
        for snip in ["true", "false"] {
            out.push(pipeline(&format!("snip_edges: {snip}"), mfcc));
            out.push(pipeline(&format!("snip_edges: {snip}, dither: 1.0"), fbank));
            out.push(pipeline(
                &format!("snip_edges: {snip}, frame_shift_ms: 30"),
                "",
            ));
        }
        out
    }

    /// Seeded speech-like test signal: two tones and noise, in 16-bit scale.
    fn signal(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let t = i as f32 / 16000.0;
                3000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                    + 800.0 * (2.0 * std::f32::consts::PI * 2500.0 * t).sin()
                    + rng.random_range(-300.0..300.0)
            })
            .collect()
    }

    /// Stream `x` in chunks drawn by `next_len`, reading frames as they come (and popping some),
    /// and return every frame.
    fn stream(p: &Pipeline, x: &[f32], mut next_len: impl FnMut() -> usize) -> Array2<f32> {
        let mut s = OnlineFeatures::new(p, 7).unwrap();
        let mut rows = Vec::new();
        let mut taken = 0;
        let mut at = 0;
        while at < x.len() {
            let end = (at + next_len()).min(x.len());
            s.accept_waveform(16000, &x[at..end]).unwrap();
            at = end;
            let ready = s.num_frames_ready();
            rows.extend(s.get_frames(taken, ready - taken).unwrap().iter().copied());
            s.pop(ready - taken).unwrap();
            taken = ready;
        }
        s.input_finished().unwrap();
        let ready = s.num_frames_ready();
        rows.extend(s.get_frames(taken, ready - taken).unwrap().iter().copied());
        Array2::from_shape_vec((ready, s.dim()), rows).unwrap()
    }

    #[test]
    fn streamed_frames_equal_offline_frames_for_any_chunking() {
        let x = signal(16000 + 4321, 1);
        let wav = Waveform {
            samples: x.clone(),
            sample_rate: 16000,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        for p in chains() {
            let offline = p.frontend().unwrap().compute(&wav, 7).unwrap().data;
            assert_eq!(stream(&p, &x, || x.len()), offline, "one chunk");
            assert_eq!(stream(&p, &x, || 1), offline, "chunks of one sample");
            for max in [7, 160, 401, 5000] {
                let got = stream(&p, &x, || rng.random_range(0..=max));
                assert_eq!(got, offline, "random chunks up to {max}");
            }
        }
    }

    /// The bits of every value and energy, so that -0.0 and 0.0 differ.
    fn bits(f: &crate::frontend::Frames) -> (Vec<u32>, Option<Vec<u32>>) {
        let energy = f
            .log_energy
            .as_ref()
            .map(|e| e.iter().map(|v| v.to_bits()).collect());
        (f.data.iter().map(|v| v.to_bits()).collect(), energy)
    }

    #[test]
    fn a_chain_reused_across_utterances_gives_the_frames_of_fresh_chains_bit_for_bit() {
        use crate::frontend::BLOCK_FRAMES;
        // One frame, part of a block, a block and a frame, many blocks, enough frames for the
        // stream's parts in parallel, and short ones again after the long ones.
        let lengths = [
            480,
            16000 + 4321,
            400 + 160 * BLOCK_FRAMES,
            160 * 700 + 77,
            5000,
            401,
        ];
        for p in chains() {
            let reused = p.frontend().unwrap();
            for (k, &n) in lengths.iter().enumerate() {
                let x = signal(n, k as u64);
                let wav = Waveform {
                    samples: x.clone(),
                    sample_rate: 16000,
                };
                let fresh = p.frontend().unwrap().compute(&wav, 7).unwrap();
                let again = reused.compute(&wav, 7).unwrap();
                assert_eq!(bits(&again), bits(&fresh), "{n} samples");
                // The stages one at a time on the whole utterance (no blocks, no fused DFT).
                let mut one_by_one = reused.framing.process(&wav, 7).unwrap();
                for stage in &reused.stages {
                    one_by_one = stage.process(one_by_one);
                }
                assert_eq!(
                    bits(&one_by_one),
                    bits(&fresh),
                    "{n} samples, stage by stage"
                );
                let streamed = stream(&p, &x, || 40000);
                let rows: Vec<u32> = streamed.iter().map(|v| v.to_bits()).collect();
                assert_eq!(rows, bits(&fresh).0, "{n} samples streamed");
            }
        }
    }

    #[test]
    fn short_signals_stream_like_offline() {
        // Shorter than a frame: snip_edges gives no frame (offline: an error), reflection gives
        // one frame made of repeated reflections.
        for n in [1, 100, 399, 400, 401, 480] {
            let x = signal(n, 3);
            let wav = Waveform {
                samples: x.clone(),
                sample_rate: 16000,
            };
            for p in chains() {
                let offline = p.frontend().unwrap().compute(&wav, 7);
                let got = stream(&p, &x, || 37);
                match offline {
                    Ok(f) => assert_eq!(got, f.data, "{n} samples"),
                    Err(_) => assert_eq!(got.nrows(), 0, "{n} samples"),
                }
            }
        }
    }

    #[test]
    fn frames_come_out_as_soon_as_their_samples_arrived() {
        let p = &chains()[0]; // snip_edges: 400-sample frames every 160
        let mut s = OnlineFeatures::new(p, 0).unwrap();
        s.accept_waveform(16000, &signal(399, 0)).unwrap();
        assert_eq!(s.num_frames_ready(), 0);
        s.accept_waveform(16000, &signal(1, 0)).unwrap();
        assert_eq!(s.num_frames_ready(), 1);
        s.accept_waveform(16000, &signal(320, 0)).unwrap();
        assert_eq!(s.num_frames_ready(), 3);
        // The buffer keeps only what frame 3 on needs: samples from 480.
        assert_eq!((s.offset, s.buffer.len()), (480, 240));
        s.input_finished().unwrap();
        assert!(s.is_last_frame(2) && !s.is_last_frame(1));
        // Without snip_edges, the frames that reflect the end wait for input_finished.
        let mut s = OnlineFeatures::new(&chains()[3], 0).unwrap();
        s.accept_waveform(16000, &signal(720, 0)).unwrap();
        // Frame k covers samples 160k - 120 .. 160k + 280: frames 0..=2 end inside 720.
        assert_eq!(s.num_frames_ready(), 3);
        s.input_finished().unwrap();
        assert_eq!(s.num_frames_ready(), 5); // (720 + 80) / 160
    }

    #[test]
    fn misuse_is_an_error_that_says_what_was_wrong() {
        let p = &chains()[0];
        let mut s = OnlineFeatures::new(p, 0).unwrap();
        let e = s.accept_waveform(8000, &[0.0; 10]).unwrap_err().to_string();
        assert_eq!(e, "audio is 8000 Hz but the pipeline expects 16000 Hz");
        s.accept_waveform(16000, &signal(500, 0)).unwrap();
        let e = s
            .accept_waveform(16000, &[1.0, f32::NAN])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "audio sample 501 is NaN; samples must be finite");
        assert_eq!(s.num_frames_ready(), 1, "a refused chunk changes nothing");
        let e = s.get_frames(0, 2).unwrap_err().to_string();
        assert_eq!(
            e,
            "frames 0..2 requested but frames 0..1 are available (1 ready)"
        );
        s.pop(1).unwrap();
        let e = s.get_frames(0, 1).unwrap_err().to_string();
        assert_eq!(
            e,
            "frames 0..1 requested but frames 1..1 are available (1 ready, frames before 1 were popped)"
        );
        let e = s.pop(1).unwrap_err().to_string();
        assert_eq!(e, "cannot pop 1 frames: 0 are kept (frames 1..1)");
        s.input_finished().unwrap();
        s.input_finished().unwrap();
        let e = s.accept_waveform(16000, &[0.0]).unwrap_err().to_string();
        assert!(e.starts_with("accept_waveform after input_finished"), "{e}");
        // Post-processing is refused, naming the steps.
        let mut p = p.clone();
        p.post.deltas.order = 2;
        p.post.cmvn.mode = crate::frontend::cmvn::CmvnMode::Utterance;
        let e = OnlineFeatures::new(&p, 0).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "online-test.yaml: the pipeline post-processes its frames (cmvn: utterance, \
                 deltas: order 2), which cannot stream"
            ),
            "{e}"
        );
        assert!(OnlineFeatures::new(&p.without_post(), 0).is_ok());
    }

    #[test]
    fn overflowing_frames_break_the_stream_with_the_frame_named() {
        let p = pipeline("snip_edges: true", "");
        let mut s = OnlineFeatures::new(&p, 0).unwrap();
        let loud: Vec<f32> = (0..400)
            .map(|i| if i % 2 == 0 { 1e30 } else { -1e30 })
            .collect();
        let e = s.accept_waveform(16000, &loud).unwrap_err().to_string();
        assert_eq!(
            e,
            "non-finite features: frame 0 of the `spectrogram` output is inf (column 1)"
        );
        assert_eq!(s.num_frames_ready(), 0);
        let e = s.input_finished().unwrap_err().to_string();
        assert!(
            e.starts_with("the stream failed earlier: non-finite"),
            "{e}"
        );
    }
}
