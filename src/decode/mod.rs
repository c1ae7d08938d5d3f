//! Decoding, alignment and scoring over the tied states: the HMM algorithms a training layer
//! calls with per-utterance score matrices (frames x tied states, from
//! [`crate::model::Classifier::log_scores`]).
//!
//! # Files
//!
//! - `graph.rs`: the search graph (emitting HMM-state nodes reading one tied state each,
//!   non-emitting phone boundaries); `search.rs`: the time-synchronous Viterbi beam search over it
//!   with max-active pruning and compact traceback records; `path.rs`: the best path as frames
//!   ([`FrameState`]) and phone spans ([`PhoneSpan`]).
//! - `phone_loop.rs`: phone recognition, [`PhoneLoop`] (graph over all phones with the bigram LM,
//!   right contexts hypothesised on entry) and [`DecodeConfig`].
//! - `align.rs`: forced alignment, [`Aligner`] (beam + retry, optional silence) and [`AlignConfig`];
//!   `equal.rs`: the equal-spaced alignment a flat start begins from ([`equal_align`]);
//!   `forward_backward.rs`: state posteriors over all of a transcript's paths
//!   ([`Aligner::occupancy`], Baum-Welch training).
//! - `lm.rs`: the phone bigram ([`PhoneBigram`], interpolated Witten-Bell).
//! - `scores.rs`: hybrid DNN scores from log posteriors and state priors ([`hybrid_scores`]).
//! - `transcript.rs`: 61-set segments -> the 48-set sequence (`q` deleted) that is aligned,
//!   trained on and scored against.
//! - `tune.rs`: the grid of acoustic scales and insertion penalties every scored model is also
//!   decoded with ([`TuneConfig`]), chosen on dev (or, without dev speakers, best on test, labelled).
//! - `per.rs`: phone error rate (fold to 39, Levenshtein, S/D/I); `boundaries.rs`: agreement of
//!   automatic with hand boundaries; `phn.rs`: frames -> samples and `.phn` writing.
//!
//! The model side (topology, dense context table, transition probabilities) is
//! [`crate::model::hmm`].
//!
//! # How a training layer calls it
//!
//! ```text
//! let set = PhoneSet::timit();
//! let topo = hmm_cfg.topology(set.p48.len(), set.silence48())?;          // 3 states per phone
//! let ctx = ContextTable::from_tying(&targets.tying, &set.p48, &topo)?;   // once per tying
//! let mut trans = Transitions::from_config(set.p48.names(), &topo, &hmm_cfg)?;
//!
//! // Transcripts (48-set, q deleted) and the LM:
//! let seq = phones48(&utt.phones, set, &utt.phone_file)?;
//! let lm = PhoneBigram::estimate(set.p48.names(), train_seqs.iter().map(|s| s.as_slice()))?;
//!
//! // Flat start: equal alignment, then align / re-estimate in a loop (rayon over utterances,
//! // one SearchScratch per thread; counts merged with TransitionCounts::merge).
//! let ali = equal_align(&ctx, &seq, num_frames).map_err(AlignError::into_error)?;
//! let targets_per_frame = ali.leaves();                       // for GMM / DNN training
//! let aligner = Aligner::new(&ctx, &trans, &AlignConfig::default())?;
//! match aligner.align_phones(&seq, scores.view()) {
//!     Ok(ali) => ali.count_transitions(&mut counts)?,        // counts = trans.counts()
//!     Err(why) => skipped.push((utt.id.clone(), why)),       // TooFewFrames, NoPath, ...
//! }
//! trans.update_with(&counts, &hmm_cfg)?;
//! // From hand labels instead: counts.add_segment(phone, &states_of_the_segment_frames).
//!
//! // Recognition and PER:
//! let priors = log_priors(&targets.train_counts, PRIOR_FLOOR)?;
//! let scores = hybrid_scores(log_post.view(), &priors, decode_cfg.prior_scale)?; // DNN only
//! let graph = PhoneLoop::build(&ctx, &trans, &lm, &decode_cfg)?;   // once per model + options
//! let hyp = graph.decode(scores.view())?;
//! report.add(&utt.id, score_phones(&seq, &hyp.phone_ids(), set));  // report.per()
//!
//! // Alignment quality and output:
//! boundaries.add(&utt.phones, set, &ali.phones, &geom, utt.sample_rate)?;  // boundaries.summary()
//! write_phn(&path, &spans_to_segments(&ali.phones, &labels, &geom, num_samples)?)?;
//! ```
//!
//! Everything here is plain data in, plain data out: no files are read (`save`/`load` and
//! [`write_phn`] aside), nothing is global, and the graphs are `Sync`, so utterances go through
//! rayon with one [`SearchScratch`] per thread.

pub mod align;
pub mod boundaries;
pub mod equal;
pub mod forward_backward;
mod graph;
pub mod lm;
pub mod path;
pub mod per;
pub mod phn;
pub mod phone_loop;
pub mod scores;
mod search;
pub mod transcript;
pub mod tune;

pub use align::{AlignConfig, AlignError, AlignGraph, Aligner, Alignment, Source};
pub use boundaries::{BoundaryErrors, BoundarySummary};
pub use equal::equal_align;
pub use forward_backward::Occupancy;
pub use lm::PhoneBigram;
pub use path::{FrameState, PhoneSpan, count_transitions};
pub use per::{EditCounts, EditOp, PerReport, edit_alignment, fold_to_39, score_phones};
pub use phn::{boundary_sample, format_phn, spans_to_segments, write_phn};
pub use phone_loop::{DecodeConfig, DecodePatch, Decoded, GraphSize, PhoneLoop};
pub use scores::{PRIOR_FLOOR, hybrid_scores, log_priors};
pub use search::SearchScratch;
pub use transcript::{ids48, phones48};
pub use tune::TuneConfig;
