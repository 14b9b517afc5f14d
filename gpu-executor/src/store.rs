//! The checkpoint chain and its on-disk form in a job's output directory.
//!
//! ```text
//! <dir>/manifest.json          Manifest: dataset name, spec, spec digest, checkpoint records
//! <dir>/checkpoint-00000.bin   weights of checkpoint 0 (the initial weights), Weights::to_bytes
//! <dir>/checkpoint-00001.bin   weights after `checkpoint_interval` steps, …
//! <dir>/attestation.json       the signed attestation (when a provider key was given)
//! ```
//!
//! The manifest is rewritten (write to a temporary file, then rename) after each checkpoint's
//! weights are on disk, so a restarted run resumes from the last complete checkpoint.

use std::path::{Path, PathBuf};

use ctm_core::Digest;
use serde::{Deserialize, Serialize};

use crate::commit::link;
use crate::error::{ExecutorError, Result};
use crate::model::{TrainSpec, Weights};

/// Manifest file name.
pub const MANIFEST: &str = "manifest.json";
/// Attestation file name.
pub const ATTESTATION: &str = "attestation.json";

/// One checkpoint of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Index in the chain (0 = initial weights).
    pub index: u32,
    /// Steps trained when it was taken.
    pub step: u64,
    /// Commitment of its weights.
    pub weights: Digest,
    /// Chain link: commits to the previous link, the step and the weights.
    pub link: Digest,
}

/// What a job's output directory records about the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Dataset name or path used (informational; the spec holds its commitment).
    pub dataset_name: String,
    /// The training specification.
    pub spec: TrainSpec,
    /// `spec.digest()`: the start of the chain.
    pub spec_digest: Digest,
    /// The checkpoints so far, in order.
    pub checkpoints: Vec<Checkpoint>,
}

impl Manifest {
    /// An empty chain for `spec`.
    pub fn new(dataset_name: &str, spec: TrainSpec) -> Manifest {
        let spec_digest = spec.digest();
        Manifest { dataset_name: dataset_name.into(), spec, spec_digest, checkpoints: Vec::new() }
    }

    /// The record that extends the chain with `weights` at the next checkpoint.
    pub fn next(&self, weights: &Digest) -> Checkpoint {
        let index = self.checkpoints.len() as u32;
        let prev = self.checkpoints.last().map_or(self.spec_digest, |c| c.link);
        let step = self.spec.checkpoint_step(u64::from(index));
        Checkpoint { index, step, weights: *weights, link: link(&prev, step, weights) }
    }

    /// The last link (the chain head), if any.
    pub fn head(&self) -> Option<Digest> {
        self.checkpoints.last().map(|c| c.link)
    }

    /// Whether the chain reaches the last step.
    pub fn is_complete(&self) -> bool {
        self.checkpoints.len() as u64 == self.spec.checkpoints() + 1
    }

    /// Recomputes every link, index and step from the spec: a chain whose head matches an
    /// attestation then commits to exactly these checkpoint weights.
    pub fn verify_links(&self) -> Result<()> {
        if self.spec.digest() != self.spec_digest {
            return Err(ExecutorError::BadChain("spec digest does not match the spec".into()));
        }
        if self.checkpoints.len() as u64 > self.spec.checkpoints() + 1 {
            return Err(ExecutorError::BadChain("more checkpoints than the spec allows".into()));
        }
        let mut rebuilt = Manifest { checkpoints: Vec::new(), ..self.clone() };
        for c in &self.checkpoints {
            let want = rebuilt.next(&c.weights);
            if want != *c {
                return Err(ExecutorError::BadChain(format!(
                    "checkpoint {} is not linked",
                    c.index
                )));
            }
            rebuilt.checkpoints.push(want);
        }
        Ok(())
    }
}

/// A job's output directory.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    dir: PathBuf,
}

impl CheckpointStore {
    /// Opens (creating if needed) the directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<CheckpointStore> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(ExecutorError::io(&dir))?;
        Ok(CheckpointStore { dir })
    }

    /// Opens an existing directory for reading.
    pub fn existing(dir: impl AsRef<Path>) -> Result<CheckpointStore> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
            return Err(ExecutorError::Io { path: dir, source: e });
        }
        Ok(CheckpointStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of checkpoint `index`'s weights.
    pub fn weights_path(&self, index: u32) -> PathBuf {
        self.dir.join(format!("checkpoint-{index:05}.bin"))
    }

    /// Reads the manifest, `None` if there is none.
    pub fn load_manifest(&self) -> Result<Option<Manifest>> {
        let path = self.dir.join(MANIFEST);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(ExecutorError::io(&path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExecutorError::corrupt(path.display().to_string(), e.to_string()))
    }

    /// Writes the manifest atomically.
    pub fn save_manifest(&self, m: &Manifest) -> Result<()> {
        let text = serde_json::to_string_pretty(m)
            .map_err(|e| ExecutorError::corrupt("manifest", e.to_string()))?;
        self.write_atomic(MANIFEST, text.as_bytes())
    }

    /// Writes checkpoint `index`'s weights.
    pub fn save_weights(&self, index: u32, w: &Weights) -> Result<()> {
        self.write_atomic(&format!("checkpoint-{index:05}.bin"), &w.to_bytes())
    }

    /// Reads checkpoint `index`'s weights.
    pub fn load_weights(&self, index: u32) -> Result<Weights> {
        let path = self.weights_path(index);
        let bytes = std::fs::read(&path).map_err(ExecutorError::io(&path))?;
        Weights::from_bytes(&bytes)
    }

    /// Reads checkpoint `index`'s weights and checks them against the chain record.
    pub fn load_checked(&self, c: &Checkpoint) -> Result<Weights> {
        let w = self.load_weights(c.index)?;
        let actual = w.commitment();
        if actual != c.weights {
            return Err(ExecutorError::WeightsMismatch {
                index: c.index,
                claimed: c.weights,
                actual,
            });
        }
        Ok(w)
    }

    /// Writes `bytes` to `name` via a temporary file and a rename.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(name);
        std::fs::write(&tmp, bytes).map_err(ExecutorError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(ExecutorError::io(&path))
    }
}
