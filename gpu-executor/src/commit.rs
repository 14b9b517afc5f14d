//! Poseidon2 commitments of datasets, weights, training specs and the checkpoint chain.
//!
//! All of them use `ctm_core::hash` (Poseidon2 over KoalaBear) and one layout:
//!
//! ```text
//! leaf_i     = sponge(DOMAIN_CONTENT, [tag_leaf] ‖ limbs(item_i))
//! root       = binary Merkle tree over the leaves with compress(l, r), padded with Digest::ZERO
//!              to a power of two (one leaf: the root is the leaf)
//! commitment = compress(sponge(DOMAIN_CONTENT, [tag] ‖ header), root)
//! ```
//!
//! Numbers enter as 16-bit limbs, big-endian (`u32` → 2 limbs, `u64` → 4, an `i32` as its two's
//! complement `u32` bits), so every limb is a canonical field element. A Merkle tree (rather than
//! one flat sponge) lets a STARK or a light verifier open a single dataset row or weight chunk
//! with a log-size path. The first element of every sponge input is a tag ([`Tag`]), so the
//! different kinds of leaf and header can never collide.
//!
//! - dataset: one leaf per row, `[ROW, label, features…]`; header `[n_rows, n_features, n_classes]`;
//! - weights: one leaf per chunk of [`WEIGHT_CHUNK`] values of all layers concatenated (each layer
//!   row-major `(inputs + 1) × outputs`, last row the bias); header `[n_layers, dims…, n_values]`;
//! - checkpoint chain: `link_0 = sponge([LINK, 0, spec_digest, weights_0])`, and
//!   `link_i = sponge([LINK, step_i, link_{i-1}, weights_i])` ([`link`]). The head is the last link.

use ctm_core::Digest;
use ctm_core::hash::{DOMAIN_CONTENT, Felt, compress, felt_checked, sponge};
use rayon::prelude::*;

/// Values of weights per Merkle leaf.
pub const WEIGHT_CHUNK: usize = 256;

/// The first element of every sponge input of the executor's commitments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Tag {
    /// A dataset row leaf.
    Row = 0x11,
    /// The dataset header.
    Dataset = 0x12,
    /// A weight-chunk leaf.
    WeightChunk = 0x13,
    /// The weights header.
    Weights = 0x14,
    /// A training specification.
    Spec = 0x15,
    /// A checkpoint-chain link.
    Link = 0x16,
}

/// Builds the sponge input of one commitment item.
#[derive(Debug, Clone)]
pub struct Limbs(Vec<Felt>);

impl Limbs {
    /// Starts an input with `tag`.
    pub fn new(tag: Tag) -> Self {
        Limbs(vec![felt(tag as u32)])
    }

    /// Appends a `u32` as two 16-bit limbs.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.push(felt(v >> 16));
        self.0.push(felt(v & 0xFFFF));
        self
    }

    /// Appends an `i32` as its two's-complement bits.
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.u32(v as u32)
    }

    /// Appends a `u64` as four 16-bit limbs.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.u32((v >> 32) as u32).u32(v as u32)
    }

    /// Appends the 8 elements of a digest.
    pub fn digest(&mut self, d: &Digest) -> &mut Self {
        self.0.extend_from_slice(&d.0);
        self
    }

    /// The sponge of the input under `DOMAIN_CONTENT`.
    pub fn hash(&self) -> Digest {
        sponge(DOMAIN_CONTENT, &self.0)
    }
}

/// Root of the binary Merkle tree over `leaves` (see the module docs).
pub fn merkle_root(leaves: &[Digest]) -> Digest {
    if leaves.is_empty() {
        return Digest::ZERO;
    }
    let mut level: Vec<Digest> = leaves.to_vec();
    level.resize(leaves.len().next_power_of_two(), Digest::ZERO);
    while level.len() > 1 {
        level = level.chunks_exact(2).map(|p| compress(&p[0], &p[1])).collect();
    }
    level[0]
}

/// `compress(header, root)`: a commitment from its header input and Merkle root.
pub fn seal(header: &Limbs, root: &Digest) -> Digest {
    compress(&header.hash(), root)
}

/// Commitment to weights given as layer sizes and per-layer values.
pub fn weights_commitment(dims: &[usize], layers: &[Vec<i32>]) -> Digest {
    let flat: Vec<i32> = layers.iter().flatten().copied().collect();
    let leaves: Vec<Digest> = flat
        .par_chunks(WEIGHT_CHUNK)
        .map(|chunk| {
            let mut l = Limbs::new(Tag::WeightChunk);
            for &v in chunk {
                l.i32(v);
            }
            l.hash()
        })
        .collect();
    let mut header = Limbs::new(Tag::Weights);
    header.u32(dims.len() as u32);
    for &d in dims {
        header.u32(d as u32);
    }
    header.u64(flat.len() as u64);
    seal(&header, &merkle_root(&leaves))
}

/// The checkpoint-chain link after `prev` (the spec digest for link 0) at `step`.
pub fn link(prev: &Digest, step: u64, weights: &Digest) -> Digest {
    Limbs::new(Tag::Link).u64(step).digest(prev).digest(weights).hash()
}

/// A field element from a value below 2^16 or a small tag (always canonical).
fn felt(v: u32) -> Felt {
    felt_checked(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merkle_root_shapes() {
        let a = Limbs::new(Tag::Row).u32(1).hash();
        let b = Limbs::new(Tag::Row).u32(2).hash();
        assert_eq!(merkle_root(&[a]), a);
        assert_eq!(merkle_root(&[a, b]), compress(&a, &b));
        let three = merkle_root(&[a, b, a]);
        assert_eq!(three, compress(&compress(&a, &b), &compress(&a, &Digest::ZERO)));
    }

    #[test]
    fn weights_commitment_binds_values_and_shape() {
        let w = vec![vec![1, 2, 3, 4, 5, 6]];
        let c = weights_commitment(&[2, 2], &w);
        assert_ne!(c, weights_commitment(&[2, 2], &[vec![1, 2, 3, 4, 5, 7]]));
        assert_ne!(c, weights_commitment(&[1, 3], &w));
        assert_ne!(link(&c, 1, &c), link(&c, 2, &c));
    }
}
