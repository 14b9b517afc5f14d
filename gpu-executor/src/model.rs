//! Models, the training specification of a job, and weights.
//!
//! A model is a stack of dense layers `dims[0] → dims[1] → … → dims[L]` with ReLU between layers
//! and softmax cross-entropy on the last: [`ModelKind::LogReg`] has no hidden layer
//! (multinomial logistic regression; with two classes it is ordinary logistic regression,
//! `p = sigmoid(z_1 - z_0)`), [`ModelKind::Mlp`] has hidden layers. Layer `l` stores its weights
//! row-major as `(dims[l] + 1) × dims[l+1]` Q16.16 values; the last row is the bias (the layer
//! sees a constant input of 1.0 there).

use ctm_core::Digest;
use serde::{Deserialize, Serialize};

use crate::commit::{Limbs, Tag, weights_commitment};
use crate::error::{ExecutorError, Result};
use crate::fixed::{self, LR_MAX, MAX_DIM, ONE};
use crate::rng::{DOMAIN_INIT, Rng, derive};

/// Which model to train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ModelKind {
    /// (Multinomial) logistic regression: one linear layer and softmax.
    LogReg,
    /// A multi-layer perceptron with ReLU hidden layers of the given widths.
    Mlp {
        /// Hidden layer widths.
        hidden: Vec<usize>,
    },
}

/// Everything that determines a training run, apart from the data itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainSpec {
    /// The model.
    pub model: ModelKind,
    /// Commitment of the dataset to train on.
    pub dataset: Digest,
    /// Features per row (from the dataset).
    pub n_features: usize,
    /// Classes (from the dataset).
    pub n_classes: usize,
    /// Rows per SGD step.
    pub batch_size: usize,
    /// Learning rate, Q16.16.
    pub learning_rate: i32,
    /// Total SGD steps.
    pub steps: u64,
    /// A checkpoint every this many steps.
    pub checkpoint_interval: u64,
    /// Seed of the initial weights and the per-epoch shuffles.
    pub seed: u64,
    /// Held-out share of the rows, per mille.
    pub holdout_permille: u32,
}

impl TrainSpec {
    /// Layer sizes: features, hidden widths, classes.
    pub fn dims(&self) -> Vec<usize> {
        let mut d = vec![self.n_features];
        if let ModelKind::Mlp { hidden } = &self.model {
            d.extend_from_slice(hidden);
        }
        d.push(self.n_classes);
        d
    }

    /// Checks the limits of [`crate::fixed`] and basic sanity; `n_train` is the training rows.
    pub fn validate(&self, n_train: usize) -> Result<()> {
        let spec = |f: &'static str, r: String| ExecutorError::spec(f, r);
        if self.dims().iter().any(|&d| d == 0 || d > MAX_DIM) {
            return Err(spec(
                "model",
                format!("layer sizes {:?} must be in 1..={MAX_DIM}", self.dims()),
            ));
        }
        if self.batch_size == 0 || self.batch_size > MAX_DIM.min(n_train) {
            return Err(spec("batch_size", format!("must be in 1..={}", MAX_DIM.min(n_train))));
        }
        if self.learning_rate <= 0 || i64::from(self.learning_rate) > LR_MAX {
            return Err(spec("learning_rate", "must be in (0, 16]".into()));
        }
        if self.steps == 0 || self.checkpoint_interval == 0 {
            return Err(spec("steps", "steps and checkpoint interval must be positive".into()));
        }
        if self.checkpoints() > u64::from(u32::MAX) {
            return Err(spec("checkpoint_interval", "too many checkpoints".into()));
        }
        if !(1..=900).contains(&self.holdout_permille) {
            return Err(spec("holdout_permille", "must be in 1..=900".into()));
        }
        Ok(())
    }

    /// Number of checkpoints after the initial one: `ceil(steps / interval)`.
    pub fn checkpoints(&self) -> u64 {
        self.steps.div_ceil(self.checkpoint_interval)
    }

    /// The step at which checkpoint `i` is taken (the last one at `steps`).
    pub fn checkpoint_step(&self, i: u64) -> u64 {
        (i * self.checkpoint_interval).min(self.steps)
    }

    /// Poseidon2 digest of the spec: the start of the checkpoint chain.
    pub fn digest(&self) -> Digest {
        let mut l = Limbs::new(Tag::Spec);
        l.u32(1); // spec encoding version
        l.digest(&self.dataset);
        let dims = self.dims();
        l.u32(dims.len() as u32);
        for d in dims {
            l.u32(d as u32);
        }
        l.u32(self.batch_size as u32).i32(self.learning_rate).u64(self.steps);
        l.u64(self.checkpoint_interval).u64(self.seed).u32(self.holdout_permille);
        l.hash()
    }
}

/// Model weights: per layer, `(dims[l] + 1) × dims[l+1]` Q16.16 values (last row bias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    /// Layer sizes.
    pub dims: Vec<usize>,
    /// Per-layer values.
    pub layers: Vec<Vec<i32>>,
}

const MAGIC: &[u8; 4] = b"CTMW";

