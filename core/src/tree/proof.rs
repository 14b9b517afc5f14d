//! Inclusion and non-inclusion proofs.
//!
//! A proof follows the key's probe chain from its home slot: every step but the last is an
//! occupied slot holding another key, and the last is either the key's own leaf (inclusion, or a
//! tombstone: deleted) or an empty slot (non-inclusion). Each step carries its Merkle path, so
//! a verifier needs only the root and the depth.

use super::{Leaf, MAX_PROBES, empty_digests, leaf_digest, slot_of};
use crate::hash::{Digest, compress};

/// One probed slot with its authentication path (siblings from the leaf level up).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProofStep {
    /// The slot.
    pub slot: u64,
    /// Its leaf, `None` if empty.
    pub leaf: Option<Leaf>,
    /// Sibling digests, leaf level first; `depth` of them.
    pub siblings: Vec<Digest>,
}

/// A proof of a key's value, or of its absence, against a state root.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proof {
    /// Canonical key bytes.
    pub key: Vec<u8>,
    /// The probe chain.
    pub steps: Vec<ProofStep>,
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// No steps, or more than the probe limit.
    #[error("proof has {0} steps (expected 1..={MAX_PROBES})")]
    BadLength(usize),
    /// A step is not at the next slot of the probe chain.
    #[error("step {step} is at slot {got}, expected {expected}")]
    WrongSlot {
        /// Step index.
        step: usize,
        /// Slot in the proof.
        got: u64,
        /// Slot the chain requires.
        expected: u64,
    },
    /// A path has the wrong number of siblings.
    #[error("step {step} has {got} siblings, expected {expected}")]
    PathLength {
        /// Step index.
        step: usize,
        /// Siblings given.
        got: usize,
        /// The tree depth.
        expected: usize,
    },
    /// A path does not lead to the root.
    #[error("step {0} does not hash to the root")]
    RootMismatch(usize),
    /// The chain ends on a slot that neither holds the key nor is empty, or continues past one.
    #[error("probe chain is malformed at step {0}")]
    BadChain(usize),
}

/// The root that a leaf (or an empty slot) at `slot` with these siblings implies.
pub fn root_from_path(slot: u64, leaf: Option<&Leaf>, siblings: &[Digest]) -> Digest {
    let mut acc = leaf.map_or(Digest::ZERO, leaf_digest);
    for (level, sib) in siblings.iter().enumerate() {
        acc = if (slot >> level) & 1 == 0 { compress(&acc, sib) } else { compress(sib, &acc) };
    }
    acc
}

impl Proof {
    /// Checks the proof against `root` for a tree of `depth`; returns the key's value, or `None`
    /// if the key is absent.
    pub fn verify(&self, root: &Digest, depth: u8) -> Result<Option<Vec<u8>>, ProofError> {
        let n = self.steps.len();
        if n == 0 || n > MAX_PROBES {
            return Err(ProofError::BadLength(n));
        }
        let mask = super::slot_mask(depth);
        let home = slot_of(&self.key, depth);
        for (i, step) in self.steps.iter().enumerate() {
            let expected = home.wrapping_add(i as u64) & mask;
            if step.slot != expected {
                return Err(ProofError::WrongSlot { step: i, got: step.slot, expected });
            }
            if step.siblings.len() != usize::from(depth) {
                return Err(ProofError::PathLength {
                    step: i,
                    got: step.siblings.len(),
                    expected: usize::from(depth),
                });
            }
            if root_from_path(step.slot, step.leaf.as_ref(), &step.siblings) != *root {
                return Err(ProofError::RootMismatch(i));
            }
            let last = i + 1 == n;
            match (&step.leaf, last) {
                (Some(l), false) if l.key != self.key => {}
                (Some(l), true) if l.key == self.key => {
                    return Ok((!l.value.is_empty()).then(|| l.value.clone()));
                }
                (None, true) => return Ok(None),
                _ => return Err(ProofError::BadChain(i)),
            }
        }
        Err(ProofError::BadChain(n - 1))
    }

    /// The number of empty-subtree siblings (what a compact encoding would omit).
    pub fn default_siblings(&self, depth: u8) -> usize {
        let empties = empty_digests(depth);
        self.steps
            .iter()
            .map(|s| s.siblings.iter().zip(&empties).filter(|(a, b)| a == b).count())
            .sum()
    }
}
