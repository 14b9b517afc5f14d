//! Evaluation of weights on a split: mean cross-entropy (Q16.16) and accuracy, with the same
//! integer forward pass as training (so a verifier recomputes the attested numbers exactly).

use rayon::prelude::*;

use crate::backend::cpu::linear_forward;
use crate::fixed::xent_loss;
use crate::model::Weights;
use crate::prep::Split;

/// Rows per forward block.
const BLOCK_ROWS: usize = 256;

/// Loss and accuracy of weights on a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    /// Mean cross-entropy, Q16.16, rounded down.
    pub loss: u64,
    /// Rows whose arg-max prediction (first maximum on ties) is the label.
    pub correct: usize,
    /// Rows evaluated.
    pub total: usize,
}

impl Evaluation {
    /// Accuracy in basis points, rounded down.
    pub fn accuracy_bp(&self) -> u32 {
        (self.correct * 10_000).checked_div(self.total).unwrap_or(0) as u32
    }

    /// Accuracy as a fraction (display).
    pub fn accuracy(&self) -> f64 {
        f64::from(self.accuracy_bp()) / 10_000.0
    }

    /// Loss as a float (display).
    pub fn loss_f64(&self) -> f64 {
        crate::fixed::to_f64(self.loss as i64)
    }
}

/// The predicted class of a row of logits: the first maximum.
pub fn argmax(z: &[i32]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = j;
        }
    }
    best
}

/// Evaluates `weights` on every row of `split`.
pub fn evaluate(weights: &Weights, split: &Split) -> Evaluation {
    let dims = &weights.dims;
    let n_layers = dims.len() - 1;
    let f = split.n_features;
    let (loss_sum, correct) = split
        .features
        .chunks(BLOCK_ROWS * f)
        .zip(split.labels.chunks(BLOCK_ROWS))
        .map(|(x, labels)| {
            let rows = labels.len();
            let mut a = x.to_vec();
            for l in 0..n_layers {
                let mut z = vec![0i32; rows * dims[l + 1]];
                linear_forward(&a, &weights.layers[l], &mut z, dims[l], l + 1 < n_layers);
                a = z;
            }
            let c = dims[n_layers];
            a.par_chunks(c)
                .zip(labels.par_iter())
                .map(|(z, &y)| (xent_loss(z, y as usize), usize::from(argmax(z) == y as usize)))
                .reduce(|| (0, 0), |p, q| (p.0 + q.0, p.1 + q.1))
        })
        .fold((0i64, 0usize), |p, q| (p.0 + q.0, p.1 + q.1));
    let total = split.rows();
    let loss = (loss_sum.max(0) as u64).checked_div(total as u64).unwrap_or(0);
    Evaluation { loss, correct, total }
}
