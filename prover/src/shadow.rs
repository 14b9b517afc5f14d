//! A slot-level view of the state tree used while building a witness: it reads through to the
//! pre-batch store and records every leaf and node it changes, so each single-leaf update yields
//! its siblings and the next intermediate root.

use std::collections::HashMap;

use ctm_core::hash::{Digest, compress};
use ctm_core::tree::{Leaf, MAX_PROBES, empty_digests, leaf_digest, slot_of};
use ctm_core::{MemoryStore, TreeStore};

/// Overlay over a pre-batch [`MemoryStore`].
pub(crate) struct Shadow<'a> {
    base: &'a MemoryStore,
    depth: u8,
    empty: Vec<Digest>,
    nodes: HashMap<(u8, u64), Digest>,
    leaves: HashMap<u64, Option<Leaf>>,
}

fn mask(depth: u8) -> u64 {
    (1u64 << depth) - 1
}

impl<'a> Shadow<'a> {
    pub(crate) fn new(base: &'a MemoryStore, depth: u8) -> Self {
        Self {
            base,
            depth,
            empty: empty_digests(depth),
            nodes: HashMap::new(),
            leaves: HashMap::new(),
        }
    }

    fn node(&self, level: u8, index: u64) -> Digest {
        if let Some(d) = self.nodes.get(&(level, index)) {
            return *d;
        }
        match self.base.node(level, index) {
            Ok(Some(d)) => d,
            _ => self.empty[usize::from(level)],
        }
    }

    /// The leaf at `slot` as of the updates applied so far.
    pub(crate) fn leaf(&self, slot: u64) -> Option<Leaf> {
        match self.leaves.get(&slot) {
            Some(l) => l.clone(),
            None => self.base.leaf(slot).ok().flatten(),
        }
    }

    /// The current root.
    pub(crate) fn root(&self) -> Digest {
        self.node(self.depth, 0)
    }

    /// The slot holding `key` (live or tombstone), if any.
    pub(crate) fn find(&self, key: &[u8]) -> Option<u64> {
        let home = slot_of(key, self.depth);
        for i in 0..MAX_PROBES as u64 {
            let slot = home.wrapping_add(i) & mask(self.depth);
            match self.leaf(slot) {
                None => return None,
                Some(l) if l.key == key => return Some(slot),
                Some(_) => {}
            }
        }
        None
    }

    /// The first slot of `key`'s probe window that is empty here and not in `taken`.
    pub(crate) fn free_slot(&self, key: &[u8], taken: &dyn Fn(u64) -> bool) -> Option<u64> {
        let home = slot_of(key, self.depth);
        (0..MAX_PROBES as u64)
            .map(|i| home.wrapping_add(i) & mask(self.depth))
            .find(|&s| self.leaf(s).is_none() && !taken(s))
    }

    /// Replaces the leaf at `slot`; returns the siblings (leaf level first), which the old and
    /// the new leaf share.
    pub(crate) fn set(&mut self, slot: u64, leaf: Option<Leaf>) -> Vec<Digest> {
        let siblings: Vec<Digest> =
            (0..self.depth).map(|level| self.node(level, (slot >> level) ^ 1)).collect();
        let mut acc = leaf.as_ref().map_or(Digest::ZERO, leaf_digest);
        self.leaves.insert(slot, leaf);
        self.nodes.insert((0, slot), acc);
        for (level, sib) in siblings.iter().enumerate() {
            acc = if (slot >> level) & 1 == 0 { compress(&acc, sib) } else { compress(sib, &acc) };
            self.nodes.insert((level as u8 + 1, slot >> (level + 1)), acc);
        }
        siblings
    }
}
