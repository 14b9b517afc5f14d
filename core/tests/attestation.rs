//! Training attestations: a fixed vector signed by the executor (anvil's first development key,
//! chain 71117) verifies here without the executor, and the EIP-712 encoding matches a by-hand
//! computation of `hashStruct` and the signing hash.

use alloy_primitives::{Address, B256, U256, keccak256};
use ctm_core::attestation::{ATTESTATION_TYPE, AttestationError, SignedAttestation, domain};

const VECTOR: &str = r#"{"chainId":71117,"attestation":{"jobId":42,"provider":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","dataset":"0x1111111111111111111111111111111111111111111111111111111111111111","initialWeights":"0x2222222222222222222222222222222222222222222222222222222222222222","checkpointHead":"0x3333333333333333333333333333333333333333333333333333333333333333","finalWeights":"0x4444444444444444444444444444444444444444444444444444444444444444","checkpoints":20,"steps":880,"finalLoss":485,"heldOutAccuracy":9693},"signature":{"r":"0xac41f88954d195414c2f29ee96f2ec3aec92b03df2f42680c211b49c73a1ff71","s":"0x6a5030e6d9d784e2d17b767dac94bb654852e3ab983a1dedbe62c857eab3fd59","yParity":"0x1","v":"0x1"}}"#;
const COMMITMENT: &str = "0x5c814dd6101e59dd5e918a98bdbb665cc5df0172dbc6e55aadc62b8688f33154";

fn vector() -> SignedAttestation {
    serde_json::from_str(VECTOR).unwrap()
}

fn word(v: u64) -> [u8; 32] {
    U256::from(v).to_be_bytes()
}

#[test]
fn vector_verifies_and_its_commitment_is_stable() {
    let s = vector();
    s.verify().unwrap();
    assert_eq!(s.attestation.commitment(), COMMITMENT.parse::<B256>().unwrap());
    let anvil0: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse().unwrap();
    assert_eq!(s.attestation.recover(&s.signature, s.chain_id).unwrap(), anvil0);
}

#[test]
fn tampering_or_another_chain_breaks_the_vector() {
    let s = vector();
    let mut a = s.attestation;
    a.held_out_accuracy = 10_000;
    assert!(matches!(
        a.verify(&s.signature, s.chain_id),
        Err(AttestationError::WrongSigner { .. })
    ));
    assert!(s.attestation.verify(&s.signature, 1).is_err());
}

#[test]
fn eip712_encoding_by_hand() {
    let a = vector().attestation;
    let mut enc = keccak256(ATTESTATION_TYPE).to_vec();
    enc.extend(word(a.job_id));
    let mut addr = [0u8; 32];
    addr[12..].copy_from_slice(a.provider.as_slice());
    enc.extend(addr);
    for b in [a.dataset, a.initial_weights, a.checkpoint_head, a.final_weights] {
        enc.extend(b.0);
    }
    enc.extend(word(a.checkpoints.into()));
    enc.extend(word(a.steps));
    enc.extend(word(a.final_loss));
    enc.extend(word(a.held_out_accuracy.into()));
    let hash_struct = keccak256(&enc);
    assert_eq!(a.commitment(), hash_struct);

    let mut dom = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
    )
    .to_vec();
    dom.extend(keccak256("Computronium").0);
    dom.extend(keccak256("1").0);
    dom.extend(word(71117));
    let mut market = [0u8; 32];
    market[12..].copy_from_slice(ctm_core::system::MARKETPLACE.as_slice());
    dom.extend(market);
    let separator = keccak256(&dom);
    assert_eq!(domain(71117).separator(), separator);
    let mut msg = vec![0x19, 0x01];
    msg.extend(separator.0);
    msg.extend(hash_struct.0);
    assert_eq!(a.signing_hash(71117), keccak256(&msg));
}
