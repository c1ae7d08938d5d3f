//! Forced alignment: Viterbi through the concatenated phone HMMs of a known transcript (Kaldi's
//! `gmm-align-compiled` on a training graph), with beam and retry.
//!
//! The transcript is a sequence of words, each a list of 48-set phones, or several such lists
//! (a lexicon's alternative pronunciations, [`Aligner::align_alternatives`]: the path picks one per
//! word). With optional silence, a
//! `sil` may or may not be inserted between words and at both ends (each choice weighted by
//! `silence_prob`, as Kaldi's lexicon does); a TIMIT transcript already has its silences, so it is
//! aligned as one word without ([`Aligner::align_phones`]). Contexts follow the frame labels:
//! `sil` beyond the ends; at a word boundary the neighbour is the next word's phone or the optional
//! `sil`, so a boundary phone gets one chain of states per context it may see.
//!
//! Search: the first try uses `beam` (Kaldi `--beam 10`); if no token reaches the end, it is
//! retried once with `retry_beam` (`--retry-beam 40`); then the utterance fails with
//! [`AlignError::NoPath`]. A transcript needing more frames than the utterance has (every state
//! needs one) fails before searching with [`AlignError::TooFewFrames`]: a training layer skips
//! such utterances and reports the reason.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::forward_backward::{MAX_CELLS, Occupancy, forward_backward};
use super::graph::{Graph, GraphBuilder, NodeInfo};
use super::path::{FrameState, PhoneSpan, count_transitions, frames_and_spans};
use super::scores::check_scores;
use super::search::{NoPath, Pruning, SearchScratch, search};
use crate::error::{Error, Result};
use crate::model::hmm::{ContextTable, TransitionCounts, Transitions};
use crate::options;

options! {
    /// Forced alignment: scales and beams.
    pub struct AlignConfig {
        /// Scale on the acoustic scores (Kaldi's --acoustic-scale 0.1).
        acoustic_scale: f32 = 0.1,
        /// Scale on transition log-probabilities (Kaldi's --self-loop-scale 0.1, which for this topology scales every transition).
        transition_scale: f32 = 0.1,
        /// Beam of the first try (Kaldi's --beam 10).
        beam: f32 = 10.0,
        /// Beam of the second try when the first reaches no end state (Kaldi's --retry-beam 40; 0 = no retry).
        retry_beam: f32 = 40.0,
        /// Probability of each optional silence, between words and at both ends (Kaldi's lexicon: 0.5).
        silence_prob: f32 = 0.5,
    }
}

impl AlignConfig {
    /// Check value ranges; the error names the option and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("align options: {what}")));
        for (name, x) in [("acoustic_scale", self.acoustic_scale), ("beam", self.beam)] {
            if !(x > 0.0 && x.is_finite()) {
                return bad(format!("{name} must be a number > 0, got {x}"));
            }
        }
        if !(self.transition_scale >= 0.0 && self.transition_scale.is_finite()) {
            return bad(format!(
                "transition_scale must be a number >= 0, got {}",
                self.transition_scale
            ));
        }
        if !(self.retry_beam == 0.0
            || (self.retry_beam >= self.beam && self.retry_beam.is_finite()))
        {
            return bad(format!(
                "retry_beam must be 0 (no retry) or a number >= beam ({}), got {}",
                self.beam, self.retry_beam
            ));
        }
        if !(self.silence_prob > 0.0 && self.silence_prob < 1.0) {
            return bad(format!(
                "silence_prob must be in (0, 1), got {}",
                self.silence_prob
            ));
        }
        Ok(())
    }
}

