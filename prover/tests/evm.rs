//! The L1 proof encoding and transcript: round trips, bounds, the exact keccak transcript the
//! Solidity verifier replays (checked against Plonky3's own challenger), and the staleness of
//! the generated Solidity seeds.

use std::cell::RefCell;

use ctm_core::hash::Felt;
use ctm_prover::config::{Challenge, EvmPcs};
use ctm_prover::evm::codec::{decode, encode};
use ctm_prover::evm::seeds::{fri_seed, pcs_seed, stark_seed};
use ctm_prover::evm::{CodecError, L1_FRI, solidity, verify_encoded};
use ctm_prover::public::{DMAX, WMAX};
use ctm_prover::{
    BatchProof, EvmConfig, FriConfig, Witness, bench, build_witness, evm_config, prove,
};
use p3_challenger::{HashChallenger, SerializingChallenger32};
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use p3_keccak::Keccak256Hash;
use p3_symmetric::CryptographicHasher;
use p3_uni_stark::{Proof, StarkConfig, StarkGenericConfig};

thread_local! {
    static TAPE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Keccak-256 that records every input: the challenger's transcript.
#[derive(Clone, Copy, Default)]
struct Tap;

impl CryptographicHasher<u8, [u8; 32]> for Tap {
    fn hash_iter<I: IntoIterator<Item = u8>>(&self, input: I) -> [u8; 32] {
        let v: Vec<u8> = input.into_iter().collect();
        TAPE.with(|t| t.borrow_mut().push(v.clone()));
        Keccak256Hash.hash_iter(v)
    }
}

type TapConfig =
    StarkConfig<EvmPcs, Challenge, SerializingChallenger32<Felt, HashChallenger<u8, Tap, 32>>>;

fn proof_of(transfers: usize, withdrawals: usize) -> (Witness, BatchProof<EvmConfig>) {
    let wl = bench::transfers(transfers, transfers.max(2), 1)
        .unwrap()
        .with_withdrawals(withdrawals)
        .with_deposits(withdrawals * 2);
    let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
    let p = prove(&evm_config(&L1_FRI), &L1_FRI, &w, |_| {}).unwrap();
    (w, p)
}

#[test]
fn encoding_round_trips_and_verifies() {
    let (w, p) = proof_of(3, 2);
    let bytes = encode(&p.proof, &p.lists, &L1_FRI).unwrap();
    let (back, lists) = decode(&bytes, &L1_FRI).unwrap();
    assert_eq!(lists, w.lists);
    assert_eq!((lists.withdrawals.len(), lists.queue.len(), lists.rejected.len()), (2, 4, 0));
    assert_eq!(encode(&back, &lists, &L1_FRI).unwrap(), bytes);
    assert_eq!(verify_encoded(&bytes, &L1_FRI, w.depth, &w.public).unwrap(), w.lists);
    // Each list is bounded: a count above its bound is refused before its entries are read.
    // The lists, then 24 int32 token flows.
    let rejected_at = bytes.len() - 96 - 1;
    let queue_at = rejected_at - 1 - 105 * 4;
    let list_at = queue_at - 1 - 36 * 2;
    for (at, what, max) in [
        (list_at, "withdrawal", WMAX),
        (queue_at, "queue entry", DMAX),
        (rejected_at, "rejected deposit", DMAX),
    ] {
        let mut many = bytes[..=at].to_vec();
        many[at] = max as u8 + 1;
        many.extend(std::iter::repeat_n(1u8, 105 * (max + 1)));
        let bound = CodecError::Bound { what, got: max + 1, max };
        assert_eq!(decode(&many, &L1_FRI).err(), Some(bound));
    }
    let mut too_many = w.lists.clone();
    too_many.withdrawals = vec![w.lists.withdrawals[0].clone(); WMAX + 1];
    let bound = CodecError::Bound { what: "withdrawal", got: WMAX + 1, max: WMAX };
    assert_eq!(encode(&back, &too_many, &L1_FRI).err(), Some(bound));
    let mut too_many = w.lists.clone();
    too_many.queue = vec![w.lists.queue[0].clone(); DMAX + 1];
    let bound = CodecError::Bound { what: "queue entry", got: DMAX + 1, max: DMAX };
    assert_eq!(encode(&back, &too_many, &L1_FRI).err(), Some(bound));
    let mut wide = w.lists.clone();
    wide.flows.account_bytes[3] = i64::from(i32::MAX) + 1;
    assert_eq!(
        encode(&back, &wide, &L1_FRI).err(),
        Some(CodecError::Shape("token flow out of range"))
    );
    // Truncated, oversized and non-canonical encodings are refused by the decoder.
    assert!(matches!(decode(&bytes[..bytes.len() - 1], &L1_FRI), Err(CodecError::Truncated(_))));
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(decode(&long, &L1_FRI).err(), Some(CodecError::Trailing(1)));
    let mut bad = bytes.clone();
    bad[66..70].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode(&bad, &L1_FRI).err(), Some(CodecError::NonCanonical(66)));
    bad = bytes;
    bad[0] = 1;
    assert_eq!(decode(&bad, &L1_FRI).err(), Some(CodecError::Version(1)));
    // Parameters the prover refuses are refused here too (arity 0 would never finish folding).
    for fri in [FriConfig { log_arity: 0, ..L1_FRI }, FriConfig { log_final_poly_len: 7, ..L1_FRI }]
    {
        assert!(matches!(decode(&bad, &fri), Err(CodecError::Shape(_))));
    }
}

