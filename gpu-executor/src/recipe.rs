//! Training recipes: the (dataset, model, hyper-parameters) combinations the provider agent
//! knows how to run, and the two commitments a client names in `postJob` to ask for one.
//!
//! A marketplace job carries `dataset` (the dataset commitment, [`Dataset::commitment`]) and
//! `model` (the commitment of the **initial weights**, [`Weights::commitment`] of
//! [`Weights::init`]). The attestation must repeat both, so a provider can only take a job whose
//! dataset it holds and whose initial weights it can reproduce: the recipes here are the
//! benchmark / learning-test workloads ([`crate::bench::workloads`]), and the initial weights
//! depend on the layer sizes and the seed, which differ between them. `ctm-executor recipe
//! --dataset iris` prints the pair for each recipe of a dataset.

use alloy_primitives::B256;
use ctm_core::Digest;

use crate::bench::workloads;
use crate::data::{BUILTIN, Dataset};
use crate::engine::{Hyper, Job, make_spec};
use crate::error::{ExecutorError, Result};
use crate::model::{ModelKind, TrainSpec, Weights};

/// A recipe resolved against its dataset.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Recipe name (the workload name, e.g. `iris-mlp-4-16-3`).
    pub name: &'static str,
    /// Built-in dataset name.
    pub dataset_name: &'static str,
    /// Model family and shape.
    pub model: ModelKind,
    /// Hyper-parameters.
    pub hyper: Hyper,
    /// The full training spec.
    pub spec: TrainSpec,
    /// Dataset commitment: the job's `dataset`.
    pub dataset: Digest,
    /// Initial-weights commitment: the job's `model`.
    pub initial_weights: Digest,
}

impl Recipe {
    /// `dataset` as the `bytes32` a job names.
    pub fn dataset_bytes32(&self) -> B256 {
        self.dataset.to_bytes32()
    }

    /// `initial_weights` as the `bytes32` a job names in `model`.
    pub fn model_bytes32(&self) -> B256 {
        self.initial_weights.to_bytes32()
    }

    /// The training job (loads and checks the built-in dataset).
    pub fn job(&self) -> Result<Job> {
        Job::new(self.spec.clone(), &Dataset::load(self.dataset_name)?)
    }
}

/// Every known recipe, optionally only those of the built-in dataset `dataset`.
pub fn recipes(dataset: Option<&str>) -> Result<Vec<Recipe>> {
    if let Some(name) = dataset.filter(|n| !BUILTIN.iter().any(|b| b.name == *n)) {
        return Err(ExecutorError::DatasetNotFound { name: name.to_string() });
    }
    let mut out = Vec::new();
    for b in BUILTIN.iter().filter(|b| dataset.is_none_or(|d| d == b.name)) {
        let data = Dataset::parse(b.name, b.bytes)?;
        for w in workloads().into_iter().filter(|w| w.dataset == b.name) {
            let spec = make_spec(w.model.clone(), &data, &w.hyper)?;
            let initial_weights = Weights::init(&spec).commitment();
            out.push(Recipe {
                name: w.name,
                dataset_name: b.name,
                model: w.model,
                hyper: w.hyper,
                dataset: spec.dataset,
                initial_weights,
                spec,
            });
        }
    }
    Ok(out)
}

/// The first recipe whose dataset and initial weights are the job's `dataset` and `model`.
pub fn find<'a>(recipes: &'a [Recipe], dataset: &B256, model: &B256) -> Option<&'a Recipe> {
    recipes.iter().find(|r| r.dataset_bytes32() == *dataset && r.model_bytes32() == *model)
}

/// Why no recipe fits a job: the dataset is unknown, or the model is not one of its recipes'.
pub fn why_not(recipes: &[Recipe], dataset: &B256, model: &B256) -> String {
    let of_dataset: Vec<&Recipe> =
        recipes.iter().filter(|r| r.dataset_bytes32() == *dataset).collect();
    match of_dataset.first() {
        None => {
            format!("dataset {dataset} is not one this agent holds (see `ctm-executor datasets`)")
        }
        Some(r) => format!(
            "model {model} is not the initial weights of any recipe for {} (see `ctm-executor \
             recipe --dataset {}`)",
            r.dataset_name, r.dataset_name
        ),
    }
}
