//! One state's mixture while it is trained (f64), shared by EM and k-means initialisation.

/// One state's mixture while training, in f64.
#[derive(Debug, Clone)]
pub(crate) struct Mixture {
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub vars: Vec<Vec<f64>>,
}

impl Mixture {
    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    /// Split the heaviest Gaussian in two along its largest-variance dimension, means ±0.2σ
    /// apart, each with half the weight (HTK MU).
    pub(crate) fn split_heaviest(&mut self) {
        let h = argmax(&self.weights);
        let j = argmax(&self.vars[h]);
        let delta = 0.2 * self.vars[h][j].sqrt();
        let mut other = self.means[h].clone();
        other[j] -= delta;
        self.means[h][j] += delta;
        self.weights[h] *= 0.5;
        self.weights.push(self.weights[h]);
        self.means.push(other);
        self.vars.push(self.vars[h].clone());
    }
}

/// Index of the first maximum.
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
