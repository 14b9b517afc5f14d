//! Property tests of the state tree: proofs, batching and tampering.

use ctm_core::tree::{Proof, ProofError, StateTree};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn key(i: u16) -> Vec<u8> {
    let mut k = b"k".to_vec();
    k.extend_from_slice(&i.to_be_bytes());
    k
}

/// A change list over a small key space so that updates and deletes of present keys happen.
fn changes() -> impl Strategy<Value = Vec<(u16, Option<Vec<u8>>)>> {
    prop::collection::vec(
        (0u16..48, prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 1..40))),
        1..80,
    )
}

fn model(changes: &[(u16, Option<Vec<u8>>)]) -> BTreeMap<u16, Vec<u8>> {
    let mut m = BTreeMap::new();
    for (k, v) in changes {
        match v {
            Some(v) => m.insert(*k, v.clone()),
            None => m.remove(k),
        };
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Depth 6 (64 slots for up to 48 keys) forces long probe chains and tombstones.
    #[test]
    fn batched_equals_one_by_one_and_matches_model(changes in changes(), depth in prop::sample::select(vec![6u8, 32])) {
        let mut one = StateTree::in_memory(depth).unwrap();
        for (k, v) in &changes {
            one.apply_batch([(key(*k), v.clone())]).unwrap();
        }
        let mut batched = StateTree::in_memory(depth).unwrap();
        let root = batched.apply_batch(changes.iter().map(|(k, v)| (key(*k), v.clone()))).unwrap();
        prop_assert_eq!(root, one.root());
        let m = model(&changes);
        for i in 0..48u16 {
            prop_assert_eq!(batched.get(&key(i)).unwrap(), m.get(&i).cloned());
        }
    }

    /// A tree rebuilt from its stored leaves (slots and tombstones as they are) has the same
    /// root and answers the same.
    #[test]
    fn rebuilt_from_its_leaves_the_tree_is_the_same(changes in changes(), depth in prop::sample::select(vec![6u8, 32])) {
        let mut t = StateTree::in_memory(depth).unwrap();
        t.apply_batch(changes.iter().map(|(k, v)| (key(*k), v.clone()))).unwrap();
        let leaves: Vec<_> = t.store().leaves().map(|(s, l)| (s, l.clone())).collect();
        let back = StateTree::from_leaves(depth, leaves).unwrap();
        prop_assert_eq!(back.root(), t.root());
        for i in 0..48u16 {
            prop_assert_eq!(back.get(&key(i)).unwrap(), t.get(&key(i)).unwrap());
        }
    }

    #[test]
    fn every_proof_verifies_and_gives_the_model_value(changes in changes(), depth in prop::sample::select(vec![6u8, 20])) {
        let mut t = StateTree::in_memory(depth).unwrap();
        t.apply_batch(changes.iter().map(|(k, v)| (key(*k), v.clone()))).unwrap();
        let m = model(&changes);
        for i in 0..64u16 {
            let proof = t.prove(&key(i)).unwrap();
            prop_assert_eq!(proof.verify(&t.root(), depth).unwrap(), m.get(&i).cloned());
        }
    }

    #[test]
    fn tampered_proofs_fail(changes in changes(), probe in 0u16..64, what in 0usize..6, elem in 0usize..8) {
        let depth = 8;
        let mut t = StateTree::in_memory(depth).unwrap();
        t.apply_batch(changes.iter().map(|(k, v)| (key(*k), v.clone()))).unwrap();
        let honest = t.prove(&key(probe)).unwrap();
        honest.verify(&t.root(), depth).unwrap();
        let mut p: Proof = honest.clone();
        let last = p.steps.len() - 1;
        match what {
            0 => {
                let s = &mut p.steps[last].siblings[elem % usize::from(depth)];
                s.0[elem] += p3_koala_bear::KoalaBear::new(1);
            }
            1 => p.steps[last].slot ^= 1,
            2 => match &mut p.steps[last].leaf {
                Some(l) if !l.value.is_empty() => l.value[0] ^= 1,
                Some(l) => l.value.push(1),
                None => p.steps[last].leaf = Some(ctm_core::tree::Leaf { key: key(probe), value: vec![7] }),
            },
            3 => { p.steps.pop(); }
            4 => p.key = key(probe + 100),
            _ => { p.steps[last].siblings.pop(); }
        }
        let other_root = {
            let mut t2 = StateTree::in_memory(depth).unwrap();
            t2.insert(b"other", b"x").unwrap();
            t2.root()
        };
        // Soundness: whatever verifies tells the truth about its key; and every tampering of a
        // path, slot, leaf or chain length is detected.
        if let Ok(v) = p.verify(&t.root(), depth) {
            prop_assert_eq!(what, 4, "tampering kind {} went undetected", what);
            prop_assert_eq!(v, t.get(&p.key).unwrap());
        }
        // ...and the honest proof must not verify against another root.
        prop_assert!(matches!(honest.verify(&other_root, depth), Err(ProofError::RootMismatch(_))));
    }
}

#[test]
fn non_inclusion_in_a_full_chain_lists_every_probe() {
    let depth = 3;
    let mut t = StateTree::in_memory(depth).unwrap();
    for i in 0..7u16 {
        t.insert(&key(i), b"v").unwrap();
    }
    let p = t.prove(&key(1000)).unwrap();
    assert!(!p.steps.is_empty());
    assert_eq!(p.verify(&t.root(), depth).unwrap(), None);
    assert!(p.steps.last().unwrap().leaf.is_none());
}

#[test]
fn a_leaf_beyond_the_last_slot_is_refused() {
    use ctm_core::tree::{Leaf, TreeError};
    let leaf = Leaf { key: key(1), value: vec![1] };
    assert!(matches!(
        StateTree::from_leaves(6, [(64, leaf.clone())]),
        Err(TreeError::SlotOutOfRange(64))
    ));
    assert!(StateTree::from_leaves(6, [(63, leaf)]).is_ok());
}