/// Why an utterance could not be aligned (a training layer skips it and reports the reason).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlignError {
    /// The transcript has no phones.
    #[error("empty transcript: no phones to align")]
    EmptyTranscript,
    /// A word of the transcript has no phones.
    #[error("word {word} of the transcript has no phones")]
    EmptyWord {
        /// Index of the word in the transcript, from 0.
        word: usize,
    },
    /// A phone id outside the model's phone list.
    #[error("phone id {phone} is not one of the model's {num_phones} phones")]
    UnknownPhone {
        /// The phone id given.
        phone: u16,
        /// Phones the model has.
        num_phones: usize,
    },
    #[error(
        "the transcript needs at least {needed} frames ({phones} phones, one frame per state) \
         but the utterance has {frames}"
    )]
    /// Fewer frames than the transcript's emitting states (every state takes at least one frame).
    TooFewFrames {
        /// Emitting states of the transcript's HMM sequence.
        needed: usize,
        /// Phones in the transcript.
        phones: usize,
        /// Frames of the utterance.
        frames: usize,
    },
    /// The tying has no leaf for this context (a phone or context unseen when the tree was built).
    #[error("the tying has no tied state for {phone} state {state} between {left} and {right}")]
    NoTiedState {
        /// Centre phone (48 set).
        phone: String,
        /// State position within the phone, from 0.
        state: u8,
        /// Left context phone.
        left: String,
        /// Right context phone.
        right: String,
    },
    #[error(
        "no alignment reached the end of the transcript with beam {beam} (retry beam {retry_beam})"
    )]
    /// Viterbi with the beam and then the retry beam found no path to the final state.
    NoPath {
        /// First beam (log-likelihood units).
        beam: f32,
        /// The wider beam tried next.
        retry_beam: f32,
    },
    /// The score matrix does not fit the model (columns, non-finite values).
    #[error("{0}")]
    BadScores(String),
    /// The search could not run to the end (e.g. a recording too long for the traceback).
    #[error("{0}")]
    Search(String),
}

impl AlignError {
    /// As the crate's error (a `From` impl would make `?` ambiguous in closures elsewhere).
    pub fn into_error(self) -> Error {
        Error::invalid(self.to_string())
    }
}

/// Where an aligned phone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    /// Phone `position` of word `word` of the transcript.
    Word {
        /// Word index in the transcript, from 0.
        word: usize,
        /// Phone index within the word, from 0.
        position: usize,
    },
    /// An optional silence the aligner inserted.
    Silence,
}

/// A state-level alignment of one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// The state of every frame: tied state (the classifiers' target) and (phone, state).
    pub frames: Vec<FrameState>,
    /// Phone occurrences in frames.
    pub phones: Vec<PhoneSpan>,
    /// Where each of `phones` came from.
    pub sources: Vec<Source>,
    /// Path score (as the decoder's, without LM terms); `None` for an equal alignment.
    pub score: Option<f64>,
    /// True when the first beam failed and the retry beam found the path.
    pub retried: bool,
}

impl Alignment {
    /// Tied state per frame: training targets for the GMM and the DNN.
    pub fn leaves(&self) -> Vec<u32> {
        self.frames.iter().map(|f| f.leaf).collect()
    }

    /// Add this alignment's transitions to `counts` (for [`Transitions::update`]).
    pub fn count_transitions(&self, counts: &mut TransitionCounts) -> Result<()> {
        count_transitions(&self.frames, &self.phones, counts)
    }
}

/// Aligns utterances with one model (context table + transitions) and one set of options.
#[derive(Debug, Clone)]
pub struct Aligner<'a> {
    ctx: &'a ContextTable,
    trans: &'a Transitions,
    cfg: AlignConfig,
}

/// A transcript compiled into its alignment graph.
#[derive(Debug, Clone)]
pub struct AlignGraph {
    graph: Graph,
    sources: Vec<Source>,
    min_frames: usize,
    num_phones: usize,
}

impl AlignGraph {
    /// Fewest frames an alignment needs (one per state, optional silences left out).
    pub fn min_frames(&self) -> usize {
        self.min_frames
    }

    /// HMM states in the graph (every pronunciation and context of every phone, optional
    /// silences included): what forward-backward keeps per frame.
    pub fn num_states(&self) -> usize {
        self.graph.num_emitting()
    }
}

