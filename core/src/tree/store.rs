//! Where the state tree keeps its nodes and leaves.
//!
//! The tree stores only what differs from an empty tree: nodes equal to the empty-subtree digest
//! of their level and empty leaves are absent. [`TreeStore::commit`] receives one whole batch of
//! changes so that a persistent store (the sequencer's redb) can write it atomically.

use std::collections::HashMap;
use std::convert::Infallible;

use crate::hash::Digest;

/// A leaf of the state tree: a canonical key and its canonical value. An empty value is a
/// tombstone: the key was deleted but the slot must stay occupied because a probe chain runs
/// through it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Leaf {
    /// Canonical key bytes.
    pub key: Vec<u8>,
    /// Canonical value bytes (empty for a tombstone).
    pub value: Vec<u8>,
}

/// One batch of changes to write.
#[derive(Clone, Debug, Default)]
pub struct TreeChanges {
    /// Leaves by slot; `None` empties the slot.
    pub leaves: Vec<(u64, Option<Leaf>)>,
    /// Nodes by (level, index); `None` means the node is back to its empty-subtree digest.
    /// Level 0 holds leaf digests; level `depth`, index 0, is the root.
    pub nodes: Vec<(u8, u64, Option<Digest>)>,
}

/// Storage behind a [`super::StateTree`].
pub trait TreeStore {
    /// The store's own error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// A stored node, or `None` for an empty subtree.
    fn node(&self, level: u8, index: u64) -> Result<Option<Digest>, Self::Error>;
    /// A stored leaf, or `None` for an empty slot.
    fn leaf(&self, slot: u64) -> Result<Option<Leaf>, Self::Error>;
    /// Writes a batch of changes (atomically, for persistent stores).
    fn commit(&mut self, changes: TreeChanges) -> Result<(), Self::Error>;
}

/// An in-memory [`TreeStore`].
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    nodes: HashMap<(u8, u64), Digest>,
    leaves: HashMap<u64, Leaf>,
}

impl MemoryStore {
    /// Number of stored (non-empty) leaves, tombstones included.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// Every stored leaf with its slot, in no particular order.
    pub fn leaves(&self) -> impl Iterator<Item = (u64, &Leaf)> {
        self.leaves.iter().map(|(s, l)| (*s, l))
    }
}

impl TreeStore for MemoryStore {
    type Error = Infallible;

    fn node(&self, level: u8, index: u64) -> Result<Option<Digest>, Infallible> {
        Ok(self.nodes.get(&(level, index)).copied())
    }

    fn leaf(&self, slot: u64) -> Result<Option<Leaf>, Infallible> {
        Ok(self.leaves.get(&slot).cloned())
    }

    fn commit(&mut self, changes: TreeChanges) -> Result<(), Infallible> {
        for (slot, leaf) in changes.leaves {
            match leaf {
                Some(l) => self.leaves.insert(slot, l),
                None => self.leaves.remove(&slot),
            };
        }
        for (level, index, node) in changes.nodes {
            match node {
                Some(d) => self.nodes.insert((level, index), d),
                None => self.nodes.remove(&(level, index)),
            };
        }
        Ok(())
    }
}
