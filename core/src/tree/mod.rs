//! The state tree: a sparse Merkle tree of fixed depth hashed with Poseidon2 over KoalaBear.
//!
//! - A key's *home slot* is the low `depth` bits of `e1·p + e0`, where `e0, e1` are the first two
//!   elements of `sponge(DOMAIN_SLOT, limbs(key))`. Slot collisions (rare: a 2^32-slot tree) are
//!   resolved by linear probing: a key lives in the first slot from its home that is empty or
//!   already holds it. Deleting a key empties its slot when the next slot is empty (no probe
//!   chain can pass through) and leaves a tombstone otherwise.
//! - A leaf digest is `sponge(DOMAIN_LEAF, limbs(key) ‖ limbs(value))`; an empty slot is
//!   [`Digest::ZERO`]; a node is `compress(left, right)`; the empty subtree of level `l + 1` is
//!   `compress(E_l, E_l)`.
//! - [`StateTree::apply_batch`] updates many keys at once: leaves first, then each level once,
//!   so paths shared by several updates are hashed once.

mod proof;
mod store;

use std::collections::HashMap;

pub use proof::{Proof, ProofError, ProofStep, root_from_path};
pub use store::{Leaf, MemoryStore, TreeChanges, TreeStore};

use crate::codec::{Codec, CodecError};
use crate::hash::{DOMAIN_LEAF, DOMAIN_SLOT, Digest, Felt, bytes_to_limbs, compress, sponge};
use crate::state::{StateKey, StateValue};
use p3_field::PrimeField32;
use rayon::prelude::*;

/// Levels with fewer changed nodes than this are hashed on one thread.
const PARALLEL_MIN: usize = 64;

/// The longest probe chain the tree accepts; an insert that would need more fails.
pub const MAX_PROBES: usize = 32;
/// The deepest supported tree (slots are `u64`).
pub const MAX_DEPTH: u8 = 62;

/// Errors of the state tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The backing store failed.
    #[error("state store: {0}")]
    Store(Box<dyn std::error::Error + Send + Sync>),
    /// `insert` of a key that is present.
    #[error("key already present")]
    KeyExists,
    /// `update` or `delete` of a key that is absent.
    #[error("key not present")]
    KeyNotFound,
    /// Every slot of the probe window is taken by other keys.
    #[error("probe limit reached from home slot {home}")]
    ProbeLimit {
        /// The key's home slot.
        home: u64,
    },
    /// A stored value does not decode as the key's type.
    #[error("corrupt state value: {0}")]
    Codec(#[from] CodecError),
    /// A typed access used a value type that does not belong to the key.
    #[error("value type does not match key {0:?}")]
    WrongKind(StateKey),
    /// The depth is 0 or above [`MAX_DEPTH`].
    #[error("tree depth {0} out of range 1..={MAX_DEPTH}")]
    BadDepth(u8),
    /// A leaf was given a slot beyond the tree's `2^depth` slots.
    #[error("slot {0} is outside the tree")]
    SlotOutOfRange(u64),
}

/// Result alias of the tree.
pub type TreeResult<T> = Result<T, TreeError>;

fn store_err<E: std::error::Error + Send + Sync + 'static>(e: E) -> TreeError {
    TreeError::Store(Box::new(e))
}

pub(crate) fn slot_mask(depth: u8) -> u64 {
    if depth >= 64 { u64::MAX } else { (1u64 << depth) - 1 }
}

/// The home slot of a key in a tree of `depth`.
pub fn slot_of(key: &[u8], depth: u8) -> u64 {
    let mut limbs = Vec::with_capacity(key.len().div_ceil(2));
    bytes_to_limbs(key, &mut limbs);
    let d = sponge(DOMAIN_SLOT, &limbs);
    let (e0, e1) = (u64::from(d.0[0].as_canonical_u32()), u64::from(d.0[1].as_canonical_u32()));
    (e1 * u64::from(crate::hash::MODULUS) + e0) & slot_mask(depth)
}