impl<'a> Aligner<'a> {
    /// An aligner for one model (context table and transitions must name the same phones); checks
    /// `cfg`.
    pub fn new(ctx: &'a ContextTable, trans: &'a Transitions, cfg: &AlignConfig) -> Result<Self> {
        cfg.validate()?;
        if trans.phones() != ctx.names() {
            return Err(Error::invalid(
                "the context table and the transitions are over different phone lists",
            ));
        }
        if trans.topology()? != *ctx.topology() {
            return Err(Error::invalid(
                "the transitions and the context table have different state counts per phone",
            ));
        }
        Ok(Aligner {
            ctx,
            trans,
            cfg: cfg.clone(),
        })
    }

    /// The transition probabilities the graphs are built with.
    pub fn transitions(&self) -> &Transitions {
        self.trans
    }

    /// Align a phone sequence as it is (no optional silence): the TIMIT case.
    pub fn align_phones(
        &self,
        phones: &[u16],
        scores: ArrayView2<f32>,
    ) -> Result<Alignment, AlignError> {
        let graph = self.compile(&[phones], false)?;
        self.align(&graph, scores, &mut SearchScratch::default())
    }

    /// Align words with an optional `sil` between them and at both ends.
    pub fn align_words<W: AsRef<[u16]>>(
        &self,
        words: &[W],
        scores: ArrayView2<f32>,
    ) -> Result<Alignment, AlignError> {
        let graph = self.compile(words, true)?;
        self.align(&graph, scores, &mut SearchScratch::default())
    }

    /// Align with a compiled graph, reusing `scratch` (one per thread).
    pub fn align(
        &self,
        graph: &AlignGraph,
        scores: ArrayView2<f32>,
        scratch: &mut SearchScratch,
    ) -> Result<Alignment, AlignError> {
        check_scores(scores, self.ctx.num_leaves())
            .map_err(|e| AlignError::BadScores(e.to_string()))?;
        if scores.nrows() < graph.min_frames {
            return Err(AlignError::TooFewFrames {
                needed: graph.min_frames,
                phones: graph.num_phones,
                frames: scores.nrows(),
            });
        }
        let scores = scores.as_standard_layout();
        let mut beams = vec![self.cfg.beam];
        if self.cfg.retry_beam > self.cfg.beam {
            beams.push(self.cfg.retry_beam);
        }
        for (i, &beam) in beams.iter().enumerate() {
            let pruning = Pruning::new(beam, usize::MAX);
            let path = match search(
                &graph.graph,
                scores.view(),
                self.cfg.acoustic_scale,
                pruning,
                scratch,
            ) {
                Ok(path) => path,
                Err(NoPath::Empty) => continue,
                Err(e) => return Err(AlignError::Search(e.message().to_string())),
            };
            if !path.reached_final {
                continue;
            }
            let (frames, phones, tags) = frames_and_spans(&graph.graph, &path);
            return Ok(Alignment {
                frames,
                phones,
                sources: tags.iter().map(|&t| graph.sources[t as usize]).collect(),
                score: Some(path.score),
                retried: i > 0,
            });
        }
        Err(AlignError::NoPath {
            beam: self.cfg.beam,
            retry_beam: self.cfg.retry_beam,
        })
    }

