//! Marketplace lifecycles through JSON-RPC with real signed transactions: post → match →
//! accept → checkpoint → attest → settle; timeout → refund + slash; dispute → slash; payment
//! channels with 10,000 off-chain vouchers; data listings.

mod common;

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use ctm_core::attestation::Attestation;
use ctm_core::market::voucher_signing_hash;
use ctm_core::system::{CHANNELS, LISTINGS, MARKETPLACE, STAKING, TREASURY};
use ctm_sequencer::system::{IChannels, IL2Staking, IListings, IMarketplace as M};

const CHAIN: u64 = 71117;

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn wallet(node: &ctm_sequencer::service::Running, i: usize) -> (PrivateKeySigner, DynProvider) {
    let s = node.dev_signers[i].clone();
    let p = ProviderBuilder::new()
        .wallet(EthereumWallet::from(s.clone()))
        .connect_http(node.http_url().parse().unwrap());
    (s, p.erased())
}

/// Sends a call and returns (success, revert reason if any).
async fn send(
    p: &DynProvider,
    to: Address,
    data: Vec<u8>,
    value: U256,
) -> alloy::rpc::types::TransactionReceipt {
    let req = TransactionRequest::default()
        .with_to(to)
        .with_input(data)
        .with_value(value)
        .with_gas_limit(500_000);
    p.send_transaction(req).await.unwrap().get_receipt().await.unwrap()
}

/// eth_call that must revert; returns the error message (with the decoded custom error).
async fn reverts(
    p: &DynProvider,
    from: Address,
    to: Address,
    data: Vec<u8>,
    value: U256,
) -> String {
    let req =
        TransactionRequest::default().from(from).with_to(to).with_input(data).with_value(value);
    let e = p.call(req).await.expect_err("call must revert");
    let msg = e.to_string();
    // The node puts the decoded custom error in the message.
    msg
}

fn h100() -> M::ProviderSpec {
    M::ProviderSpec {
        gpuModel: FixedBytes::right_padding_from(b"H100"),
        gpuMemoryMb: 80_000,
        gpuCount: 8,
        pricePerGpuHour: eth(2),
        region: FixedBytes::right_padding_from(b"eu-west"),
    }
}

fn job_spec(deadline: u64) -> M::JobSpec {
    M::JobSpec {
        model: B256::repeat_byte(0xaa),
        dataset: B256::repeat_byte(0xbb),
        requirements: M::JobRequirements {
            gpuModel: FixedBytes::ZERO,
            minGpuMemoryMb: 40_000,
            gpuCount: 1,
            gpuHours: 10,
        },
        maxPricePerGpuHour: eth(3),
        deadline,
        priority: 1,
    }
}

fn attestation(job: u64, provider: Address) -> Attestation {
    Attestation {
        job_id: job,
        provider,
        dataset: B256::repeat_byte(0xbb),
        initial_weights: B256::repeat_byte(0xaa),
        checkpoint_head: B256::repeat_byte(0xcc),
        final_weights: B256::repeat_byte(0xdd),
        checkpoints: 10,
        steps: 1000,
        final_loss: 6_000,
        held_out_accuracy: 9_600,
    }
}

fn sol_att(a: &Attestation) -> M::TrainingAttestation {
    a.into()
}

fn sign_att(s: &PrivateKeySigner, a: &Attestation) -> Bytes {
    Bytes::from(s.sign_hash_sync(&a.signing_hash(CHAIN)).unwrap().as_bytes().to_vec())
}

async fn now(p: &DynProvider) -> u64 {
    p.get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp
}

async fn job(p: &DynProvider, id: u64) -> M::JobInfo {
    let out = p
        .call(
            TransactionRequest::default()
                .with_to(MARKETPLACE)
                .with_input(M::getJobCall { jobId: id }.abi_encode()),
        )
        .await
        .unwrap();
    M::getJobCall::abi_decode_returns(&out).unwrap()
}