/// The digest of a leaf.
pub fn leaf_digest(leaf: &Leaf) -> Digest {
    let mut limbs: Vec<Felt> = Vec::with_capacity((leaf.key.len() + leaf.value.len()) / 2 + 2);
    bytes_to_limbs(&leaf.key, &mut limbs);
    bytes_to_limbs(&leaf.value, &mut limbs);
    sponge(DOMAIN_LEAF, &limbs)
}

/// Empty-subtree digests for levels `0..=depth`.
pub fn empty_digests(depth: u8) -> Vec<Digest> {
    let mut out = Vec::with_capacity(usize::from(depth) + 1);
    out.push(Digest::ZERO);
    for l in 0..usize::from(depth) {
        out.push(compress(&out[l], &out[l]));
    }
    out
}

/// Where a key was found while probing.
enum Probe {
    /// The key's own leaf (live, or its tombstone if `value` is empty).
    Found(u64, Leaf),
    /// Absent; the first empty slot of the chain.
    Vacant(u64),
}

/// The Poseidon2 sparse Merkle state tree over a [`TreeStore`].
#[derive(Debug)]
pub struct StateTree<S> {
    store: S,
    depth: u8,
    empty: Vec<Digest>,
    root: Digest,
}

impl<S: TreeStore> StateTree<S> {
    /// Opens the tree kept in `store` (an empty store is the empty tree).
    pub fn new(store: S, depth: u8) -> TreeResult<Self> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(TreeError::BadDepth(depth));
        }
        let empty = empty_digests(depth);
        let root = store.node(depth, 0).map_err(store_err)?.unwrap_or(empty[usize::from(depth)]);
        Ok(Self { store, depth, empty, root })
    }

    /// The current root.
    pub fn root(&self) -> Digest {
        self.root
    }

    /// The tree depth.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The backing store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Mutable access to the backing store (for stores that batch their own transactions).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    fn probe(&self, key: &[u8], overlay: &HashMap<u64, Option<Leaf>>) -> TreeResult<Probe> {
        let home = slot_of(key, self.depth);
        let mask = slot_mask(self.depth);
        for i in 0..MAX_PROBES as u64 {
            let slot = home.wrapping_add(i) & mask;
            let leaf = match overlay.get(&slot) {
                Some(l) => l.clone(),
                None => self.store.leaf(slot).map_err(store_err)?,
            };
            match leaf {
                None => return Ok(Probe::Vacant(slot)),
                Some(l) if l.key == key => return Ok(Probe::Found(slot, l)),
                Some(_) => {}
            }
        }
        Err(TreeError::ProbeLimit { home })
    }

    /// The raw value of a key, or `None`.
    pub fn get(&self, key: &[u8]) -> TreeResult<Option<Vec<u8>>> {
        Ok(match self.probe(key, &HashMap::new())? {
            Probe::Found(_, l) if !l.value.is_empty() => Some(l.value),
            _ => None,
        })
    }

    /// The typed value of a state key, or `None`.
    pub fn get_value<V: StateValue>(&self, key: &StateKey) -> TreeResult<Option<V>> {
        if !V::fits(key) {
            return Err(TreeError::WrongKind(*key));
        }
        Ok(self.get(&key.to_bytes())?.map(|b| V::from_bytes(&b)).transpose()?)
    }

    /// Adds a key that must be absent.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> TreeResult<Digest> {
        if self.get(key)?.is_some() {
            return Err(TreeError::KeyExists);
        }
        self.apply_batch([(key.to_vec(), Some(value.to_vec()))])
    }

    /// Changes the value of a key that must be present.
    pub fn update(&mut self, key: &[u8], value: &[u8]) -> TreeResult<Digest> {
        if self.get(key)?.is_none() {
            return Err(TreeError::KeyNotFound);
        }
        self.apply_batch([(key.to_vec(), Some(value.to_vec()))])
    }

    /// Removes a key that must be present.
    pub fn delete(&mut self, key: &[u8]) -> TreeResult<Digest> {
        if self.get(key)?.is_none() {
            return Err(TreeError::KeyNotFound);
        }
        self.apply_batch([(key.to_vec(), None)])
    }

    /// Sets (`Some`) or removes (`None`) many keys in order, hashing each touched node once,
    /// and commits the result to the store in one write. Returns the new root.
    /// An empty value is treated as a removal. On error nothing is written.
    pub fn apply_batch<I>(&mut self, changes: I) -> TreeResult<Digest>
    where
        I: IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>,
    {
        let mut overlay: HashMap<u64, Option<Leaf>> = HashMap::new();
        for (key, value) in changes {
            let value = value.filter(|v| !v.is_empty());
            match (self.probe(&key, &overlay)?, value) {
                (Probe::Found(slot, _), Some(value)) | (Probe::Vacant(slot), Some(value)) => {
                    overlay.insert(slot, Some(Leaf { key, value }));
                }
                (Probe::Found(slot, leaf), None) if !leaf.value.is_empty() => {
                    let next = slot.wrapping_add(1) & slot_mask(self.depth);
                    let next_empty = match overlay.get(&next) {
                        Some(l) => l.is_none(),
                        None => self.store.leaf(next).map_err(store_err)?.is_none(),
                    };
                    let tomb = (!next_empty).then_some(Leaf { key, value: Vec::new() });
                    overlay.insert(slot, tomb);
                }
                // Deleting an absent key changes nothing.
                (_, None) => {}
            }
        }
        self.rehash(overlay)
    }

    fn node_or_empty(&self, level: u8, index: u64) -> TreeResult<Digest> {
        Ok(self
            .store
            .node(level, index)
            .map_err(store_err)?
            .unwrap_or(self.empty[usize::from(level)]))
    }

    fn rehash(&mut self, overlay: HashMap<u64, Option<Leaf>>) -> TreeResult<Digest> {
        let mut changes = TreeChanges::default();
        let mut slots: Vec<(u64, Option<Leaf>)> = overlay.into_iter().collect();
        slots.sort_unstable_by_key(|(i, _)| *i);
        let mut level_nodes: Vec<(u64, Digest)> = slots
            .par_iter()
            .map(|(slot, leaf)| (*slot, leaf.as_ref().map_or(Digest::ZERO, leaf_digest)))
            .collect();
        changes.leaves = slots;
        for level in 0..self.depth {
            // Pair every changed node with its sibling (changed too, stored, or empty), then
            // hash the pairs in parallel.
            let mut pairs: Vec<(u64, Digest, Digest)> = Vec::with_capacity(level_nodes.len());
            let mut i = 0;
            while i < level_nodes.len() {
                let (idx, d) = level_nodes[i];
                let (left, right, used) = if idx & 1 == 0 {
                    match level_nodes.get(i + 1) {
                        Some(&(j, r)) if j == idx + 1 => (d, r, 2),
                        _ => (d, self.node_or_empty(level, idx + 1)?, 1),
                    }
                } else {
                    (self.node_or_empty(level, idx - 1)?, d, 1)
                };
                pairs.push((idx >> 1, left, right));
                i += used;
            }
            let empty = self.empty[usize::from(level)];
            changes.nodes.extend(
                level_nodes.iter().map(|&(idx, d)| (level, idx, (d != empty).then_some(d))),
            );
            level_nodes = if pairs.len() >= PARALLEL_MIN {
                pairs.par_iter().map(|(p, l, r)| (*p, compress(l, r))).collect()
            } else {
                pairs.iter().map(|(p, l, r)| (*p, compress(l, r))).collect()
            };
        }
        let root = level_nodes.first().map_or(self.root, |&(_, d)| d);
        let empty_root = self.empty[usize::from(self.depth)];
        changes.nodes.push((self.depth, 0, (root != empty_root).then_some(root)));
        self.store.commit(changes).map_err(store_err)?;
        self.root = root;
        Ok(root)
    }

    /// A proof of the key's value or absence against the current root.
    pub fn prove(&self, key: &[u8]) -> TreeResult<Proof> {
        let home = slot_of(key, self.depth);
        let mask = slot_mask(self.depth);
        let mut steps = Vec::new();
        for i in 0..MAX_PROBES as u64 {
            let slot = home.wrapping_add(i) & mask;
            let leaf = self.store.leaf(slot).map_err(store_err)?;
            let done = leaf.as_ref().is_none_or(|l| l.key == key);
            let siblings = (0..self.depth)
                .map(|level| self.node_or_empty(level, (slot >> level) ^ 1))
                .collect::<TreeResult<Vec<_>>>()?;
            steps.push(ProofStep { slot, leaf, siblings });
            if done {
                return Ok(Proof { key: key.to_vec(), steps });
            }
        }
        Err(TreeError::ProbeLimit { home })
    }
}