    /// Forward-backward with a compiled graph (HTK HERest's E-step, see
    /// [`super::forward_backward`]): every state's posterior at every frame over all the graph's
    /// paths (those below `min_posterior` left out) and the total log-likelihood; the expected
    /// transitions are added to `counts`. Uses this aligner's acoustic and transition scales (a
    /// true E-step wants both at 1). Exact: no beam. Refused beyond
    /// [`super::forward_backward::MAX_CELLS`] frames x states.
    pub fn occupancy(
        &self,
        graph: &AlignGraph,
        scores: ArrayView2<f32>,
        min_posterior: f32,
        counts: &mut TransitionCounts,
    ) -> Result<Occupancy, AlignError> {
        check_scores(scores, self.ctx.num_leaves())
            .map_err(|e| AlignError::BadScores(e.to_string()))?;
        if scores.nrows() < graph.min_frames || scores.nrows() == 0 {
            return Err(AlignError::TooFewFrames {
                needed: graph.min_frames.max(1),
                phones: graph.num_phones,
                frames: scores.nrows(),
            });
        }
        let cells = scores.nrows().saturating_mul(graph.num_states());
        if cells > MAX_CELLS {
            return Err(AlignError::Search(format!(
                "{} frames x {} states is too long for forward-backward (at most {MAX_CELLS} \
                 cells): cut the recording into shorter segments",
                scores.nrows(),
                graph.num_states()
            )));
        }
        let scores = scores.as_standard_layout();
        forward_backward(
            &graph.graph,
            scores.view(),
            self.cfg.acoustic_scale,
            min_posterior,
            counts,
        )
        .map_err(|e| AlignError::Search(e.to_string()))?
        .ok_or_else(|| {
            AlignError::Search("no path of the transcript's graph has a finite score".into())
        })
    }

    /// Align words that may each have several pronunciations (a lexicon's alternatives), with an
    /// optional `sil` between words and at both ends; the best pronunciation is chosen per word.
    pub fn align_alternatives(
        &self,
        words: &[Vec<Vec<u16>>],
        scores: ArrayView2<f32>,
    ) -> Result<Alignment, AlignError> {
        let graph = self.compile_alternatives(words, true)?;
        self.align(&graph, scores, &mut SearchScratch::default())
    }

    /// Compile a transcript: `words` of phone ids, with or without optional silence.
    pub fn compile<W: AsRef<[u16]>>(
        &self,
        words: &[W],
        optional_silence: bool,
    ) -> Result<AlignGraph, AlignError> {
        let words: Vec<Vec<Vec<u16>>> = words.iter().map(|w| vec![w.as_ref().to_vec()]).collect();
        self.compile_alternatives(&words, optional_silence)
    }

    /// Compile a transcript whose words each list one or more pronunciations (phone ids), with
    /// or without optional silence. A phone at a word edge gets one chain of states per context
    /// it may see: the edge phones of the neighbouring word's pronunciations, or `sil`.
    pub fn compile_alternatives(
        &self,
        words: &[Vec<Vec<u16>>],
        optional_silence: bool,
    ) -> Result<AlignGraph, AlignError> {
        let words = distinct_pronunciations(words, self.ctx.num_phones())?;
        let mut g = GraphCompiler::new(self, &words, optional_silence);
        for w in 0..words.len() {
            g.word(w)?;
        }
        let (min_frames, num_phones) = self.least_frames_and_phones(&words);
        let (graph, sources) = g.finish()?;
        Ok(AlignGraph {
            graph,
            sources,
            min_frames,
            num_phones,
        })
    }

    /// Fewest frames an alignment of `words` needs (one per state of each word's shortest
    /// pronunciation, optional silences left out) and fewest phones it has.
    fn least_frames_and_phones(&self, words: &[Vec<&[u16]>]) -> (usize, usize) {
        let ctx = self.ctx;
        let mut min_frames = 0;
        let mut num_phones = 0;
        for alts in words {
            min_frames += alts
                .iter()
                .map(|a| a.iter().map(|&c| ctx.topology().states(c)).sum::<usize>())
                .min()
                .unwrap_or(0);
            num_phones += alts.iter().map(|a| a.len()).min().unwrap_or(0);
        }
        (min_frames, num_phones)
    }

