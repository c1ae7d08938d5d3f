//! Cepstral mean (and variance) normalisation. Statistics are accumulated over a defined set of
//! utterances (the utterance itself, all of its speaker's utterances in the corpus, or the
//! training set) and then applied. The set never depends on which other utterances one command
//! happens to process, so an utterance's features are the same alone or in a batch.

use ndarray::{Array1, ArrayRef2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::options;

/// Over which utterances the statistics are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CmvnMode {
    /// No normalisation.
    None,
    /// Statistics of each utterance alone.
    Utterance,
    /// Statistics pooled over all of the speaker's utterances in the corpus (Kaldi's usual CMN
    /// for GMMs), whichever of them a command processes.
    Speaker,
    /// One set of statistics over the corpus's training split, stored with a trained model
    /// (`cmvn.json`) and used as they are wherever the model is applied.
    Global,
}

impl CmvnMode {
    /// The set of utterances the statistics are pooled over, in words (`asrpipe check`).
    pub fn scope(self) -> &'static str {
        match self {
            CmvnMode::None => "no normalisation",
            CmvnMode::Utterance => "statistics of each utterance alone",
            CmvnMode::Speaker => {
                "statistics over all of the speaker's utterances in the corpus (not only those \
                 a command is given)"
            }
            CmvnMode::Global => {
                "statistics over the corpus's training split, stored with a trained model \
                 (cmvn.json) and reused as they are"
            }
        }
    }
}

options! {
    /// Mean (and variance) normalisation of the features.
    pub struct CmvnOptions {
        /// Pool statistics over: none; utterance (each alone); speaker (all of the speaker's utterances in the corpus, not only those a command is given); global (the training split, stored with a trained model as cmvn.json).
        mode: CmvnMode = CmvnMode::None,
        /// Also scale to unit variance.
        norm_vars: bool = false,
    }
}

/// Sufficient statistics (count, sum, sum of squares), accumulated in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct CmvnStats {
    /// Frames accumulated.
    pub count: f64,
    /// Per-dimension sum of values.
    pub sum: Array1<f64>,
    /// Per-dimension sum of squared values.
    pub sumsq: Array1<f64>,
}

impl CmvnStats {
    /// Zero statistics for `dim`-dimensional frames.
    pub fn new(dim: usize) -> Self {
        CmvnStats {
            count: 0.0,
            sum: Array1::zeros(dim),
            sumsq: Array1::zeros(dim),
        }
    }

    /// Add every row of `x` (frames x dims).
    pub fn accumulate(&mut self, x: ArrayView2<f32>) {
        self.count += x.nrows() as f64;
        for row in x.axis_iter(Axis(0)) {
            for ((s, q), &v) in self.sum.iter_mut().zip(self.sumsq.iter_mut()).zip(row) {
                let v = v as f64;
                *s += v;
                *q += v * v;
            }
        }
    }

    /// Add another accumulator's statistics (same dimension).
    pub fn merge(&mut self, other: &CmvnStats) {
        self.count += other.count;
        self.sum += &other.sum;
        self.sumsq += &other.sumsq;
    }

    /// Mean and standard deviation (variance floored at 1e-10 as Kaldi does).
    pub fn mean_std(&self) -> (Array1<f32>, Array1<f32>) {
        let n = self.count.max(1.0);
        let mean = &self.sum / n;
        let var = (&self.sumsq / n - &mean * &mean).mapv(|v| v.max(1e-10));
        (mean.mapv(|v| v as f32), var.mapv(|v| v.sqrt() as f32))
    }

    /// Subtract the mean (and divide by the standard deviation) in place, row by row: any split
    /// of the frames into blocks gives the same values.
    pub fn apply(&self, x: &mut ArrayRef2<f32>, norm_vars: bool) {
        let (mean, std) = self.mean_std();
        for mut row in x.axis_iter_mut(Axis(0)) {
            row -= &mean;
            if norm_vars {
                row /= &std;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn normalises_to_zero_mean_unit_variance() {
        let mut x = array![[1.0f32, 10.0], [3.0, 30.0]];
        let mut st = CmvnStats::new(2);
        st.accumulate(x.view());
        st.apply(&mut x, true);
        assert_eq!(x, array![[-1.0, -1.0], [1.0, 1.0]]);
    }
}
