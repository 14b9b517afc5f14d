//! Test vectors for other implementations of the state commitment (the Solidity escape-hatch
//! check, the prover's AIR): the Poseidon2 constants, a plain reference permutation that is
//! checked against Plonky3's, and sponge / leaf / Merkle-proof vectors.
//!
//! `cargo run -p ctm-core --example export-vectors` writes them to
//! `l1-contracts/test/vectors/poseidon2.json`; a test fails when that file is stale.

use alloy_primitives::{Address, B256};
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32};
use p3_koala_bear::{
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
    KOALABEAR_POSEIDON2_RC_16_INTERNAL,
};
use serde_json::{Value, json};

use crate::codec::Codec;
use crate::hash::{DIGEST_ELEMS, DOMAIN_LEAF, Digest, Felt, WIDTH, compress, permute, sponge};
use crate::state::{Account, StateKey};
use crate::tree::{StateTree, leaf_digest, slot_of};

/// The internal-layer diagonal V of width-16 KoalaBear Poseidon2:
/// `[-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/2^8, 1/8, 1/2^24, -1/2^8, -1/8, -1/16, -1/2^24]`.
pub fn internal_diag() -> [Felt; WIDTH] {
    let inv2 = |k: u32| Felt::TWO.exp_u64(u64::from(k)).inverse();
    let n = |x: u32| Felt::from_u32(x);
    [
        -n(2),
        n(1),
        n(2),
        inv2(1),
        n(3),
        n(4),
        -inv2(1),
        -n(3),
        -n(4),
        inv2(8),
        inv2(3),
        inv2(24),
        -inv2(8),
        -inv2(3),
        -inv2(4),
        -inv2(24),
    ]
}

fn m4(x: &mut [Felt]) {
    let [a, b, c, d] = [x[0], x[1], x[2], x[3]];
    x[0] = a.double() + b.double() + b + c + d;
    x[1] = a + b.double() + c.double() + c + d;
    x[2] = a + b + c.double() + d.double() + d;
    x[3] = a.double() + a + b + c + d.double();
}

fn external_layer(s: &mut [Felt; WIDTH]) {
    s.chunks_exact_mut(4).for_each(m4);
    let sums: [Felt; 4] = std::array::from_fn(|i| (0..4).map(|c| s[4 * c + i]).sum());
    for (i, x) in s.iter_mut().enumerate() {
        *x += sums[i % 4];
    }
}

/// A plain, unoptimised Poseidon2 permutation written from the specification; it must equal
/// Plonky3's (checked by the tests), and it is what other implementations should mirror.
pub fn reference_permute(s: &mut [Felt; WIDTH]) {
    let diag = internal_diag();
    let cube = |x: Felt| x * x * x;
    external_layer(s);
    for rc in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL.iter() {
        for (x, c) in s.iter_mut().zip(rc) {
            *x = cube(*x + *c);
        }
        external_layer(s);
    }
    for rc in KOALABEAR_POSEIDON2_RC_16_INTERNAL.iter() {
        s[0] = cube(s[0] + *rc);
        let sum: Felt = s.iter().copied().sum();
        for (x, v) in s.iter_mut().zip(diag) {
            *x = sum + v * *x;
        }
    }
    for rc in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL.iter() {
        for (x, c) in s.iter_mut().zip(rc) {
            *x = cube(*x + *c);
        }
        external_layer(s);
    }
}

fn u32s(xs: &[Felt]) -> Vec<u32> {
    xs.iter().map(|x| x.as_canonical_u32()).collect()
}

fn sample_state(seed: u32) -> [Felt; WIDTH] {
    std::array::from_fn(|i| {
        Felt::from_u32(
            seed.wrapping_mul(0x9e37_79b9).wrapping_add(i as u32 * 7919) % crate::hash::MODULUS,
        )
    })
}

const SPEC: &str = "Field KoalaBear p = 2^31 - 2^24 + 1. Permutation: Plonky3 0.8 default_koalabear_poseidon2_16 \
(see reference_permute in ctm-core/src/vectors.rs). compress(l, r) = first 8 of perm(l || r). \
sponge(domain, input): state = 0; state[8] = domain; state[9] = len(input); for each chunk of 8 input \
elements (last zero-padded): overwrite state[0..8], permute; an empty input permutes once; digest = state[0..8]. \
Bytes enter the field as big-endian 16-bit limbs, an odd length padded with a zero byte. \
Leaf digest = sponge(1, limbs(key) || limbs(value)) with key and value limbed separately; empty slot = 8 zeros. \
Account key = 0x01 || address (21 bytes); account value = uint128 balance || uint64 nonce (big-endian, 24 bytes). \
Home slot of a key: d = sponge(2, limbs(key)); slot = (d[1] * p + d[0]) mod 2^depth; linear probing on collision \
(a proof of a present key needs only the key's own leaf). Node at level l+1 = compress(left, right); bit l of the \
slot (LSB first) says whether the level-l node is a right child. siblings are listed from the leaf level up. \
A bytes32 root packs the 8 canonical elements as big-endian uint32, element 0 first.";

