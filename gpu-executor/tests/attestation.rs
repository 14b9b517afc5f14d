//! Attestation signatures: a signed attestation verifies; changing any field, the chain id or the
//! signer breaks it; the JSON form round-trips.

mod common;

use alloy_primitives::{Address, B256, U256};
use common::TEST_KEY;
use ctm_core::attestation::{Attestation, AttestationError, SignedAttestation};
use ctm_gpu_executor::attest::{parse_key, sign};

const CHAIN: u64 = 71117;

fn sample(provider: Address) -> Attestation {
    Attestation {
        job_id: 42,
        provider,
        dataset: B256::repeat_byte(0x11),
        initial_weights: B256::repeat_byte(0x22),
        checkpoint_head: B256::repeat_byte(0x33),
        final_weights: B256::repeat_byte(0x44),
        checkpoints: 20,
        steps: 880,
        final_loss: 485,
        held_out_accuracy: 9693,
    }
}

#[test]
fn signature_verifies_and_every_modified_field_breaks_it() {
    let key = parse_key(TEST_KEY).unwrap();
    let signed = sign(sample(key.address()), &key, CHAIN).unwrap();
    signed.verify().unwrap();
    let edits: [fn(&mut Attestation); 10] = [
        |a| a.job_id += 1,
        |a| a.provider = Address::repeat_byte(9),
        |a| a.dataset.0[31] ^= 1,
        |a| a.initial_weights.0[0] ^= 1,
        |a| a.checkpoint_head.0[5] ^= 1,
        |a| a.final_weights.0[9] ^= 1,
        |a| a.checkpoints += 1,
        |a| a.steps -= 1,
        |a| a.final_loss += 1,
        |a| a.held_out_accuracy -= 1,
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut a = signed.attestation;
        edit(&mut a);
        assert_ne!(a.commitment(), signed.attestation.commitment(), "field {i}");
        let err = a.verify(&signed.signature, CHAIN).unwrap_err();
        assert!(matches!(err, AttestationError::WrongSigner { .. }), "field {i}: {err}");
    }
}

#[test]
fn wrong_chain_id_or_signer_breaks_it() {
    let key = parse_key(TEST_KEY).unwrap();
    let signed = sign(sample(key.address()), &key, CHAIN).unwrap();
    assert!(signed.attestation.verify(&signed.signature, CHAIN + 1).is_err());
    let moved = SignedAttestation { chain_id: 1, ..signed };
    assert!(moved.verify().is_err());
    // Another key cannot sign for this provider, and the signing helper refuses to try.
    let other = parse_key(&format!("0x{}", "07".repeat(32))).unwrap();
    assert!(sign(sample(key.address()), &other, CHAIN).is_err());
    let forged = sign(sample(other.address()), &other, CHAIN).unwrap();
    let err = sample(key.address()).verify(&forged.signature, CHAIN).unwrap_err();
    assert!(matches!(err, AttestationError::WrongSigner { .. }));
}

#[test]
fn high_s_signatures_and_bad_keys_are_rejected() {
    let key = parse_key(TEST_KEY).unwrap();
    let signed = sign(sample(key.address()), &key, CHAIN).unwrap();
    let n = U256::from_str_radix(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .unwrap();
    let s = signed.signature;
    let high = alloy_primitives::Signature::new(s.r(), n - s.s(), !s.v());
    let err = signed.attestation.verify(&high, CHAIN).unwrap_err();
    assert_eq!(err, AttestationError::HighS);
    for bad in ["", "0x12", "zz", &"00".repeat(32)] {
        assert!(parse_key(bad).is_err(), "{bad}");
    }
}

#[test]
fn json_round_trip() {
    let key = parse_key(TEST_KEY).unwrap();
    let signed = sign(sample(key.address()), &key, CHAIN).unwrap();
    let json = serde_json::to_string(&signed).unwrap();
    let back: SignedAttestation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, signed);
    back.verify().unwrap();
    println!("vector: {json}\ncommitment {}", signed.attestation.commitment());
}