#[test]
fn encoding_round_trips_for_other_folding_schedules() {
    // Binary folding to a constant (the first L1 layout) and arity 8 down to 4 coefficients,
    // whose schedule ends with a smaller round.
    for (log_arity, log_final_poly_len) in [(1, 0), (3, 2)] {
        let fri = FriConfig { log_arity, log_final_poly_len, ..L1_FRI };
        let wl = bench::transfers(2, 2, 1).unwrap();
        let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
        let p = prove(&evm_config(&fri), &fri, &w, |_| {}).unwrap();
        let bytes = encode(&p.proof, &p.lists, &fri).unwrap();
        let (back, lists) = decode(&bytes, &fri).unwrap();
        assert_eq!(encode(&back, &lists, &fri).unwrap(), bytes);
        verify_encoded(&bytes, &fri, w.depth, &w.public).unwrap();
        // The same bytes do not decode under another schedule.
        let other = FriConfig { log_arity: log_arity % 4 + 1, ..fri };
        assert!(decode(&bytes, &other).is_err(), "arity {log_arity}, final {log_final_poly_len}");
    }
}

/// The challenger the Solidity verifier implements, driven from the encoded proof.
#[derive(Default)]
struct Model {
    buf: Vec<u8>,
    out: Vec<u8>,
    tape: Vec<Vec<u8>>,
}

impl Model {
    fn observe(&mut self, b: &[u8]) {
        self.out.clear();
        self.buf.extend_from_slice(b);
    }
    fn pop(&mut self) -> u8 {
        if self.out.is_empty() {
            self.tape.push(self.buf.clone());
            let d = Keccak256Hash.hash_iter(self.buf.drain(..));
            self.buf = d.to_vec();
            self.out = d.to_vec();
        }
        self.out.pop().unwrap_or_default()
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.pop(), self.pop(), self.pop(), self.pop()])
    }
    fn ext(&mut self) {
        for _ in 0..4 {
            while self.u32() & 0x7fff_ffff >= Felt::ORDER_U32 {}
        }
    }
}

