//! Poseidon2 over KoalaBear: the one hash of the state tree, dataset and checkpoint commitments.
//!
//! Why KoalaBear (p = 2^31 − 2^24 + 1) and not BabyBear: its Poseidon2 S-box is x^3 (BabyBear
//! needs x^7), so each round costs the AIR a degree-3 constraint instead of a chain of
//! multiplications; it has the same 31-bit Montgomery arithmetic and two-adicity (2^24) for FRI;
//! and the checked EVM-friendly Plonky3 configuration of the prover uses it (../shared/PLONKY3.md).
//!
//! Every construction here is specified so that the AIR and a Solidity verifier can replay it:
//! - the permutation is Plonky3 0.8's `default_koalabear_poseidon2_16` (width 16, 8 full and 20
//!   partial rounds);
//! - [`compress`]`(l, r)` = the first 8 elements of `perm(l ‖ r)` (a truncated permutation);
//! - [`sponge`]`(domain, input)`: state = 0, `state[8] = domain`, `state[9] = input.len()`, then for
//!   each chunk of 8 input elements (the last zero-padded) overwrite `state[0..8]` and permute; the
//!   digest is `state[0..8]`. An empty input permutes once. The length in the capacity makes it
//!   injective per domain.
//! - bytes enter the field as big-endian 16-bit limbs ([`bytes_to_limbs`]), an odd length padded
//!   with one zero byte; 16 bits keep every amount limb range-checkable in the AIR.

use std::sync::LazyLock;

use alloy_primitives::B256;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{KoalaBear, Poseidon2KoalaBear, default_koalabear_poseidon2_16};
use p3_symmetric::Permutation;

/// The base field of the state commitment.
pub type Felt = KoalaBear;

/// Width of the Poseidon2 permutation.
pub const WIDTH: usize = 16;
/// Number of field elements in a digest (and the sponge rate).
pub const DIGEST_ELEMS: usize = 8;
/// The field modulus.
pub const MODULUS: u32 = 0x7f00_0001;

/// Domain tag of state-tree leaf hashes.
pub const DOMAIN_LEAF: u32 = 1;
/// Domain tag of the hash that places a key in the tree.
pub const DOMAIN_SLOT: u32 = 2;
/// Domain tag of content commitments (datasets, weights, checkpoints).
pub const DOMAIN_CONTENT: u32 = 3;

static PERM: LazyLock<Poseidon2KoalaBear<WIDTH>> = LazyLock::new(default_koalabear_poseidon2_16);

/// The shared Poseidon2 permutation instance.
pub fn permutation() -> &'static Poseidon2KoalaBear<WIDTH> {
    &PERM
}

/// Applies the Poseidon2 permutation in place.
pub fn permute(state: &mut [Felt; WIDTH]) {
    PERM.permute_mut(state);
}

/// A Poseidon2 digest: 8 KoalaBear elements (about 248 bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [Felt; DIGEST_ELEMS]);

impl Digest {
    /// The all-zero digest, used for an empty leaf.
    pub const ZERO: Digest = Digest([Felt::ZERO; DIGEST_ELEMS]);

    /// Packs the digest into 32 bytes: 8 canonical elements, each a big-endian `u32`.
    /// This is how state roots appear on L1.
    pub fn to_bytes32(&self) -> B256 {
        let mut out = [0u8; 32];
        for (chunk, e) in out.chunks_exact_mut(4).zip(self.0.iter()) {
            chunk.copy_from_slice(&e.as_canonical_u32().to_be_bytes());
        }
        B256::from(out)
    }

    /// Unpacks 32 bytes written by [`Digest::to_bytes32`]; `None` if an element is not canonical.
    pub fn from_bytes32(bytes: &B256) -> Option<Digest> {
        let mut elems = [Felt::ZERO; DIGEST_ELEMS];
        for (e, chunk) in elems.iter_mut().zip(bytes.chunks_exact(4)) {
            let v = u32::from_be_bytes(chunk.try_into().ok()?);
            *e = felt_checked(v)?;
        }
        Some(Digest(elems))
    }

