//! The CPU reference backend: the step of [`super`] with rayon over output rows.
//!
//! Runs on the current rayon pool (install a `ThreadPool` to pick the thread count); the result
//! is the same for any number of threads because each output element is one exact `i64` sum.

use rayon::prelude::*;

use super::Backend;
use crate::error::Result;
use crate::fixed::{
    FRAC, GRAD_MAX, ONE, VALUE_MAX, div_round, round_shift, sat, softmax_xent_grad,
};
use crate::model::{TrainSpec, Weights};
use crate::prep::{Schedule, Split};

/// Multiply-adds one rayon task gets at least: smaller layers are not split, since a task
/// costs about as much as this many multiply-adds (splitting never changes the result).
const MIN_WORK_PER_TASK: usize = 64 * 1024;

/// Rows per rayon task for rows of `work` multiply-adds each.
fn min_rows(work: usize) -> usize {
    (MIN_WORK_PER_TASK / work.max(1)).max(1)
}

/// The CPU reference backend.
#[derive(Debug)]
pub struct CpuBackend<'a> {
    train: &'a Split,
    dims: Vec<usize>,
    batch: usize,
    lr: i64,
    /// `acts[l]`: the input of layer `l` (`acts[L]` the logits), `B × dims[l]`.
    acts: Vec<Vec<i32>>,
    /// `grads[l]`: the loss gradient with respect to `acts[l]`.
    grads: Vec<Vec<i32>>,
    labels: Vec<i32>,
}

impl<'a> CpuBackend<'a> {
    /// A backend for `spec` on the training rows `train`.
    pub fn new(spec: &TrainSpec, train: &'a Split) -> Self {
        let dims = spec.dims();
        let b = spec.batch_size;
        let acts: Vec<Vec<i32>> = dims.iter().map(|&d| vec![0; b * d]).collect();
        let grads = acts.clone();
        let lr = i64::from(spec.learning_rate);
        CpuBackend { train, dims, batch: b, lr, acts, grads, labels: vec![0; b] }
    }

    /// One SGD step on the training rows `rows`.
    pub fn step(&mut self, weights: &mut Weights, rows: &[u32]) {
        let (b, f) = (self.batch, self.dims[0]);
        for (k, &r) in rows.iter().enumerate() {
            let r = r as usize;
            self.acts[0][k * f..(k + 1) * f]
                .copy_from_slice(&self.train.features[r * f..(r + 1) * f]);
            self.labels[k] = self.train.labels[r];
        }
        let n_layers = self.dims.len() - 1;
        for l in 0..n_layers {
            let (lo, hi) = self.acts.split_at_mut(l + 1);
            let relu = l + 1 < n_layers;
            linear_forward(&lo[l], &weights.layers[l], &mut hi[0], self.dims[l], relu);
        }
        let c = self.dims[n_layers];
        self.grads[n_layers]
            .par_chunks_mut(c)
            .zip(self.acts[n_layers].par_chunks(c))
            .zip(self.labels.par_iter())
            .with_min_len(min_rows(8 * c))
            .for_each(|((g, z), &y)| softmax_xent_grad(z, y as usize, g));
        for l in (0..n_layers).rev() {
            let (lo, hi) = self.grads.split_at_mut(l + 1);
            let g_out = &hi[0];
            if l > 0 {
                input_grad(g_out, &weights.layers[l], &self.acts[l], &mut lo[l], self.dims[l]);
            }
            sgd_update(&mut weights.layers[l], &self.acts[l], g_out, self.dims[l], b, self.lr);
        }
    }
}

impl Backend for CpuBackend<'_> {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn run(
        &mut self,
        weights: &mut Weights,
        schedule: &mut Schedule,
        from: u64,
        to: u64,
    ) -> Result<()> {
        weights.check_shape(&self.dims)?;
        for step in from..to {
            let rows = schedule.batch(step).to_vec();
            self.step(weights, &rows);
        }
        Ok(())
    }
}

/// `z = sat(round_shift(x · W + bias, 16))` (ReLU if `relu`), `x` is `B × inputs`.
pub fn linear_forward(x: &[i32], w: &[i32], z: &mut [i32], inputs: usize, relu: bool) {
    let outputs = w.len() / (inputs + 1);
    let bias = &w[inputs * outputs..];
    z.par_chunks_mut(outputs)
        .zip(x.par_chunks(inputs))
        .with_min_len(min_rows((inputs + 1) * outputs))
        .for_each_init(
            || vec![0i64; outputs],
            |acc, (zr, xr)| {
                for (a, &bv) in acc.iter_mut().zip(bias) {
                    *a = ONE * i64::from(bv);
                }
                for (i, &xi) in xr.iter().enumerate() {
                    if xi != 0 {
                        let wr = &w[i * outputs..(i + 1) * outputs];
                        for (a, &wv) in acc.iter_mut().zip(wr) {
                            *a += i64::from(xi) * i64::from(wv);
                        }
                    }
                }
                for (zv, &a) in zr.iter_mut().zip(acc.iter()) {
                    let v = sat(round_shift(a, FRAC), VALUE_MAX);
                    *zv = if relu && v < 0 { 0 } else { v as i32 };
                }
            },
        );
}

/// `g_in[b][i] = (a[b][i] > 0) ? sat(round_shift(Σ_o g_out[b][o] · W[i][o], 16)) : 0`.
pub fn input_grad(g_out: &[i32], w: &[i32], a: &[i32], g_in: &mut [i32], inputs: usize) {
    let outputs = w.len() / (inputs + 1);
    g_in.par_chunks_mut(inputs)
        .zip(g_out.par_chunks(outputs))
        .zip(a.par_chunks(inputs))
        .with_min_len(min_rows(inputs * outputs))
        .for_each(|((gi, go), ar)| {
            for (i, (g, &av)) in gi.iter_mut().zip(ar).enumerate() {
                *g = if av > 0 {
                    let wr = &w[i * outputs..(i + 1) * outputs];
                    let acc: i64 =
                        go.iter().zip(wr).map(|(&gv, &wv)| i64::from(gv) * i64::from(wv)).sum();
                    sat(round_shift(acc, FRAC), VALUE_MAX) as i32
                } else {
                    0
                };
            }
        });
}

/// `W[i][o] = sat(W − div_round(sat(round_shift(Σ_b a[b][i] · g[b][o], 16), GRAD_MAX) · lr,
/// B · 2^16))`, with `a[b][inputs] = 1.0` for the bias row.
pub fn sgd_update(w: &mut [i32], a: &[i32], g: &[i32], inputs: usize, batch: usize, lr: i64) {
    let outputs = w.len() / (inputs + 1);
    let denom = (batch as i64) << FRAC;
    let min = min_rows(batch * outputs);
    w.par_chunks_mut(outputs).enumerate().with_min_len(min).for_each_init(
        || vec![0i64; outputs],
        |acc, (i, wr)| {
            acc.fill(0);
            for b in 0..batch {
                let av = if i == inputs { ONE } else { i64::from(a[b * inputs + i]) };
                if av != 0 {
                    for (s, &gv) in acc.iter_mut().zip(&g[b * outputs..(b + 1) * outputs]) {
                        *s += av * i64::from(gv);
                    }
                }
            }
            for (wv, &s) in wr.iter_mut().zip(acc.iter()) {
                let grad = sat(round_shift(s, FRAC), GRAD_MAX);
                *wv = sat(i64::from(*wv) - div_round(grad * lr, denom), VALUE_MAX) as i32;
            }
        },
    );
}