impl Weights {
    /// Glorot-uniform initial weights from the job seed; biases zero. The bound
    /// `sqrt(6 / (fan_in + fan_out))` is an integer square root in Q16.16.
    pub fn init(spec: &TrainSpec) -> Weights {
        let dims = spec.dims();
        let mut rng = Rng::new(derive(spec.seed, DOMAIN_INIT, 0));
        let layers = dims
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0] as u64, w[1] as u64);
                let bound = ((6u64 << 32) / (fan_in + fan_out)).isqrt() as i64;
                let mut v: Vec<i32> = (0..fan_in * fan_out)
                    .map(|_| (rng.below(2 * bound as u64 + 1) as i64 - bound) as i32)
                    .collect();
                v.resize(((fan_in + 1) * fan_out) as usize, 0);
                v
            })
            .collect();
        Weights { dims, layers }
    }

    /// The weights commitment (see [`crate::commit`]).
    pub fn commitment(&self) -> Digest {
        weights_commitment(&self.dims, &self.layers)
    }

    /// Checks the shape against layer sizes `dims`.
    pub fn check_shape(&self, dims: &[usize]) -> Result<()> {
        let ok = self.dims == dims
            && self.layers.len() + 1 == dims.len()
            && self.layers.iter().zip(dims.windows(2)).all(|(l, w)| l.len() == (w[0] + 1) * w[1]);
        if ok {
            Ok(())
        } else {
            Err(ExecutorError::ShapeMismatch { expected: dims.to_vec(), actual: self.dims.clone() })
        }
    }

    /// Binary encoding: `CTMW`, `u32` layer-size count, sizes, then all values; little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(self.dims.len() as u32).to_le_bytes());
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        for v in self.layers.iter().flatten() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Decodes [`Weights::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Weights> {
        let bad = |r: &str| ExecutorError::corrupt("weights file", r);
        let mut words = bytes
            .get(4..)
            .filter(|_| bytes.starts_with(MAGIC))
            .ok_or_else(|| bad("no CTMW magic"))?
            .chunks(4)
            .map(|c| c.try_into().map(u32::from_le_bytes).map_err(|_| bad("truncated")));
        let n = words.next().ok_or_else(|| bad("empty"))?? as usize;
        if !(2..=16).contains(&n) {
            return Err(bad("bad layer count"));
        }
        let dims = (0..n)
            .map(|_| words.next().ok_or_else(|| bad("truncated")).and_then(|w| Ok(w? as usize)))
            .collect::<Result<Vec<_>>>()?;
        if dims.iter().any(|&d| d == 0 || d > MAX_DIM) {
            return Err(bad("bad layer size"));
        }
        let values: usize = dims.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
        if bytes.len() != 8 + 4 * n + 4 * values {
            return Err(bad("length does not match the layer sizes"));
        }
        let mut layers = Vec::new();
        for w in dims.windows(2) {
            let layer = (0..(w[0] + 1) * w[1])
                .map(|_| words.next().ok_or_else(|| bad("truncated")).and_then(|v| Ok(v? as i32)))
                .collect::<Result<Vec<_>>>()?;
            layers.push(layer);
        }
        if words.next().is_some() {
            return Err(bad("trailing bytes"));
        }
        Ok(Weights { dims, layers })
    }
}

/// Parses a decimal learning rate such as `0.1` into Q16.16.
pub fn parse_learning_rate(s: &str) -> Result<i32> {
    let v: f64 = s.parse().map_err(|_| ExecutorError::spec("learning_rate", "not a number"))?;
    fixed::from_f64(v)
        .filter(|&q| q > 0 && i64::from(q) <= LR_MAX)
        .ok_or_else(|| ExecutorError::spec("learning_rate", "must be in (0, 16]"))
}

/// Formats a Q16.16 value for display.
pub fn show_q(q: i64) -> String {
    format!("{:.4}", q as f64 / ONE as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TrainSpec {
        TrainSpec {
            model: ModelKind::Mlp { hidden: vec![8] },
            dataset: Digest::ZERO,
            n_features: 4,
            n_classes: 3,
            batch_size: 4,
            learning_rate: 1 << 14,
            steps: 10,
            checkpoint_interval: 3,
            seed: 1,
            holdout_permille: 200,
        }
    }

    #[test]
    fn weights_round_trip_and_reject_garbage() {
        let w = Weights::init(&spec());
        w.check_shape(&[4, 8, 3]).unwrap();
        assert_eq!(Weights::from_bytes(&w.to_bytes()).unwrap(), w);
        let bytes = w.to_bytes();
        assert!(Weights::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(Weights::from_bytes(b"nope").is_err());
        assert!(Weights::from_bytes(&[]).is_err());
    }

    #[test]
    fn spec_digest_and_checkpoint_steps() {
        let s = spec();
        assert_eq!(s.checkpoints(), 4);
        assert_eq!((0..=4).map(|i| s.checkpoint_step(i)).collect::<Vec<_>>(), [0, 3, 6, 9, 10]);
        let mut t = s.clone();
        t.seed = 2;
        assert_ne!(s.digest(), t.digest());
        assert!(s.validate(100).is_ok());
        t.learning_rate = 0;
        assert!(t.validate(100).is_err());
        assert_eq!(parse_learning_rate("0.5").unwrap(), 1 << 15);
        assert!(parse_learning_rate("-1").is_err());
    }
}
