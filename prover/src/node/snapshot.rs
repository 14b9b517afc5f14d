//! Replica snapshots: a replica's leaves after a batch, kept in the node's data directory so that
//! a restarted node resumes from there instead of replaying the chain from genesis.
//!
//! One JSON file per replica (`head.json`, `takeover.json`), replaced atomically (written to a
//! temporary file, synced, renamed). A snapshot is trusted only as far as it checks out: on load
//! the tree is rebuilt from the leaves and must give the recorded root, and the node then
//! compares that root with L1's `newStateRoot` of the snapshot's batch before using it; anything
//! else (missing, corrupt, another chain, reverted batches) falls back to genesis.

use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use ctm_core::StateTree;
use ctm_core::tree::Leaf;
use serde::{Deserialize, Serialize};

use super::replica::Replica;

/// Format version of the snapshot file.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    l2_chain_id: u64,
    depth: u8,
    batch: u64,
    root: B256,
    leaves: Vec<(u64, Leaf)>,
}

/// When and where one replica is snapshotted.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The data directory.
    pub dir: PathBuf,
    /// Snapshot after every `every`-th batch.
    pub every: u64,
    /// The L2 chain id (recorded and checked on load).
    pub l2_chain_id: u64,
    /// The replica's file name (without `.json`).
    pub name: &'static str,
}

impl Policy {
    /// Saves `replica` if its batch is due. A failure is logged, not fatal: the node keeps
    /// running and a restart replays from an older snapshot or from genesis.
    pub fn after_batch(&self, replica: &Replica) {
        if !replica.batch().is_multiple_of(self.every) {
            return;
        }
        match save(&self.dir, self.name, self.l2_chain_id, replica) {
            Ok(()) => {
                tracing::debug!(batch = replica.batch(), name = self.name, "replica snapshot")
            }
            Err(e) => tracing::warn!(error = %e, name = self.name, "replica snapshot failed"),
        }
    }
}

/// The snapshot file of the replica called `name` in `dir`.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Writes `replica` as `name` in `dir` (created if missing), replacing the previous snapshot
/// atomically.
pub fn save(dir: &Path, name: &str, l2_chain_id: u64, replica: &Replica) -> std::io::Result<()> {
    let snapshot = Snapshot {
        version: VERSION,
        l2_chain_id,
        depth: replica.tree().depth(),
        batch: replica.batch(),
        root: replica.root(),
        leaves: replica.tree().store().leaves().map(|(s, l)| (s, l.clone())).collect(),
    };
    std::fs::create_dir_all(dir)?;
    let target = path(dir, name);
    let tmp = target.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    serde_json::to_writer(std::io::BufWriter::new(&mut f), &snapshot)?;
    f.flush()?;
    f.sync_all()?;
    std::fs::rename(&tmp, &target)?;
    Ok(())
}

/// The replica saved as `name` in `dir`: `Ok(None)` when there is none, `Err` (with the reason)
/// when the file does not check out for this chain and tree depth.
pub fn load(
    dir: &Path,
    name: &str,
    l2_chain_id: u64,
    depth: u8,
) -> Result<Option<Replica>, String> {
    let file = path(dir, name);
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let s: Snapshot =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if s.version != VERSION || s.l2_chain_id != l2_chain_id || s.depth != depth {
        return Err(format!(
            "{}: version {}, chain {}, depth {} (expected {VERSION}, {l2_chain_id}, {depth})",
            file.display(),
            s.version,
            s.l2_chain_id,
            s.depth
        ));
    }
    let tree = StateTree::from_leaves(depth, s.leaves).map_err(|e| e.to_string())?;
    if tree.root().to_bytes32() != s.root {
        return Err(format!("{}: the leaves do not give the recorded root", file.display()));
    }
    Ok(Some(Replica::restored(tree, s.batch)))
}

#[cfg(test)]
mod tests {
    use ctm_core::GenesisConfig;

    use super::*;

    #[test]
    fn a_saved_replica_loads_back_and_a_damaged_one_is_refused() {
        let g = GenesisConfig::preset("computronium").unwrap();
        let mut tree = StateTree::in_memory(g.chain.tree_depth).unwrap();
        tree.apply_batch([(b"k1".to_vec(), Some(b"v1".to_vec())), (b"k2".to_vec(), None)]).unwrap();
        let replica = Replica::restored(tree, 7);
        let dir = std::env::temp_dir().join(format!("ctm-snapshot-{}", std::process::id()));
        let (chain, depth) = (g.chain.chain_id, g.chain.tree_depth);
        assert!(matches!(load(&dir, "head", chain, depth), Ok(None)));
        save(&dir, "head", chain, &replica).unwrap();
        let back = load(&dir, "head", chain, depth).unwrap().unwrap();
        assert_eq!((back.batch(), back.root()), (7, replica.root()));
        assert!(load(&dir, "head", chain + 1, depth).is_err(), "another chain");
        // A changed leaf no longer gives the recorded root.
        let text = std::fs::read_to_string(path(&dir, "head")).unwrap();
        std::fs::write(path(&dir, "head"), text.replacen("118,49", "118,50", 1)).unwrap();
        let err = load(&dir, "head", chain, depth).unwrap_err();
        assert!(err.contains("recorded root"), "{err}");
        std::fs::write(path(&dir, "head"), b"{").unwrap();
        assert!(load(&dir, "head", chain, depth).is_err(), "corrupt JSON");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