    /// A chain of states for `c` between `left` and `right`, its states tagged `tag`: (first
    /// node, last node, exit weight).
    fn chain(
        &self,
        b: &mut GraphBuilder,
        left: u16,
        c: u16,
        right: u16,
        tag: u32,
    ) -> Result<(u32, u32, f32), AlignError> {
        let (ctx, ts) = (self.ctx, self.cfg.transition_scale);
        let n = ctx.topology().states(c);
        let mut first = 0;
        let mut prev: Option<u32> = None;
        for s in 0..n as u8 {
            let leaf = tied_state(ctx, left, c, right, s)?;
            let node = b.add_emitting(
                NodeInfo {
                    leaf,
                    phone: c,
                    state: s,
                    tag,
                },
                ts * self.trans.log_self_loop(c, s) as f32,
            );
            match prev {
                None => first = node,
                Some(u) => b.arc(u, node, ts * self.trans.log_forward(c, s - 1) as f32, false),
            }
            prev = Some(node);
        }
        let last = prev.expect("a phone has at least one state");
        let exit = ts * self.trans.log_forward(c, n as u8 - 1) as f32;
        Ok((first, last, exit))
    }
}

/// An exit of the previous word's last phones: its last node and exit weight, the phone it
/// ends with, the right context its chain was built for, and whether that context is the
/// optional silence.
struct Exit {
    node: u32,
    weight: f32,
    phone: u16,
    right: u16,
    via_sil: bool,
}

/// What one word's phone chains connect to: its index, the edge phones of the words on either
/// side, and the optional silences into it (first phone of a pronunciation it leads to, last
/// node, exit weight).
struct WordEdges {
    word: usize,
    prev_lasts: Vec<u16>,
    next_firsts: Vec<u16>,
    sil_into: Vec<(u16, u32, f32)>,
}

/// A transcript's alignment graph being built word by word (nodes are added in transcript
/// order: the optional silence before a word, then each pronunciation's phones in turn).
struct GraphCompiler<'c, 'a> {
    aligner: &'c Aligner<'a>,
    words: &'c [Vec<&'c [u16]>],
    optional_silence: bool,
    sil: u16,
    /// Log weights of taking and of skipping an optional silence.
    sil_yes: f32,
    sil_no: f32,
    b: GraphBuilder,
    start: u32,
    /// The source of every tag; tag 0 is `Source::Silence`.
    sources: Vec<Source>,
    /// The exits of the previous word's last phones.
    pending: Vec<Exit>,
    /// Arcs out of the start node, added last.
    from_start: Vec<(u32, f32)>,
}