#[test]
fn transcript_matches_plonky3_challenger() {
    let (w, p) = proof_of(2, 1);
    let bytes = encode(&p.proof, &p.lists, &L1_FRI).unwrap();
    let air = ctm_prover::air::BatchAir::new(w.depth).unwrap();
    let db = p.proof.degree_bits;
    // Plonky3's verifier with a recording keccak.
    let tap_proof: Proof<TapConfig> = Proof {
        commitments: p.proof.commitments,
        opened_values: p.proof.opened_values,
        opening_proof: p.proof.opening_proof,
        degree_bits: db,
        ood_pow_witness: p.proof.ood_pow_witness,
    };
    let mmcs_cfg = evm_config(&L1_FRI);
    let tap_cfg = TapConfig::new(
        mmcs_cfg.pcs().clone(),
        SerializingChallenger32::new(HashChallenger::new(vec![], Tap)),
    );
    TAPE.with(|t| t.borrow_mut().clear());
    let pv = w.public_values().unwrap();
    p3_uni_stark::verify(&tap_cfg, &air, &tap_proof, &pv).unwrap();
    let tape = TAPE.with(|t| t.take());

    // The same transcript from the encoding alone.
    let width = ctm_prover::layout::WIDTH;
    let claimed = 66 + (2 * width + 8) * 16;
    let mut m = Model::default();
    m.observe(&stark_seed(&air, db));
    m.observe(&bytes[2..34]);
    let pv_bytes: Vec<u8> = pv.iter().flat_map(|x| x.to_unique_u32().to_le_bytes()).collect();
    m.observe(&pv_bytes);
    m.ext(); // alpha
    m.observe(&bytes[34..66]);
    m.ext(); // zeta
    m.observe(&pcs_seed());
    m.observe(&bytes[66..claimed]);
    m.ext(); // FRI batching alpha
    m.observe(&fri_seed(&L1_FRI, db));
    let rounds = L1_FRI.fold_schedule(db).len();
    for r in 0..rounds {
        m.observe(&bytes[claimed + 32 * r..claimed + 32 * r + 32]);
        m.ext(); // beta
    }
    let fp = claimed + 32 * rounds;
    let fp_end = fp + (16 << L1_FRI.log_final_poly_len);
    m.observe(&bytes[fp..fp_end]);
    m.pop(); // PoW squeeze
    m.observe(&bytes[fp_end..fp_end + 4]);
    assert_eq!(m.u32() & ((1 << L1_FRI.pow_bits) - 1), 0, "PoW");
    for _ in 0..L1_FRI.num_queries {
        m.u32();
    }
    assert_eq!(m.tape.len(), tape.len(), "number of keccak calls");
    for (i, (a, b)) in m.tape.iter().zip(&tape).enumerate() {
        assert_eq!(hex::encode(a), hex::encode(b), "keccak input {i}");
    }
    assert_eq!(Felt::ZERO, p.proof.ood_pow_witness);
}

#[test]
fn generated_seeds_contract_is_current() {
    let air = ctm_prover::air::BatchAir::new(32).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../",
        "l1-contracts/src/verifier/BatchVerifierSeeds.sol"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == solidity::seeds_contract(&air),
        "{} is stale: run `{}`",
        solidity::SEEDS_PATH,
        solidity::COMMAND
    );
}

#[test]
fn proof_fixtures_are_current() {
    // The committed L1 fixtures must be proofs of the same batches (same public inputs and
    // withdrawal list) that verify under the current AIR, seeds and encoding. (Not a byte
    // comparison with a fresh proof: the proof-of-work grind runs in parallel and may stop at
    // another valid witness, which changes the query positions and every opening.)
    for (transfers, withdrawals, deposits) in [(1, 0, 0), (8, 3, 5)] {
        let path = format!(
            "{}/../l1-contracts/test/fixtures/batch-{transfers}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
                .unwrap_or_default();
        let bytes = hex::decode(fixture["proof"].as_str().unwrap_or("").trim_start_matches("0x"))
            .unwrap_or_default();
        let wl = bench::transfers(transfers, transfers.max(2), 1)
            .unwrap()
            .with_withdrawals(withdrawals)
            .with_deposits(deposits);
        let (w, _) = build_witness(&wl.tree, &wl.rules, &wl.blocks, &wl.ctx).unwrap();
        let public = format!(
            "0x{}",
            hex::encode(w.public.words().iter().flat_map(|x| x.0).collect::<Vec<u8>>())
        );
        let current =
            verify_encoded(&bytes, &L1_FRI, w.depth, &w.public).is_ok_and(|lists| lists == w.lists);
        assert!(
            current && fixture["publicInputs"].as_str() == Some(public.as_str()),
            "l1-contracts/test/fixtures are stale: run `{}`",
            solidity::COMMAND
        );
    }
}
