//! The node's own copy of the L2 state: the sequencer's genesis block applied to an empty tree,
//! then every batch's blocks in order. The sequencer never serves pre-states; the replica's root
//! after each batch must equal the batch's `newStateRoot` on L1.

use alloy::primitives::B256;
use ctm_core::{GenesisConfig, MemoryStore, Rules, StateTree, apply, write_block};

use super::error::{NodeError, Result};
use crate::witness::Block;

/// The L2 state after batch [`Replica::batch`].
pub struct Replica {
    tree: StateTree<MemoryStore>,
    batch: u64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("batch", &self.batch).field("root", &self.root()).finish()
    }
}

impl Replica {
    /// The genesis state of `genesis` as the sequencer builds it on an L1-settled chain (no dev
    /// accounts): [`ctm_sequencer::node::genesis_block`] applied to an empty tree.
    pub fn genesis(genesis: &GenesisConfig, rules: &Rules) -> Result<Self> {
        let tree_err = |e: ctm_core::TreeError| NodeError::Config(format!("genesis tree: {e}"));
        let mut tree = StateTree::in_memory(genesis.chain.tree_depth).map_err(tree_err)?;
        let (_, writes) = ctm_sequencer::node::genesis_block(&tree, rules, &[], 0)
            .map_err(|e| NodeError::Config(e.to_string()))?;
        write_block(&mut tree, writes).map_err(tree_err)?;
        Ok(Self { tree, batch: 0 })
    }

    /// The state after batch `batch` as a snapshot gave it (the caller checks the root).
    pub fn restored(tree: StateTree<MemoryStore>, batch: u64) -> Self {
        Self { tree, batch }
    }

    /// The last batch applied (0: genesis).
    pub fn batch(&self) -> u64 {
        self.batch
    }

    /// The state root as L1 stores it.
    pub fn root(&self) -> B256 {
        self.tree.root().to_bytes32()
    }

    /// The state tree.
    pub fn tree(&self) -> &StateTree<MemoryStore> {
        &self.tree
    }

    /// Applies batch `batch`'s blocks (each at its timestamp, as the sequencer committed them)
    /// and checks the result against `expected`. On error the replica is unusable (partially
    /// applied) and must be rebuilt.
    pub fn apply(
        &mut self,
        batch: u64,
        rules: &Rules,
        blocks: &[Block],
        expected: B256,
    ) -> Result<()> {
        for (i, block) in blocks.iter().enumerate() {
            apply(&mut self.tree, rules, block.timestamp, &block.ops).map_err(|e| {
                NodeError::BadBatch { batch, reason: format!("block {i} does not apply: {e}") }
            })?;
        }
        self.advance(batch, expected)
    }

    /// Replaces the state by `tree`, the state after batch `batch` (from the witness builder),
    /// if its root is `expected`; otherwise the replica is unchanged.
    pub fn replace(
        &mut self,
        batch: u64,
        tree: StateTree<MemoryStore>,
        expected: B256,
    ) -> Result<()> {
        let got = tree.root().to_bytes32();
        if got != expected {
            return Err(NodeError::RootMismatch { batch, expected, got });
        }
        self.tree = tree;
        self.batch = batch;
        Ok(())
    }

    fn advance(&mut self, batch: u64, expected: B256) -> Result<()> {
        let got = self.root();
        if got != expected {
            return Err(NodeError::RootMismatch { batch, expected, got });
        }
        self.batch = batch;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_of_an_l1_settled_chain_is_the_empty_tree() {
        let g = GenesisConfig::preset("computronium").unwrap();
        let r = Replica::genesis(&g, &Rules::from_config(&g)).unwrap();
        assert_eq!(r.batch(), 0);
        assert_eq!(r.root(), ctm_core::tree::empty_digests(32)[32].to_bytes32());
    }
}
