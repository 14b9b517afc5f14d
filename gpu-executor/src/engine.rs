//! The training engine: a [`Job`] (spec + verified, prepared data) trains segment by segment,
//! extends the checkpoint chain, resumes from an output directory, and re-executes segments for
//! spot checks.

use std::time::Instant;

use ctm_core::Digest;

use crate::backend::{self, BackendKind};
use crate::data::Dataset;
use crate::error::{ExecutorError, Result};
use crate::eval::{Evaluation, evaluate};
use crate::model::{ModelKind, TrainSpec, Weights};
use crate::prep::{Prepared, Schedule};
use crate::store::{Checkpoint, CheckpointStore, Manifest};

/// Hyper-parameters of a job, before they are resolved against a dataset into a [`TrainSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hyper {
    /// Rows per SGD step.
    pub batch_size: usize,
    /// Learning rate, Q16.16.
    pub learning_rate: i32,
    /// Passes over the training rows.
    pub epochs: u64,
    /// A checkpoint every this many steps.
    pub checkpoint_interval: u64,
    /// Seed of initial weights and shuffles.
    pub seed: u64,
    /// Held-out share, per mille.
    pub holdout_permille: u32,
}

/// The spec of training `model` on `dataset` with `hyper` (steps = epochs · ⌊train rows / B⌋).
pub fn make_spec(model: ModelKind, dataset: &Dataset, hyper: &Hyper) -> Result<TrainSpec> {
    let prepared = Prepared::new(dataset, hyper.holdout_permille)?;
    let per_epoch = (prepared.train.rows() / hyper.batch_size.max(1)) as u64;
    let spec = TrainSpec {
        model,
        dataset: dataset.commitment(),
        n_features: dataset.n_features,
        n_classes: dataset.n_classes,
        batch_size: hyper.batch_size,
        learning_rate: hyper.learning_rate,
        steps: hyper.epochs.saturating_mul(per_epoch),
        checkpoint_interval: hyper.checkpoint_interval,
        seed: hyper.seed,
        holdout_permille: hyper.holdout_permille,
    };
    spec.validate(prepared.train.rows())?;
    Ok(spec)
}

/// Options of a training run that do not change its result.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainOptions {
    /// Backend to train on.
    pub backend: BackendKind,
    /// Evaluate loss and held-out accuracy at the end of every epoch (for progress display).
    pub eval_each_epoch: bool,
}

/// Progress of a training run.
#[derive(Debug, Clone)]
pub enum Event {
    /// Training starts (or resumes) at `step` of `total` on `backend`.
    Started {
        /// First step to run.
        step: u64,
        /// Total steps.
        total: u64,
        /// Backend name.
        backend: &'static str,
    },
    /// Steps `..step` are done.
    Progress {
        /// Steps done.
        step: u64,
    },
    /// An epoch ended (`train` / `test` only with `eval_each_epoch`).
    Epoch {
        /// Epoch number (0-based).
        epoch: u64,
        /// Steps done.
        step: u64,
        /// Training-set loss and accuracy.
        train: Option<Evaluation>,
        /// Held-out loss and accuracy.
        test: Option<Evaluation>,
        /// Training throughput so far in this run.
        samples_per_sec: f64,
    },
    /// A checkpoint was committed (and stored).
    Checkpoint(Checkpoint),
}

/// The result of a finished training run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The complete checkpoint chain.
    pub manifest: Manifest,
    /// The final weights.
    pub final_weights: Weights,
    /// Final training-set evaluation (its loss is the attested loss).
    pub train: Evaluation,
    /// Final held-out evaluation (its accuracy is the attested accuracy).
    pub test: Evaluation,
    /// Samples per second of the steps run in this process (0 if none ran).
    pub samples_per_sec: f64,
}

/// A training job: its spec and the dataset, checked against the spec's commitment and prepared.
#[derive(Debug, Clone)]
pub struct Job {
    /// The spec.
    pub spec: TrainSpec,
    /// Split and normalized data.
    pub data: Prepared,
}

impl Job {
    /// Checks `dataset` against `spec.dataset`, validates the spec and prepares the data.
    pub fn new(spec: TrainSpec, dataset: &Dataset) -> Result<Job> {
        let actual = dataset.commitment();
        if actual != spec.dataset {
            return Err(ExecutorError::DatasetMismatch { expected: spec.dataset, actual });
        }
        if (dataset.n_features, dataset.n_classes) != (spec.n_features, spec.n_classes) {
            return Err(ExecutorError::spec("n_features", "does not match the dataset"));
        }
        let data = Prepared::new(dataset, spec.holdout_permille)?;
        spec.validate(data.train.rows())?;
        Ok(Job { spec, data })
    }

    /// The minibatch schedule.
    pub fn schedule(&self) -> Schedule {
        Schedule::new(self.data.train.rows(), self.spec.batch_size, self.spec.seed)
    }

    /// Runs steps `from..to` on `weights` with the backend `kind`.
    pub fn run_steps(
        &self,
        kind: BackendKind,
        weights: &mut Weights,
        from: u64,
        to: u64,
    ) -> Result<()> {
        let mut backend = backend::open(kind, &self.spec, &self.data.train)?;
        backend.run(weights, &mut self.schedule(), from, to)
    }

    /// Evaluates `weights` on the training and held-out rows.
    pub fn evaluate(&self, weights: &Weights) -> (Evaluation, Evaluation) {
        (evaluate(weights, &self.data.train), evaluate(weights, &self.data.test))
    }

