//! The search graph both the phone-loop decoder and the aligner run on (a small stand-in for
//! Kaldi's HCLG / training graphs): emitting nodes, each one HMM state instance reading one tied
//! state's score, with its self-loop weight, a final weight and arcs; and non-emitting nodes
//! (phone boundaries, the start) whose arcs lead only to emitting nodes, so that one frame never
//! passes through two of them. All weights are log-domain and already scaled (transition scale,
//! LM weight, insertion penalty); only the acoustic scale is applied during the search.
//!
//! Arc lists are stored flat (CSR), in three homogeneous kinds: emitting -> emitting (within a
//! phone, or into the next phone in an alignment graph: flagged), emitting -> non-emitting
//! (phone exits), and non-emitting -> emitting (phone entries).

/// Flag on an emitting -> emitting arc that enters a new phone.
pub(crate) const NEW_PHONE: u32 = 1 << 31;

/// What the search and the traceback need to know about an emitting node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NodeInfo {
    pub leaf: u32,
    pub phone: u16,
    pub state: u8,
    /// Caller's tag (the aligner: index into its table of transcript positions).
    pub tag: u32,
}

/// A built graph, immutable during search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    /// Tied state read by each emitting node.
    pub leaf: Vec<u32>,
    pub info: Vec<NodeInfo>,
    pub self_loop: Vec<f32>,
    /// Weight of ending the utterance in this node (`-inf`: not final).
    pub final_weight: Vec<f32>,
    /// emitting -> emitting: `(target | NEW_PHONE flag, weight)`, CSR by source.
    pub emit_begin: Vec<u32>,
    pub emit_arcs: Vec<(u32, f32)>,
    /// emitting -> non-emitting: `(target, weight)`, CSR by source.
    pub exit_begin: Vec<u32>,
    pub exit_arcs: Vec<(u32, f32)>,
    /// non-emitting -> emitting (always a new phone): `(target, weight)`, CSR by source.
    pub entry_begin: Vec<u32>,
    pub entry_arcs: Vec<(u32, f32)>,
    /// The start: a non-emitting node.
    pub start: u32,
    /// Every arc into each emitting node, the self-loop included, CSR by target:
    /// `(source | NEW_PHONE flag, weight)`, a source below `num_emitting` being an emitting node
    /// and `num_emitting + b` the non-emitting node `b`. For the dense search of busy frames.
    pub in_begin: Vec<u32>,
    pub in_arcs: Vec<(u32, f32)>,
}

impl Graph {
    /// The graph in OpenFst's text format (tropical costs = negated weights), for inspection with
    /// OpenFst tools or decoding with Kaldi's decoders: states are the non-emitting nodes
    /// (the start first), then the emitting ones; an arc's input label is the tied state it reads
    /// plus 1 (0 = epsilon), its output label the phone it enters plus 1 (0 within a phone).
    pub fn fst_text(&self) -> String {
        use std::fmt::Write;
        let b = self.num_nonemitting() as u32;
        let mut out = String::new();
        let mut line = |from: u32, to: u32, ilabel: u32, olabel: u32, w: f32| {
            let _ = writeln!(out, "{from} {to} {ilabel} {olabel} {}", -w);
        };
        // OpenFst takes the first line's source as the start state: the start's arcs go first.
        let mut eps: Vec<u32> = (0..b).collect();
        eps.sort_by_key(|&e| e != self.start);
        for e in eps {
            let (lo, hi) = (
                self.entry_begin[e as usize],
                self.entry_begin[e as usize + 1],
            );
            for &(v, w) in &self.entry_arcs[lo as usize..hi as usize] {
                let info = self.info[v as usize];
                line(e, b + v, info.leaf + 1, info.phone as u32 + 1, w);
            }
        }
        for u in 0..self.num_emitting() {
            let info = self.info[u];
            let us = b + u as u32;
            line(us, us, info.leaf + 1, 0, self.self_loop[u]);
            let (lo, hi) = (self.emit_begin[u], self.emit_begin[u + 1]);
            for &(to, w) in &self.emit_arcs[lo as usize..hi as usize] {
                let v = to & !NEW_PHONE;
                let vi = self.info[v as usize];
                let olabel = if to & NEW_PHONE != 0 {
                    vi.phone as u32 + 1
                } else {
                    0
                };
                line(us, b + v, vi.leaf + 1, olabel, w);
            }
            let (lo, hi) = (self.exit_begin[u], self.exit_begin[u + 1]);
            for &(e, w) in &self.exit_arcs[lo as usize..hi as usize] {
                line(us, e, 0, 0, w);
            }
        }
        for u in 0..self.num_emitting() {
            if self.final_weight[u] > f32::NEG_INFINITY {
                let _ = writeln!(out, "{} {}", b + u as u32, -self.final_weight[u]);
            }
        }
        out
    }