    /// The canonical `u32` values of the elements.
    pub fn to_u32s(&self) -> [u32; DIGEST_ELEMS] {
        self.0.map(|e| e.as_canonical_u32())
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.to_bytes32())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_bytes32())
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_bytes32().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let b = B256::deserialize(d)?;
        Digest::from_bytes32(&b).ok_or_else(|| {
            serde::de::Error::custom("digest element is not a canonical KoalaBear value")
        })
    }
}

/// A field element from a canonical `u32`, or `None` if `v >= p`.
pub fn felt_checked(v: u32) -> Option<Felt> {
    (v < MODULUS).then(|| Felt::from_u32(v))
}

/// Two-to-one compression: the first 8 elements of `perm(left ‖ right)`.
pub fn compress(left: &Digest, right: &Digest) -> Digest {
    let mut state = [Felt::ZERO; WIDTH];
    state[..DIGEST_ELEMS].copy_from_slice(&left.0);
    state[DIGEST_ELEMS..].copy_from_slice(&right.0);
    permute(&mut state);
    let mut out = [Felt::ZERO; DIGEST_ELEMS];
    out.copy_from_slice(&state[..DIGEST_ELEMS]);
    Digest(out)
}

/// The domain-separated, length-prefixed sponge described in the module docs.
pub fn sponge(domain: u32, input: &[Felt]) -> Digest {
    let mut state = [Felt::ZERO; WIDTH];
    state[DIGEST_ELEMS] = Felt::from_u32(domain);
    state[DIGEST_ELEMS + 1] = Felt::from_usize(input.len());
    if input.is_empty() {
        permute(&mut state);
    }
    for chunk in input.chunks(DIGEST_ELEMS) {
        state[..DIGEST_ELEMS].fill(Felt::ZERO);
        state[..chunk.len()].copy_from_slice(chunk);
        permute(&mut state);
    }
    let mut out = [Felt::ZERO; DIGEST_ELEMS];
    out.copy_from_slice(&state[..DIGEST_ELEMS]);
    Digest(out)
}

/// Appends `bytes` as big-endian 16-bit limbs (an odd length is padded with one zero byte).
pub fn bytes_to_limbs(bytes: &[u8], out: &mut Vec<Felt>) {
    out.extend(bytes.chunks(2).map(|c| {
        let hi = u32::from(c[0]);
        let lo = c.get(1).copied().map_or(0, u32::from);
        Felt::from_u32((hi << 8) | lo)
    }));
}

/// Commitment to arbitrary content bytes (a dataset file, serialized weights): the sponge of
/// their limbs under [`DOMAIN_CONTENT`].
pub fn hash_content(bytes: &[u8]) -> Digest {
    let mut limbs = Vec::with_capacity(bytes.len().div_ceil(2));
    bytes_to_limbs(bytes, &mut limbs);
    sponge(DOMAIN_CONTENT, &limbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes32_round_trip_and_rejects_non_canonical() {
        let d = sponge(DOMAIN_LEAF, &[Felt::from_u32(7)]);
        assert_eq!(Digest::from_bytes32(&d.to_bytes32()), Some(d));
        let mut bad = d.to_bytes32();
        bad.0[0..4].copy_from_slice(&MODULUS.to_be_bytes());
        assert_eq!(Digest::from_bytes32(&bad), None);
    }

    #[test]
    fn sponge_is_length_and_domain_separated() {
        let a = sponge(DOMAIN_LEAF, &[Felt::ZERO]);
        let b = sponge(DOMAIN_LEAF, &[Felt::ZERO, Felt::ZERO]);
        let c = sponge(DOMAIN_SLOT, &[Felt::ZERO]);
        let e = sponge(DOMAIN_LEAF, &[]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, e);
    }

    #[test]
    fn limbs_are_big_endian_pairs() {
        let mut out = Vec::new();
        bytes_to_limbs(&[0x12, 0x34, 0x56], &mut out);
        assert_eq!(out, vec![Felt::from_u32(0x1234), Felt::from_u32(0x5600)]);
    }

    #[test]
    fn compress_is_not_symmetric() {
        let a = sponge(DOMAIN_LEAF, &[Felt::ONE]);
        let b = sponge(DOMAIN_LEAF, &[Felt::TWO]);
        assert_ne!(compress(&a, &b), compress(&b, &a));
    }
}
