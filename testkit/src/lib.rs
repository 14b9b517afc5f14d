//! `ctm-testkit`: what the integration tests that need a real L1 share — anvil on a free port
//! (killed on drop), the contracts deployed by `l1-contracts/script/Deploy.s.sol`, anvil's funded
//! keys and typed L1 calls. Test support: failures panic with a message, as tests want.

pub mod cuda_host;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::SolCall;

/// Private keys of anvil's first four funded accounts (the devnet's).
pub use ctm_devnet::up::KEYS;

/// Signer of anvil account `i` (< 4).
pub fn key(i: usize) -> PrivateKeySigner {
    KEYS[i].parse().unwrap()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `f` every 100 ms until it holds; panics after `secs` seconds naming `what`.
pub async fn wait_until<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An HTTP provider that signs with `k`.
pub fn wallet_provider(url: &str, k: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(k))
        .connect_http(url.parse().unwrap())
        .erased()
}

/// `eth_call` of a typed contract call.
pub async fn l1_call<C: SolCall>(p: &DynProvider, to: Address, call: C) -> C::Return {
    let req = TransactionRequest::default().with_to(to).with_input(call.abi_encode());
    C::abi_decode_returns(&p.call(req).await.unwrap()).unwrap()
}

/// Sends a typed contract call and asserts it succeeded. On a revert the panic names the call,
/// the gas used against the limit, and what the same call returns replayed on the block it
/// reverted in (the revert data, or success when only the gas ran out).
pub async fn l1_send<C: SolCall>(p: &DynProvider, to: Address, call: C) {
    let req = TransactionRequest::default().with_to(to).with_input(call.abi_encode());
    // An exact estimate can run out of gas a second later (`gas_limit_with_margin`).
    let estimate = p.estimate_gas(req.clone()).await.unwrap();
    let req = req.with_gas_limit(ctm_core::l1::gas_limit_with_margin(estimate));
    let r = p.send_transaction(req.clone()).await.unwrap().get_receipt().await.unwrap();
    if r.status() {
        return;
    }
    let tx = p.get_transaction_by_hash(r.transaction_hash).await.ok().flatten();
    let limit = tx.map(|t| alloy::consensus::Transaction::gas_limit(&t));
    let parent =
        r.block_number.map_or(alloy::eips::BlockId::latest(), |n| n.saturating_sub(1).into());
    let replay = p.call(req.from(r.from)).block(parent).await;
    panic!(
        "L1 transaction reverted: {} to {to} in block {:?}, gas used {} of {limit:?}; replayed on \
         its parent block: {replay:?}",
        C::SIGNATURE,
        r.block_number,
        r.gas_used,
    );
}

/// Claims withdrawal `index` of batch `batch` (`amount` to `recipient`) on L1's bridge with the
/// Merkle proof the sequencer at `l2` serves (`ctm_getWithdrawalProof`); returns how much the
/// recipient's token balance rose.
#[allow(clippy::too_many_arguments)]
pub async fn claim_withdrawal(
    l1: &DynProvider,
    l2: &DynProvider,
    bridge: Address,
    token: Address,
    batch: u64,
    index: u64,
    recipient: Address,
    amount: alloy::primitives::U256,
) -> alloy::primitives::U256 {
    use alloy::primitives::U256;
    use ctm_core::l1::{IBridge, IERC20};
    let proof: serde_json::Value =
        l2.raw_request("ctm_getWithdrawalProof".into(), (batch, index)).await.unwrap();
    let siblings: Vec<B256> = serde_json::from_value(proof["proof"].clone()).unwrap();
    let balance = || l1_call(l1, token, IERC20::balanceOfCall { who: recipient });
    let before: U256 = balance().await;
    let claim = IBridge::claimWithdrawalCall {
        batchIndex: U256::from(batch),
        index: U256::from(index),
        recipient,
        amount,
        proof: siblings,
    };
    l1_send(l1, bridge, claim).await;
    balance().await - before
}

/// A running anvil; killed when dropped.
pub struct Anvil {
    child: Child,
    /// Its HTTP JSON-RPC URL.
    pub url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the pinned anvil (tools/anvil) on a free port and waits until it answers.
pub async fn anvil() -> Anvil {
    assert!(
        repo().join("node_modules/.bin/anvil").exists(),
        "anvil is not installed: run scripts/setup (npm ci)"
    );
    let port = free_port();
    let child = Command::new(repo().join("tools/anvil"))
        .args(["--port", &port.to_string(), "--silent"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
    let p = wallet_provider(&anvil.url, key(0));
    wait_until("anvil", 30, || async { p.get_chain_id().await.is_ok() }).await;
    anvil
}

/// Deploys the computronium preset with the forge script (the batch STARK verifier included)
/// and returns the path of the deployment JSON it wrote; `tag` names the file.
pub fn deploy(url: &str, sequencer: Address, genesis: B256, tag: &str) -> PathBuf {
    let rel = format!("deployments/test-{tag}-{}.json", std::process::id());
    ctm_devnet::up::deploy(&repo(), url, sequencer, genesis, &rel).unwrap_or_else(|e| panic!("{e}"))
}