impl StateTree<MemoryStore> {
    /// An empty in-memory tree.
    pub fn in_memory(depth: u8) -> TreeResult<Self> {
        Self::new(MemoryStore::default(), depth)
    }

    /// The in-memory tree that holds exactly `leaves` at their slots, tombstones included (as
    /// [`MemoryStore::leaves`] lists them): rebuilds a tree from a snapshot of its leaves. The
    /// slots are taken as given, so the caller compares the root with the one it trusts.
    pub fn from_leaves(
        depth: u8,
        leaves: impl IntoIterator<Item = (u64, Leaf)>,
    ) -> TreeResult<Self> {
        let mut tree = Self::in_memory(depth)?;
        let mask = slot_mask(depth);
        let mut overlay = HashMap::new();
        for (slot, leaf) in leaves {
            if slot & !mask != 0 {
                return Err(TreeError::SlotOutOfRange(slot));
            }
            overlay.insert(slot, Some(leaf));
        }
        tree.rehash(overlay)?;
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Vec<u8> {
        i.to_be_bytes().to_vec()
    }

    #[test]
    fn empty_tree_root_is_the_empty_digest() {
        let t = StateTree::in_memory(8).unwrap();
        assert_eq!(t.root(), empty_digests(8)[8]);
        assert!(matches!(StateTree::in_memory(0), Err(TreeError::BadDepth(0))));
    }

    #[test]
    fn crud() {
        let mut t = StateTree::in_memory(16).unwrap();
        let r0 = t.root();
        t.insert(&key(1), b"a").unwrap();
        assert_eq!(t.get(&key(1)).unwrap(), Some(b"a".to_vec()));
        assert!(matches!(t.insert(&key(1), b"b"), Err(TreeError::KeyExists)));
        t.update(&key(1), b"b").unwrap();
        assert_eq!(t.get(&key(1)).unwrap(), Some(b"b".to_vec()));
        assert!(matches!(t.update(&key(2), b"b"), Err(TreeError::KeyNotFound)));
        t.delete(&key(1)).unwrap();
        assert_eq!(t.get(&key(1)).unwrap(), None);
        assert_eq!(t.root(), r0, "deleting the only key restores the empty root");
        assert_eq!(t.store().leaf_count(), 0);
    }

    #[test]
    fn collisions_probe_and_tombstone() {
        // Depth 2: four slots, so collisions are certain.
        let mut t = StateTree::in_memory(2).unwrap();
        for i in 0..4 {
            t.insert(&key(i), &[i as u8 + 1]).unwrap();
        }
        for i in 0..4 {
            assert_eq!(t.get(&key(i)).unwrap(), Some(vec![i as u8 + 1]));
        }
        assert!(matches!(t.insert(&key(9), b"x"), Err(TreeError::ProbeLimit { .. })));
        for i in 0..4 {
            let p = t.prove(&key(i)).unwrap();
            assert_eq!(p.verify(&t.root(), 2).unwrap(), Some(vec![i as u8 + 1]));
        }
        t.delete(&key(0)).unwrap();
        for i in 1..4 {
            assert_eq!(t.get(&key(i)).unwrap(), Some(vec![i as u8 + 1]), "chain intact");
        }
        let p = t.prove(&key(0)).unwrap();
        assert_eq!(p.verify(&t.root(), 2).unwrap(), None);
    }
}