#[tokio::test]
async fn post_match_accept_stream_attest_settle() {
    let node = common::start_market(2).await;
    let (_, client) = wallet(&node, 0);
    let (ps, provider) = wallet(&node, 1);
    let (os, other) = wallet(&node, 2);
    assert!(
        send(
            &provider,
            MARKETPLACE,
            M::registerProviderCall { spec: h100() }.abi_encode(),
            eth(1000)
        )
        .await
        .status()
    );
    // Wait a block so the provider is in the matching engine's snapshot.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let deadline = now(&client).await + 3600;
    let r = send(
        &client,
        MARKETPLACE,
        M::postJobCall { spec: job_spec(deadline) }.abi_encode(),
        eth(100),
    )
    .await;
    assert!(r.status());
    let assigned = r
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<M::JobAssigned>().ok())
        .expect("matched at once");
    assert_eq!(assigned.inner.provider, ps.address());
    assert_eq!(assigned.inner.price, eth(20), "2 per GPU-hour x 10 hours x 1 GPU");
    let id = assigned.inner.jobId;

    // An unassigned provider can neither accept nor attest.
    let reason = reverts(
        &other,
        os.address(),
        MARKETPLACE,
        M::acceptJobCall { jobId: id }.abi_encode(),
        eth(2),
    )
    .await;
    assert!(reason.contains("not authorised"), "{reason}");
    assert!(
        send(&provider, MARKETPLACE, M::acceptJobCall { jobId: id }.abi_encode(), eth(2))
            .await
            .status()
    );
    let forged = attestation(id, os.address());
    let reason = reverts(
        &other,
        os.address(),
        MARKETPLACE,
        M::submitAttestationCall {
            attestation: sol_att(&forged),
            signature: sign_att(&os, &forged),
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(reason.contains("not authorised"), "{reason}");

    // Streamed checkpoint payments, in order only.
    let bad = reverts(
        &provider,
        ps.address(),
        MARKETPLACE,
        M::claimCheckpointCall { jobId: id, index: 2, checkpoint: B256::ZERO }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(bad.contains("execution reverted"), "{bad}");
    assert!(
        send(
            &provider,
            MARKETPLACE,
            M::claimCheckpointCall { jobId: id, index: 1, checkpoint: B256::repeat_byte(1) }
                .abi_encode(),
            U256::ZERO
        )
        .await
        .status()
    );

    // A wrongly signed attestation is refused; the real one is accepted.
    let att = attestation(id, ps.address());
    let bad_sig = sign_att(&os, &att);
    let reason = reverts(
        &provider,
        ps.address(),
        MARKETPLACE,
        M::submitAttestationCall { attestation: sol_att(&att), signature: bad_sig }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(reason.contains("execution reverted"), "{reason}");
    let r = send(
        &provider,
        MARKETPLACE,
        M::submitAttestationCall { attestation: sol_att(&att), signature: sign_att(&ps, &att) }
            .abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(r.status());
    assert_eq!(job(&client, id).await.attestation, att.commitment());
    // Settling inside the challenge window is too early.
    let early = reverts(
        &client,
        node.dev_signers[0].address(),
        MARKETPLACE,
        M::settleCall { jobId: id }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(early.contains("too early"), "{early}");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let before = provider.get_balance(ps.address()).await.unwrap();
    let treasury_before = client.get_balance(TREASURY).await.unwrap();
    assert!(
        send(&other, MARKETPLACE, M::settleCall { jobId: id }.abi_encode(), U256::ZERO)
            .await
            .status(),
        "anyone may settle"
    );
    let after = provider.get_balance(ps.address()).await.unwrap();
    // price 20, fee 2.5% = 0.5 (half burned), 1 streamed already (10% of half of 19.5 = 0.975), collateral 2 back.
    let fee = eth(20) * U256::from(250) / U256::from(10_000);
    let part = (eth(20) - fee) / U256::from(2) / U256::from(10);
    assert_eq!(after - before, eth(20) - fee - part + eth(2));
    assert_eq!(
        client.get_balance(TREASURY).await.unwrap() - treasury_before,
        fee - fee / U256::from(2)
    );
    let info = job(&client, id).await;
    assert_eq!(info.status, 4, "settled");
    let rep = client
        .call(
            TransactionRequest::default()
                .with_to(MARKETPLACE)
                .with_input(M::reputationCall { provider: ps.address() }.abi_encode()),
        )
        .await
        .unwrap();
    assert!(M::reputationCall::abi_decode_returns(&rep).unwrap() > 0);
    node.stop().await;
}

#[tokio::test]
async fn timeout_refunds_and_dispute_slashes() {
    let node = common::start_market(30).await;
    let (cs, client) = wallet(&node, 3);
    let (ps, provider) = wallet(&node, 4);
    let (vs, verifier) = wallet(&node, 5);
    assert!(
        send(
            &provider,
            MARKETPLACE,
            M::registerProviderCall { spec: h100() }.abi_encode(),
            eth(1000)
        )
        .await
        .status()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Job 0: accepted, never attested, times out: full refund, collateral slashed (half burned, half to the client).
    let t = now(&client).await;
    send(&client, MARKETPLACE, M::postJobCall { spec: job_spec(t + 2) }.abi_encode(), eth(100))
        .await;
    assert!(
        send(&provider, MARKETPLACE, M::acceptJobCall { jobId: 0 }.abi_encode(), eth(4))
            .await
            .status()
    );
    let too_soon = reverts(
        &client,
        cs.address(),
        MARKETPLACE,
        M::timeoutJobCall { jobId: 0 }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(too_soon.contains("too early"), "{too_soon}");
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let before = client.get_balance(cs.address()).await.unwrap();
    let r =
        send(&verifier, MARKETPLACE, M::timeoutJobCall { jobId: 0 }.abi_encode(), U256::ZERO).await;
    assert!(r.status());
    assert_eq!(client.get_balance(cs.address()).await.unwrap() - before, eth(100) + eth(2));
    assert_eq!(job(&client, 0).await.status, 5, "refunded");

    // Job 1: the provider equivocates (signs two different results); a staked verifier proves it.
    let t = now(&client).await;
    send(&client, MARKETPLACE, M::postJobCall { spec: job_spec(t + 3600) }.abi_encode(), eth(100))
        .await;
    send(&provider, MARKETPLACE, M::acceptJobCall { jobId: 1 }.abi_encode(), eth(4)).await;
    let att = attestation(1, ps.address());
    send(
        &provider,
        MARKETPLACE,
        M::submitAttestationCall { attestation: sol_att(&att), signature: sign_att(&ps, &att) }
            .abi_encode(),
        U256::ZERO,
    )
    .await;
    let mut other = att;
    other.final_weights = B256::repeat_byte(0xee);
    let evidence: Bytes = (sol_att(&other), sign_att(&ps, &other)).abi_encode_params().into();
    let same: Bytes = (sol_att(&att), sign_att(&ps, &att)).abi_encode_params().into();
    let unstaked = reverts(
        &verifier,
        vs.address(),
        MARKETPLACE,
        M::disputeCall { jobId: 1, evidence: evidence.clone() }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(unstaked.contains("verifier stake"), "{unstaked}");
    assert!(
        send(&verifier, STAKING, IL2Staking::stakeCall { role: 3 }.abi_encode(), eth(10))
            .await
            .status()
    );
    let no_fault = reverts(
        &verifier,
        vs.address(),
        MARKETPLACE,
        M::disputeCall { jobId: 1, evidence: same }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(no_fault.contains("execution reverted"), "{no_fault}");
    let before = verifier.get_balance(vs.address()).await.unwrap();
    let r = send(
        &verifier,
        MARKETPLACE,
        M::disputeCall { jobId: 1, evidence }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(r.status());
    let gas = U256::from(r.gas_used) * U256::from(r.effective_gas_price);
    assert_eq!(
        verifier.get_balance(vs.address()).await.unwrap() + gas - before,
        eth(2),
        "half the collateral to the reporter"
    );
    let info = job(&client, 1).await;
    assert_eq!(info.status, 5);
    let out = client
        .call(
            TransactionRequest::default()
                .with_to(MARKETPLACE)
                .with_input(M::getProviderCall { provider: ps.address() }.abi_encode()),
        )
        .await
        .unwrap();
    let p = M::getProviderCall::abi_decode_returns(&out).unwrap();
    assert_eq!((p.failed, p.disputed), (2, 1));
    node.stop().await;
}

#[tokio::test]
async fn channel_with_ten_thousand_vouchers() {
    let node = common::start_market(2).await;
    let (agent_key, agent) = wallet(&node, 6);
    let (seller_key, seller) = wallet(&node, 7);
    let r = send(
        &agent,
        CHANNELS,
        IChannels::openCall { recipient: seller_key.address() }.abi_encode(),
        eth(10),
    )
    .await;
    assert!(r.status());
    let id = r.inner.logs()[0].log_decode::<IChannels::ChannelOpened>().unwrap().inner.channelId;
    // 10,000 micropayments of 0.0001 token, signed off-chain; only some are redeemed on-chain.
    let unit = U256::from(10u64).pow(U256::from(14));
    let mut vouchers = Vec::with_capacity(10_000);
    for i in 1..=10_000u64 {
        let cumulative = unit * U256::from(i);
        let h = voucher_signing_hash(CHAIN, id, cumulative.to::<u128>());
        vouchers.push((
            cumulative,
            Bytes::from(agent_key.sign_hash_sync(&h).unwrap().as_bytes().to_vec()),
        ));
    }
    let seller_start = seller.get_balance(seller_key.address()).await.unwrap();
    let redeem = |i: usize| {
        IChannels::redeemCall {
            channelId: id,
            cumulative: vouchers[i].0,
            signature: vouchers[i].1.clone(),
        }
        .abi_encode()
    };
    let r1 = send(&seller, CHANNELS, redeem(4_999), U256::ZERO).await;
    assert!(r1.status());
    // Replaying the same voucher or an older one is refused.
    let replay = reverts(&seller, seller_key.address(), CHANNELS, redeem(4_999), U256::ZERO).await;
    assert!(replay.contains("already redeemed"), "{replay}");
    let older = reverts(&seller, seller_key.address(), CHANNELS, redeem(10), U256::ZERO).await;
    assert!(older.contains("already redeemed"), "{older}");
    // A voucher signed by someone else, or for another channel, is refused.
    let forged = Bytes::from(
        seller_key
            .sign_hash_sync(&voucher_signing_hash(CHAIN, id, eth(9).to::<u128>()))
            .unwrap()
            .as_bytes()
            .to_vec(),
    );
    let f = reverts(
        &seller,
        seller_key.address(),
        CHANNELS,
        IChannels::redeemCall { channelId: id, cumulative: eth(9), signature: forged }.abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(f.contains("execution reverted"), "{f}");
    // The sender closes; the recipient redeems the last voucher within the challenge period.
    assert!(
        send(&agent, CHANNELS, IChannels::closeCall { channelId: id }.abi_encode(), U256::ZERO)
            .await
            .status()
    );
    let r2 = send(&seller, CHANNELS, redeem(9_999), U256::ZERO).await;
    assert!(r2.status());
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(
        send(&agent, CHANNELS, IChannels::finalizeCall { channelId: id }.abi_encode(), U256::ZERO)
            .await
            .status()
    );
    let gas = |r: &alloy::rpc::types::TransactionReceipt| {
        U256::from(r.gas_used) * U256::from(r.effective_gas_price)
    };
    let seller_end = seller.get_balance(seller_key.address()).await.unwrap();
    assert_eq!(seller_end + gas(&r1) + gas(&r2) - seller_start, eth(1), "10,000 x 0.0001");
    node.stop().await;
}

#[tokio::test]
async fn listings_sell_access() {
    let node = common::start_market(2).await;
    let (owner_key, owner) = wallet(&node, 8);
    let (buyer_key, buyer) = wallet(&node, 9);
    let r = send(
        &owner,
        LISTINGS,
        IListings::listCall {
            kind: 0,
            content: B256::repeat_byte(7),
            price: eth(5),
            licence: B256::repeat_byte(8),
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    assert!(r.status());
    let wrong = reverts(
        &buyer,
        buyer_key.address(),
        LISTINGS,
        IListings::buyCall { listingId: 0 }.abi_encode(),
        eth(4),
    )
    .await;
    assert!(wrong.contains("execution reverted"), "{wrong}");
    let before = owner.get_balance(owner_key.address()).await.unwrap();
    assert!(
        send(&buyer, LISTINGS, IListings::buyCall { listingId: 0 }.abi_encode(), eth(5))
            .await
            .status()
    );
    assert_eq!(
        owner.get_balance(owner_key.address()).await.unwrap() - before,
        eth(5) - eth(5) * U256::from(250) / U256::from(10_000)
    );
    let out = buyer
        .call(TransactionRequest::default().with_to(LISTINGS).with_input(
            IListings::hasAccessCall { listingId: 0, buyer: buyer_key.address() }.abi_encode(),
        ))
        .await
        .unwrap();
    assert!(IListings::hasAccessCall::abi_decode_returns(&out).unwrap());
    let twice = reverts(
        &buyer,
        buyer_key.address(),
        LISTINGS,
        IListings::buyCall { listingId: 0 }.abi_encode(),
        eth(5),
    )
    .await;
    assert!(twice.contains("already exists"), "{twice}");
    node.stop().await;
}
