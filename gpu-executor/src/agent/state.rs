//! What the agent remembers across restarts, in its work directory.
//!
//! ```text
//! <workdir>/agent.json              AgentState: provider, chain id, log cursor, per-job records
//! <workdir>/jobs/<id>/              the job's CheckpointStore (manifest, checkpoints, attestation)
//! ```
//!
//! `agent.json` is rewritten atomically (temporary file + rename) after every change of phase,
//! so a killed agent restarts at the last completed step; the chain (`getJob`) is re-read
//! before every action, so the file can lag behind the chain but never makes the agent act
//! twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::error::{ExecutorError, Result};

/// State file name.
pub const STATE_FILE: &str = "agent.json";

/// Where a job stands for this agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Seen in a `JobAssigned` log; not acted on yet.
    Assigned,
    /// The agent cannot run it (unknown dataset or model, deadline passed): left alone.
    Skipped,
    /// Accepted with collateral; training.
    Accepted,
    /// The signed attestation is on chain; waiting for the challenge window.
    Attested,
    /// Paid out.
    Settled,
    /// Refunded to the client (cancelled, timed out, disputed) or reassigned: nothing to do.
    Closed,
}

impl Phase {
    /// Whether nothing is left to do.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Skipped | Phase::Settled | Phase::Closed)
    }
}

/// What the agent knows about one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    /// Phase.
    pub phase: Phase,
    /// Recipe it trains with (once accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<String>,
    /// Streamed checkpoint payments claimed so far (0..=10).
    #[serde(default)]
    pub claimed: u32,
    /// Commitment of the submitted attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<B256>,
    /// Why it was skipped or closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl JobRecord {
    /// A job just seen.
    pub fn assigned() -> JobRecord {
        JobRecord {
            phase: Phase::Assigned,
            recipe: None,
            claimed: 0,
            attestation: None,
            note: None,
        }
    }
}

/// The persisted agent state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentState {
    /// Provider address the directory belongs to.
    pub provider: Option<Address>,
    /// Chain id the directory belongs to.
    pub chain_id: Option<u64>,
    /// Next block to scan for `JobAssigned` logs.
    pub cursor: u64,
    /// Jobs by id.
    pub jobs: BTreeMap<u64, JobRecord>,
}

impl AgentState {
    /// Loads `<dir>/agent.json` (or a fresh state) and checks that it belongs to `provider`
    /// on `chain_id`.
    pub fn load(dir: &Path, provider: Address, chain_id: u64) -> Result<AgentState> {
        let path = dir.join(STATE_FILE);
        let mut state = if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(ExecutorError::io(&path))?;
            serde_json::from_str(&text)
                .map_err(|e| ExecutorError::corrupt(path.display().to_string(), e.to_string()))?
        } else {
            AgentState::default()
        };
        let wrong = |reason: String| ExecutorError::Workdir { dir: dir.to_path_buf(), reason };
        match state.provider {
            Some(p) if p != provider => {
                return Err(wrong(format!("holds the state of provider {p}, not {provider}")));
            }
            _ => state.provider = Some(provider),
        }
        match state.chain_id {
            Some(c) if c != chain_id => {
                return Err(wrong(format!("holds the state of chain {c}, not {chain_id}")));
            }
            _ => state.chain_id = Some(chain_id),
        }
        Ok(state)
    }

    /// Writes `<dir>/agent.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| ExecutorError::corrupt("agent state", e.to_string()))?;
        let (tmp, path) = (dir.join(format!(".{STATE_FILE}.tmp")), dir.join(STATE_FILE));
        std::fs::write(&tmp, text).map_err(ExecutorError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(ExecutorError::io(&path))
    }

    /// The jobs not yet final.
    pub fn open_jobs(&self) -> Vec<u64> {
        self.jobs.iter().filter(|(_, r)| !r.phase.is_final()).map(|(id, _)| *id).collect()
    }
}

/// The checkpoint directory of job `id`.
pub fn job_dir(workdir: &Path, id: u64) -> PathBuf {
    workdir.join("jobs").join(id.to_string())
}
