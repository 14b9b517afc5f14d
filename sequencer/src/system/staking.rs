//! Role staking on L2.

use alloy::primitives::U256;
use alloy_sol_types::SolCall;
use ctm_core::codec::Codec;
use ctm_core::op::Op;
use ctm_core::state::{Role, Stake, StateKey};
use ctm_core::tree::TreeStore;

use super::{BASE_GAS, Call, CallOutcome, Revert, amount, event};
use ctm_core::abi::IL2Staking;

/// Gas of a state-changing staking call.
pub(super) const STAKE_GAS: u64 = BASE_GAS + 20_000;

fn role(r: u8) -> Result<Role, Revert> {
    Role::from_bytes(&[r]).map_err(|_| {
        Revert::error(super::InvalidValue { what: "role".into(), reason: "must be 0..=3".into() })
    })
}

fn decode<C: SolCall>(input: &[u8]) -> Result<C, Revert> {
    C::abi_decode(input).map_err(|_| Revert::error(super::InvalidCalldata {}))
}

/// Serves a call to the staking contract.
pub(super) fn call<S: TreeStore>(c: &mut Call<'_, '_, S>) -> (u64, Result<CallOutcome, Revert>) {
    let selector = c.input.get(..4).map(|s| <[u8; 4]>::try_from(s).unwrap_or_default());
    match selector {
        Some(IL2Staking::stakeCall::SELECTOR) => (STAKE_GAS, stake(c)),
        Some(IL2Staking::unstakeCall::SELECTOR) => (STAKE_GAS, unstake(c)),
        Some(IL2Staking::claimCall::SELECTOR) => (STAKE_GAS, claim(c)),
        Some(IL2Staking::stakeOfCall::SELECTOR) => (BASE_GAS, stake_of(c)),
        _ => (BASE_GAS, Err(Revert::error(super::UnknownFunction {}))),
    }
}

fn stake<S: TreeStore>(c: &mut Call<'_, '_, S>) -> Result<CallOutcome, Revert> {
    let args: IL2Staking::stakeCall = decode(c.input)?;
    let r = role(args.role)?;
    let op = Op::Stake { owner: c.caller, role: r, amount: c.value };
    let log = event(&IL2Staking::Staked {
        owner: c.caller,
        role: args.role,
        amount: U256::from(c.value),
    });
    c.effects(vec![op], Default::default(), vec![log])
}

fn unstake<S: TreeStore>(c: &mut Call<'_, '_, S>) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let args: IL2Staking::unstakeCall = decode(c.input)?;
    let r = role(args.role)?;
    let amt = amount(args.amount)?;
    let op = Op::Unstake { owner: c.caller, role: r, amount: amt };
    let unbond_at = c.env.now.saturating_add(c.exec.rules().market.provider_unbonding_secs);
    let log = event(&IL2Staking::Unstaking {
        owner: c.caller,
        role: args.role,
        amount: args.amount,
        unbondAt: unbond_at,
    });
    c.effects(vec![op], Default::default(), vec![log])
}

fn claim<S: TreeStore>(c: &mut Call<'_, '_, S>) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let args: IL2Staking::claimCall = decode(c.input)?;
    let r = role(args.role)?;
    let s: Stake = c.exec.read(&StateKey::Stake(c.caller, r))?.unwrap_or_default();
    let op = Op::ClaimUnstaked { owner: c.caller, role: r };
    let log = event(&IL2Staking::Claimed {
        owner: c.caller,
        role: args.role,
        amount: U256::from(s.unbonding),
    });
    c.effects(vec![op], Default::default(), vec![log])
}

fn stake_of<S: TreeStore>(c: &mut Call<'_, '_, S>) -> Result<CallOutcome, Revert> {
    let args: IL2Staking::stakeOfCall = decode(c.input)?;
    let r = role(args.role)?;
    let s: Stake = c.exec.read(&StateKey::Stake(args.owner, r))?.unwrap_or_default();
    let ret = IL2Staking::stakeOfReturn {
        amount: U256::from(s.amount),
        unbonding: U256::from(s.unbonding),
        unbondAt: s.unbond_at,
    };
    Ok(CallOutcome {
        output: IL2Staking::stakeOfCall::abi_encode_returns(&ret).into(),
        ..Default::default()
    })
}