/// All vectors as JSON.
pub fn export() -> Value {
    let perm_vectors: Vec<Value> = (0..3u32)
        .map(|seed| {
            let input = sample_state(seed);
            let mut out = input;
            permute(&mut out);
            json!({ "input": u32s(&input), "output": u32s(&out) })
        })
        .collect();
    let a = sponge(7, &[]);
    let b = sponge(8, &[Felt::ONE]);
    let sponge_vectors: Vec<Value> = [0usize, 1, 8, 9, 17]
        .iter()
        .map(|&n| {
            let input: Vec<Felt> = (0..n as u32).map(|i| Felt::from_u32(i * 1000 + 1)).collect();
            json!({ "domain": DOMAIN_LEAF, "input": u32s(&input), "digest": u32s(&sponge(DOMAIN_LEAF, &input).0) })
        })
        .collect();

    let depth = 32u8;
    let mut tree = StateTree::in_memory(depth).expect("depth 32 is valid");
    let accounts: Vec<(Address, Account)> = (1..=5u8)
        .map(|i| {
            (
                Address::repeat_byte(i),
                Account { balance: u128::from(i) * 10u128.pow(18) + 12345, nonce: u64::from(i) },
            )
        })
        .collect();
    tree.apply_batch(
        accounts.iter().map(|(a, acct)| (StateKey::Account(*a).to_bytes(), Some(acct.to_bytes()))),
    )
    .expect("in-memory tree");
    let root = tree.root();
    let proofs: Vec<Value> = accounts
        .iter()
        .map(|(addr, acct)| {
            let key = StateKey::Account(*addr).to_bytes();
            let proof = tree.prove(&key).expect("in-memory tree");
            let step = proof.steps.last().expect("a proof has a step");
            let leaf = step.leaf.as_ref().expect("present key");
            json!({
                "address": addr,
                "balance": acct.balance.to_string(),
                "nonce": acct.nonce,
                "key": format!("0x{}", hex::encode(&key)),
                "value": format!("0x{}", hex::encode(acct.to_bytes())),
                "home_slot": slot_of(&key, depth),
                "slot": step.slot,
                "leaf_digest": u32s(&leaf_digest(leaf).0),
                "siblings": step.siblings.iter().map(|d| d.to_bytes32()).collect::<Vec<B256>>(),
            })
        })
        .collect();
    json!({
        "spec": SPEC,
        "modulus": crate::hash::MODULUS,
        "width": WIDTH,
        "digest_elems": DIGEST_ELEMS,
        "rc_external_initial": KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL.iter().map(|r| u32s(r)).collect::<Vec<_>>(),
        "rc_internal": u32s(&KOALABEAR_POSEIDON2_RC_16_INTERNAL),
        "rc_external_final": KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL.iter().map(|r| u32s(r)).collect::<Vec<_>>(),
        "internal_diag": u32s(&internal_diag()),
        "permutation": perm_vectors,
        "compress": [{ "left": u32s(&a.0), "right": u32s(&b.0), "output": u32s(&compress(&a, &b).0) }],
        "sponge": sponge_vectors,
        "tree": {
            "depth": depth,
            "root": root.to_bytes32(),
            "root_elems": u32s(&root.0),
            "empty_root": Digest::to_bytes32(&crate::tree::empty_digests(depth)[usize::from(depth)]),
            "accounts": proofs,
        },
    })
}

/// Path of the committed vector file, relative to the workspace root.
pub const VECTOR_FILE: &str = "l1-contracts/test/vectors/poseidon2.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_permutation_equals_plonky3() {
        for seed in 0..20 {
            let mut a = sample_state(seed);
            let mut b = a;
            permute(&mut a);
            reference_permute(&mut b);
            assert_eq!(a, b, "seed {seed}");
        }
    }

    #[test]
    fn committed_vectors_are_fresh() {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../l1-contracts/test/vectors/poseidon2.json");
        let committed = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("{path}: {e}; run `cargo run -p ctm-core --example export-vectors`")
        });
        let committed: Value = serde_json::from_str(&committed).expect("vector file is JSON");
        assert!(
            committed == export(),
            "{path} is stale: run `cargo run -p ctm-core --example export-vectors`"
        );
    }
}