    pub fn num_emitting(&self) -> usize {
        self.leaf.len()
    }

    pub fn num_nonemitting(&self) -> usize {
        self.entry_begin.len().saturating_sub(1)
    }

    pub fn num_arcs(&self) -> usize {
        self.emit_arcs.len() + self.exit_arcs.len() + self.entry_arcs.len()
    }
}

/// Collects nodes and arcs in any order, then lays them out.
#[derive(Debug, Default)]
pub(crate) struct GraphBuilder {
    info: Vec<NodeInfo>,
    self_loop: Vec<f32>,
    final_weight: Vec<f32>,
    num_nonemitting: u32,
    emit: Vec<(u32, u32, f32)>,
    exit: Vec<(u32, u32, f32)>,
    entry: Vec<(u32, u32, f32)>,
}

impl GraphBuilder {
    /// A new emitting node; returns its id.
    pub fn add_emitting(&mut self, info: NodeInfo, self_loop: f32) -> u32 {
        self.info.push(info);
        self.self_loop.push(self_loop);
        self.final_weight.push(f32::NEG_INFINITY);
        (self.info.len() - 1) as u32
    }

    /// A new non-emitting node; returns its id (a separate numbering from emitting nodes).
    pub fn add_nonemitting(&mut self) -> u32 {
        self.num_nonemitting += 1;
        self.num_nonemitting - 1
    }

    pub fn set_final(&mut self, node: u32, weight: f32) {
        self.final_weight[node as usize] = weight;
    }

    /// Emitting -> emitting; `new_phone` marks the entry into the next phone.
    pub fn arc(&mut self, from: u32, to: u32, weight: f32, new_phone: bool) {
        let to = if new_phone { to | NEW_PHONE } else { to };
        self.emit.push((from, to, weight));
    }

    /// Emitting -> non-emitting (a phone exit).
    pub fn exit_arc(&mut self, from: u32, to: u32, weight: f32) {
        self.exit.push((from, to, weight));
    }

    /// Non-emitting -> emitting (a phone entry).
    pub fn entry_arc(&mut self, from: u32, to: u32, weight: f32) {
        self.entry.push((from, to, weight));
    }

    /// Lay out the arcs (stable: each node's arcs stay in the order they were added).
    pub fn finish(self, start: u32) -> Graph {
        let n = self.info.len();
        let csr = |arcs: Vec<(u32, u32, f32)>, sources: usize| {
            let mut begin = vec![0u32; sources + 1];
            for &(f, _, _) in &arcs {
                begin[f as usize + 1] += 1;
            }
            for i in 0..sources {
                begin[i + 1] += begin[i];
            }
            let mut fill = begin.clone();
            let mut out = vec![(0u32, 0f32); arcs.len()];
            for (f, t, w) in arcs {
                out[fill[f as usize] as usize] = (t, w);
                fill[f as usize] += 1;
            }
            (begin, out)
        };
        let e = n as u32;
        let mut into: Vec<(u32, u32, f32)> =
            Vec::with_capacity(n + self.emit.len() + self.entry.len());
        into.extend(
            self.self_loop
                .iter()
                .enumerate()
                .map(|(v, &w)| (v as u32, v as u32, w)),
        );
        into.extend(
            self.emit
                .iter()
                .map(|&(f, t, w)| (t & !NEW_PHONE, f | (t & NEW_PHONE), w)),
        );
        into.extend(
            self.entry
                .iter()
                .map(|&(f, t, w)| (t, (e + f) | NEW_PHONE, w)),
        );
        let (in_begin, in_arcs) = csr(into, n);
        let (emit_begin, emit_arcs) = csr(self.emit, n);
        let (exit_begin, exit_arcs) = csr(self.exit, n);
        let (entry_begin, entry_arcs) = csr(self.entry, self.num_nonemitting as usize);
        Graph {
            leaf: self.info.iter().map(|i| i.leaf).collect(),
            info: self.info,
            self_loop: self.self_loop,
            final_weight: self.final_weight,
            emit_begin,
            emit_arcs,
            exit_begin,
            exit_arcs,
            entry_begin,
            entry_arcs,
            start,
            in_begin,
            in_arcs,
        }
    }
}