impl<'c, 'a> GraphCompiler<'c, 'a> {
    fn new(aligner: &'c Aligner<'a>, words: &'c [Vec<&'c [u16]>], optional_silence: bool) -> Self {
        let (sil_yes, sil_no) = if optional_silence {
            let sp = aligner.cfg.silence_prob as f64;
            (sp.ln() as f32, (1.0 - sp).ln() as f32)
        } else {
            (f32::NEG_INFINITY, 0.0)
        };
        let mut b = GraphBuilder::default();
        let start = b.add_nonemitting();
        GraphCompiler {
            aligner,
            words,
            optional_silence,
            sil: aligner.ctx.silence(),
            sil_yes,
            sil_no,
            b,
            start,
            sources: vec![Source::Silence],
            pending: Vec::new(),
            from_start: Vec::new(),
        }
    }

    /// The distinct first phones of word `w`'s pronunciations, in order.
    fn firsts(&self, w: usize) -> Vec<u16> {
        distinct(self.words[w].iter().map(|a| a[0]))
    }

    /// The distinct last phones of word `w`'s pronunciations, in order.
    fn lasts(&self, w: usize) -> Vec<u16> {
        distinct(self.words[w].iter().map(|a| a[a.len() - 1]))
    }

    /// Add word `w`: the optional silence before it, then every pronunciation, linked to the
    /// previous word's exits; its own last phones' exits become the pending ones.
    fn word(&mut self, w: usize) -> Result<(), AlignError> {
        let prev_lasts = if w > 0 { self.lasts(w - 1) } else { Vec::new() };
        let next_firsts = if w + 1 < self.words.len() {
            self.firsts(w + 1)
        } else {
            Vec::new()
        };
        let sil_into = self.silence_before(w, &prev_lasts)?;
        let edges = WordEdges {
            word: w,
            prev_lasts,
            next_firsts,
            sil_into,
        };
        let words = self.words;
        let mut next_pending: Vec<Exit> = Vec::new();
        for alt in &words[w] {
            let mut exits: Vec<Exit> = Vec::new();
            for k in 0..alt.len() {
                exits = self.phone(alt, k, &edges, &exits)?;
            }
            next_pending.extend(exits);
        }
        self.pending = next_pending;
        Ok(())
    }

    /// Optional silence before word `w` (leading, or between words): one chain per (phone
    /// before, first phone of a pronunciation), entered from the start or from the previous
    /// word's exits built for a silence after them.
    fn silence_before(
        &mut self,
        w: usize,
        prev_lasts: &[u16],
    ) -> Result<Vec<(u16, u32, f32)>, AlignError> {
        let mut sil_into: Vec<(u16, u32, f32)> = Vec::new();
        if !self.optional_silence {
            return Ok(sil_into);
        }
        let sil = self.sil;
        let lefts = if w == 0 {
            vec![sil]
        } else {
            prev_lasts.to_vec()
        };
        for &l in &lefts {
            for r in self.firsts(w) {
                let (f, last, exit) = self.aligner.chain(&mut self.b, l, sil, r, 0)?;
                if w == 0 {
                    self.from_start.push((f, self.sil_yes));
                } else {
                    for e in &self.pending {
                        if e.via_sil && e.phone == l {
                            self.b.arc(e.node, f, e.weight + self.sil_yes, true);
                        }
                    }
                }
                sil_into.push((r, last, exit));
            }
        }
        Ok(sil_into)
    }

    /// Phone `k` of pronunciation `alt` of the word of `edges`: one chain per (left, right)
    /// context, each entered from `prev` (the exits of phone `k - 1`) or across the word
    /// boundary; returns the chains' exits.
    fn phone(
        &mut self,
        alt: &[u16],
        k: usize,
        edges: &WordEdges,
        prev: &[Exit],
    ) -> Result<Vec<Exit>, AlignError> {
        let (w, c) = (edges.word, alt[k]);
        self.sources.push(Source::Word {
            word: w,
            position: k,
        });
        let tag = self.sources.len() as u32 - 1;
        // Left contexts: (phone, via silence).
        let lefts = side_contexts(
            (k > 0).then(|| alt[k - 1]),
            w == 0,
            &edges.prev_lasts,
            self.optional_silence,
            self.sil,
        );
        let rights = side_contexts(
            alt.get(k + 1).copied(),
            w + 1 == self.words.len(),
            &edges.next_firsts,
            self.optional_silence,
            self.sil,
        );
        let mut exits: Vec<Exit> = Vec::new();
        for &left in &lefts {
            for &(r, r_sil) in &rights {
                let (f, last, exit) = self.aligner.chain(&mut self.b, left.0, c, r, tag)?;
                self.arcs_into(f, k, c, left, edges, prev);
                exits.push(Exit {
                    node: last,
                    weight: exit,
                    phone: c,
                    right: r,
                    via_sil: r_sil,
                });
            }
        }
        Ok(exits)
    }

    /// Arcs into the chain entered at `f` of phone `k` (`c`, with `left` context and whether
    /// that is the optional silence): from the previous phone's exits `prev`; at a word's
    /// start, from the start node and the optional silences into `c`, or from the previous
    /// word's exits built for `c` on their right.
    fn arcs_into(
        &mut self,
        f: u32,
        k: usize,
        c: u16,
        (l, l_sil): (u16, bool),
        edges: &WordEdges,
        prev: &[Exit],
    ) {
        let w = edges.word;
        if k > 0 {
            for e in prev {
                self.b.arc(e.node, f, e.weight, true);
            }
        } else if w == 0 || l_sil {
            if w == 0 {
                self.from_start.push((f, self.sil_no));
            }
            for &(r2, sl, sexit) in &edges.sil_into {
                if r2 == c {
                    self.b.arc(sl, f, sexit, true);
                }
            }
        } else {
            for e in &self.pending {
                if !e.via_sil && e.phone == l && e.right == c {
                    self.b.arc(e.node, f, e.weight + self.sil_no, true);
                }
            }
        }
    }

    /// The end (directly, or through a trailing optional silence) and the start's arcs: the
    /// finished graph and the source of every tag.
    fn finish(mut self) -> Result<(Graph, Vec<Source>), AlignError> {
        for e in &self.pending {
            self.b.set_final(e.node, e.weight + self.sil_no);
        }
        if self.optional_silence {
            let sil = self.sil;
            for l in self.lasts(self.words.len() - 1) {
                let (f, last, exit) = self.aligner.chain(&mut self.b, l, sil, sil, 0)?;
                for e in &self.pending {
                    if e.phone == l {
                        self.b.arc(e.node, f, e.weight + self.sil_yes, true);
                    }
                }
                self.b.set_final(last, exit);
            }
        }
        for &(v, w) in &self.from_start {
            self.b.entry_arc(self.start, v, w);
        }
        Ok((self.b.finish(self.start), self.sources))
    }
}

