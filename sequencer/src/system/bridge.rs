//! The L2 side of the bridge: withdrawals burn on L2 and become claimable on L1.

use alloy_sol_types::SolCall;
use ctm_core::op::Op;
use ctm_core::state::{StateKey, Totals};
use ctm_core::tree::TreeStore;

use super::{BASE_GAS, Call, CallOutcome, Revert, event};
use ctm_core::abi::IL2Bridge;

/// Gas of a withdrawal (a state write, a log and the L1 claim it creates).
pub(super) const WITHDRAW_GAS: u64 = BASE_GAS + 20_000;

/// Serves a call to the bridge.
pub(super) fn call<S: TreeStore>(c: &mut Call<'_, '_, S>) -> (u64, Result<CallOutcome, Revert>) {
    match c.input.get(..4).map(|s| <[u8; 4]>::try_from(s).unwrap_or_default()) {
        Some(IL2Bridge::withdrawCall::SELECTOR) => (WITHDRAW_GAS, withdraw(c)),
        _ => (BASE_GAS, Err(Revert::error(super::UnknownFunction {}))),
    }
}

fn withdraw<S: TreeStore>(c: &mut Call<'_, '_, S>) -> Result<CallOutcome, Revert> {
    let args = IL2Bridge::withdrawCall::abi_decode(c.input)
        .map_err(|_| Revert::error(super::InvalidCalldata {}))?;
    let totals: Totals = c.exec.read(&StateKey::Totals)?.unwrap_or_default();
    let index = totals.withdrawals;
    let op = Op::Withdraw { from: c.caller, l1_recipient: args.l1Recipient, amount: c.value };
    let log = event(&IL2Bridge::WithdrawalInitiated {
        withdrawalIndex: index,
        from: c.caller,
        l1Recipient: args.l1Recipient,
        amount: alloy::primitives::U256::from(c.value),
    });
    let output = IL2Bridge::withdrawCall::abi_encode_returns(&index).into();
    c.effects(vec![op], output, vec![log])
}