    /// Re-executes segment `i → i + 1` from checkpoint `i`'s weights on the CPU reference and
    /// returns the commitment of the resulting weights (checkpoint `i + 1`'s, if honest).
    pub fn spot_check(&self, weights_i: &Weights, i: u32) -> Result<Digest> {
        let i = u64::from(i);
        if i >= self.spec.checkpoints() {
            return Err(ExecutorError::BadChain(format!("no segment starts at checkpoint {i}")));
        }
        let mut w = weights_i.clone();
        let (from, to) = (self.spec.checkpoint_step(i), self.spec.checkpoint_step(i + 1));
        self.run_steps(BackendKind::Cpu, &mut w, from, to)?;
        Ok(w.commitment())
    }

    /// Trains to the end, storing checkpoints in `store` (and resuming from it) when given.
    pub fn train(
        &self,
        dataset_name: &str,
        store: Option<&CheckpointStore>,
        opts: TrainOptions,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Outcome> {
        self.train_until(dataset_name, store, opts, &|| false, on_event)?
            .ok_or_else(|| ExecutorError::BadChain("training stopped early".into()))
    }

    /// Like [`Job::train`], but asks `stop` before each segment (between checkpoints and epoch
    /// ends) and returns `None` when it says so: what is stored so far is a valid prefix of the
    /// chain, and training again with the same store resumes from its last checkpoint.
    pub fn train_until(
        &self,
        dataset_name: &str,
        store: Option<&CheckpointStore>,
        opts: TrainOptions,
        stop: &dyn Fn() -> bool,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Option<Outcome>> {
        let spec = &self.spec;
        let (mut manifest, mut weights) = self.resume(dataset_name, store)?;
        let mut backend = backend::open(opts.backend, spec, &self.data.train)?;
        let mut schedule = self.schedule();
        let per_epoch = schedule.steps_per_epoch();
        let mut step = manifest.checkpoints.last().map_or(0, |c| c.step);
        on_event(&Event::Started { step, total: spec.steps, backend: backend.name() });
        let (start, first) = (Instant::now(), step);
        let mut eval_secs = 0.0;
        while step < spec.steps {
            if stop() {
                return Ok(None);
            }
            let next_ckpt = spec.checkpoint_step(manifest.checkpoints.len() as u64);
            let epoch_end = (schedule.epoch_of(step) + 1) * per_epoch;
            let to = next_ckpt.min(epoch_end);
            backend.run(&mut weights, &mut schedule, step, to)?;
            step = to;
            on_event(&Event::Progress { step });
            if step == next_ckpt {
                let c = manifest.next(&weights.commitment());
                if let Some(store) = store {
                    store.save_weights(c.index, &weights)?;
                    manifest.checkpoints.push(c);
                    store.save_manifest(&manifest)?;
                } else {
                    manifest.checkpoints.push(c);
                }
                on_event(&Event::Checkpoint(c));
            }
            if step == epoch_end || step == spec.steps {
                let secs = start.elapsed().as_secs_f64() - eval_secs;
                let samples_per_sec = rate(step - first, spec.batch_size, secs);
                let eval_start = Instant::now();
                let (train, test) = if opts.eval_each_epoch {
                    let (a, b) = self.evaluate(&weights);
                    (Some(a), Some(b))
                } else {
                    (None, None)
                };
                eval_secs += eval_start.elapsed().as_secs_f64();
                let epoch = (step - 1) / per_epoch;
                on_event(&Event::Epoch { epoch, step, train, test, samples_per_sec });
            }
        }
        let secs = start.elapsed().as_secs_f64() - eval_secs;
        let samples_per_sec = rate(step - first, spec.batch_size, secs);
        let (train, test) = self.evaluate(&weights);
        Ok(Some(Outcome { manifest, final_weights: weights, train, test, samples_per_sec }))
    }

    /// The chain so far and the weights to continue from: the last stored checkpoint whose
    /// weights match the chain, or a fresh chain from the initial weights.
    fn resume(&self, name: &str, store: Option<&CheckpointStore>) -> Result<(Manifest, Weights)> {
        let found = match store {
            Some(s) => s.load_manifest()?.map(|m| (s, m)),
            None => None,
        };
        if let Some((store, mut m)) = found {
            if m.spec_digest != self.spec.digest() || m.spec != self.spec {
                return Err(ExecutorError::OtherJob {
                    dir: store.dir().to_path_buf(),
                    found: m.spec_digest,
                });
            }
            m.verify_links()?;
            while let Some(last) = m.checkpoints.last() {
                match store.load_checked(last) {
                    Ok(w) => return Ok((m, w)),
                    Err(e) => {
                        tracing::warn!("dropping checkpoint {}: {e}", last.index);
                        m.checkpoints.pop();
                    }
                }
            }
        }
        let mut m = Manifest::new(name, self.spec.clone());
        let w = Weights::init(&self.spec);
        let c = m.next(&w.commitment());
        m.checkpoints.push(c);
        if let Some(store) = store {
            store.save_weights(0, &w)?;
            store.save_manifest(&m)?;
        }
        Ok((m, w))
    }
}

/// Samples per second.
fn rate(steps: u64, batch: usize, secs: f64) -> f64 {
    if secs > 0.0 { steps as f64 * batch as f64 / secs } else { 0.0 }
}

/// Re-executes segment `i → i + 1` of `spec` on `dataset` from `weights_i` and returns the
/// commitment of the weights it reaches (see [`Job::spot_check`]; this one also checks and
/// prepares the dataset, so use a [`Job`] for many segments).
pub fn spot_check(
    spec: &TrainSpec,
    dataset: &Dataset,
    weights_i: &Weights,
    i: u32,
) -> Result<Digest> {
    Job::new(spec.clone(), dataset)?.spot_check(weights_i, i)
}