/// The distinct values of `xs`, in first-seen order.
fn distinct(xs: impl Iterator<Item = u16>) -> Vec<u16> {
    let mut v: Vec<u16> = Vec::new();
    for x in xs {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

/// The tied state of state `s` of phone `c` between `left` and `right`; an error naming them
/// where the model has none.
pub(crate) fn tied_state(
    ctx: &ContextTable,
    left: u16,
    c: u16,
    right: u16,
    s: u8,
) -> Result<u32, AlignError> {
    ctx.leaf(left, c, right, s)
        .ok_or_else(|| AlignError::NoTiedState {
            phone: ctx.name(c).to_string(),
            state: s,
            left: ctx.name(left).to_string(),
            right: ctx.name(right).to_string(),
        })
}

/// The contexts on one side of a phone, each with whether it is the optional silence: its
/// neighbour `inside` the pronunciation if it has one; else `sil` at the transcript's edge; else
/// the edge phones `across` of the neighbouring word's pronunciations, and `sil` where silence
/// is optional.
fn side_contexts(
    inside: Option<u16>,
    at_edge: bool,
    across: &[u16],
    optional_silence: bool,
    sil: u16,
) -> Vec<(u16, bool)> {
    if let Some(p) = inside {
        vec![(p, false)]
    } else if at_edge {
        vec![(sil, true)]
    } else {
        let mut v: Vec<(u16, bool)> = across.iter().map(|&p| (p, false)).collect();
        if optional_silence {
            v.push((sil, true));
        }
        v
    }
}

/// Each word's distinct pronunciations, in order, after checking the transcript has a phone,
/// every word a pronunciation, no pronunciation is empty and every phone is below `p`.
fn distinct_pronunciations(
    words: &[Vec<Vec<u16>>],
    p: usize,
) -> Result<Vec<Vec<&[u16]>>, AlignError> {
    if words.iter().all(|w| w.iter().all(|a| a.is_empty())) {
        return Err(AlignError::EmptyTranscript);
    }
    if let Some(word) = words
        .iter()
        .position(|w| w.is_empty() || w.iter().any(|a| a.is_empty()))
    {
        return Err(AlignError::EmptyWord { word });
    }
    for w in words {
        if let Some(&phone) = w.iter().flatten().find(|&&x| x as usize >= p) {
            return Err(AlignError::UnknownPhone {
                phone,
                num_phones: p,
            });
        }
    }
    // Each word's distinct pronunciations, in order.
    Ok(words
        .iter()
        .map(|w| {
            let mut alts: Vec<&[u16]> = Vec::with_capacity(w.len());
            for a in w {
                if !alts.contains(&a.as_slice()) {
                    alts.push(a);
                }
            }
            alts
        })
        .collect())
}
