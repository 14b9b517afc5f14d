//! From a dataset to what a backend trains on: the deterministic train / held-out split,
//! integer feature normalization, and the minibatch schedule.
//!
//! - Split: the rows are shuffled with [`rng::SPLIT_SEED`]; the first
//!   `max(1, rows · holdout‰ / 1000)` are held out, the rest train.
//! - Normalization (statistics of the training rows only, exact integer arithmetic):
//!   `mean = floor(Σx / n)`, `var = floor(Σ(x − mean)² / n)` (Q32.32), `std = isqrt(var)`
//!   (Q16.16), `x' = clamp(div_round((x − mean) · 2^16, std), ±8.0)`; a constant feature becomes 0.
//! - Schedule: epoch `e` visits the training rows in the order `permutation(n, derive(seed,
//!   EPOCH, e))`; step `s` is batch `s mod (n / B)` of epoch `s / (n / B)` (a partial last batch
//!   is dropped), so any step's batch is known without replaying the steps before it.

use crate::data::Dataset;
use crate::error::{ExecutorError, Result};
use crate::fixed::{INPUT_MAX, div_round, sat};
use crate::rng::{self, DOMAIN_EPOCH, derive, permutation};

/// Normalized rows and labels of one side of the split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Features per row.
    pub n_features: usize,
    /// Row-major normalized features, Q16.16.
    pub features: Vec<i32>,
    /// Labels (as `i32`, the type the kernels read).
    pub labels: Vec<i32>,
}

impl Split {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }
}

/// The training and held-out sets of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Training rows.
    pub train: Split,
    /// Held-out rows.
    pub test: Split,
    /// Number of classes.
    pub n_classes: usize,
}

impl Prepared {
    /// Splits and normalizes `data` with `holdout_permille` of the rows held out.
    pub fn new(data: &Dataset, holdout_permille: u32) -> Result<Prepared> {
        let n = data.rows();
        let n_test = (n * holdout_permille as usize / 1000).max(1);
        if n_test >= n {
            return Err(ExecutorError::spec("holdout_permille", "leaves no training rows"));
        }
        let order = permutation(n, rng::SPLIT_SEED);
        let (test_rows, train_rows) = order.split_at(n_test);
        let f = data.n_features;
        let (mean, std) = statistics(data, train_rows);
        let side = |rows: &[u32]| {
            let mut features = Vec::with_capacity(rows.len() * f);
            for &r in rows {
                for (j, &x) in data.row(r as usize).iter().enumerate() {
                    let v = if std[j] == 0 {
                        0
                    } else {
                        sat(div_round((i64::from(x) - mean[j]) << 16, std[j]), INPUT_MAX)
                    };
                    features.push(v as i32);
                }
            }
            let labels = rows.iter().map(|&r| data.labels[r as usize] as i32).collect();
            Split { n_features: f, features, labels }
        };
        Ok(Prepared { train: side(train_rows), test: side(test_rows), n_classes: data.n_classes })
    }
}

/// Per-feature integer mean (Q16.16) and standard deviation (Q16.16) over `rows`.
fn statistics(data: &Dataset, rows: &[u32]) -> (Vec<i64>, Vec<i64>) {
    let f = data.n_features;
    let n = rows.len() as i128;
    let mut sum = vec![0i128; f];
    for &r in rows {
        for (s, &x) in sum.iter_mut().zip(data.row(r as usize)) {
            *s += i128::from(x);
        }
    }
    let mean: Vec<i64> = sum.iter().map(|s| s.div_euclid(n) as i64).collect();
    let mut sq = vec![0i128; f];
    for &r in rows {
        for ((s, &x), &m) in sq.iter_mut().zip(data.row(r as usize)).zip(&mean) {
            let d = i128::from(i64::from(x) - m);
            *s += d * d;
        }
    }
    let std = sq.iter().map(|s| ((s / n) as u128).isqrt() as i64).collect();
    (mean, std)
}

/// The minibatch schedule of a job (see the module docs).
#[derive(Debug, Clone)]
pub struct Schedule {
    n_train: usize,
    batch: usize,
    seed: u64,
    epoch: Option<(u64, Vec<u32>)>,
}

impl Schedule {
    /// The schedule of `n_train` rows in batches of `batch` (`1 ≤ batch ≤ n_train`).
    pub fn new(n_train: usize, batch: usize, seed: u64) -> Schedule {
        Schedule { n_train, batch, seed, epoch: None }
    }

    /// Steps per epoch: `n_train / batch`.
    pub fn steps_per_epoch(&self) -> u64 {
        (self.n_train / self.batch.max(1)).max(1) as u64
    }

    /// The epoch that `step` belongs to.
    pub fn epoch_of(&self, step: u64) -> u64 {
        step / self.steps_per_epoch()
    }

    /// The order of the training rows in `epoch`.
    pub fn epoch_order(&mut self, epoch: u64) -> &[u32] {
        if self.epoch.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let perm = permutation(self.n_train, derive(self.seed, DOMAIN_EPOCH, epoch));
            self.epoch = Some((epoch, perm));
        }
        self.epoch.as_ref().map(|(_, p)| p.as_slice()).unwrap_or_default()
    }

    /// Offset of `step`'s batch inside its epoch order.
    pub fn offset(&self, step: u64) -> usize {
        (step % self.steps_per_epoch()) as usize * self.batch
    }

    /// The training rows of `step`.
    pub fn batch(&mut self, step: u64) -> &[u32] {
        let (off, b) = (self.offset(step), self.batch);
        let order = self.epoch_order(self.epoch_of(step));
        &order[off..off + b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_normalization() {
        let d = Dataset::load("iris").unwrap();
        let p = Prepared::new(&d, 200).unwrap();
        assert_eq!((p.train.rows(), p.test.rows()), (120, 30));
        // Normalized training features have mean ≈ 0 and std ≈ 1.
        for j in 0..4 {
            let col: Vec<f64> =
                (0..120).map(|r| p.train.features[r * 4 + j] as f64 / 65536.0).collect();
            let mean = col.iter().sum::<f64>() / 120.0;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 120.0;
            assert!(mean.abs() < 1e-3 && (var - 1.0).abs() < 1e-2, "{mean} {var}");
        }
        assert!(Prepared::new(&d, 1000).is_err());
    }

    #[test]
    fn schedule_covers_each_row_once_per_epoch() {
        let mut s = Schedule::new(10, 3, 5);
        assert_eq!(s.steps_per_epoch(), 3);
        let mut seen: Vec<u32> = (0..3).flat_map(|st| s.batch(st).to_vec()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        let e0 = s.batch(0).to_vec();
        assert_ne!(e0, s.batch(3).to_vec());
        assert_eq!(e0, s.batch(0).to_vec());
    }
}
