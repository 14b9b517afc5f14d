//! Payment channels: open with a deposit, pay off-chain with EIP-712 cumulative vouchers
//! (`ctm_core::market::Voucher`), redeem on-chain, close with a challenge period.

use alloy::primitives::{Bytes, Signature, U256};
use alloy_sol_types::SolCall;
use ctm_core::market::voucher_signer;
use ctm_core::op::Op;
use ctm_core::state::{Channel, StateKey, Totals};
use ctm_core::tree::TreeStore;

use super::{BASE_GAS, Call, CallOutcome, Revert, amount, event};
use ctm_core::abi::IChannels as C;

const WRITE_GAS: u64 = BASE_GAS + 25_000;
const REDEEM_GAS: u64 = BASE_GAS + 30_000;

pub(super) fn call<S: TreeStore>(c: &mut Call<'_, '_, S>) -> (u64, Result<CallOutcome, Revert>) {
    route!(c,
        C::openCall => (WRITE_GAS, open),
        C::topUpCall => (WRITE_GAS, top_up),
        C::redeemCall => (REDEEM_GAS, redeem),
        C::closeCall => (WRITE_GAS, close),
        C::finalizeCall => (WRITE_GAS, finalize),
        C::getChannelCall => (BASE_GAS, get),
    )
}

fn channel<S: TreeStore>(c: &Call<'_, '_, S>, id: u64) -> Result<Channel, Revert> {
    c.exec
        .read(&StateKey::Channel(id))?
        .ok_or_else(|| Revert::error(super::UnknownEntity { kind: "channel".into() }))
}

fn open<S: TreeStore>(c: &mut Call<'_, '_, S>, a: C::openCall) -> Result<CallOutcome, Revert> {
    let t: Totals = c.exec.read(&StateKey::Totals)?.unwrap_or_default();
    let id = t.next_channel;
    let log = event(&C::ChannelOpened {
        channelId: id,
        sender: c.caller,
        recipient: a.recipient,
        deposit: U256::from(c.value),
    });
    let out = C::openCall::abi_encode_returns(&id).into();
    c.effects(
        vec![Op::OpenChannel { sender: c.caller, recipient: a.recipient, deposit: c.value }],
        out,
        vec![log],
    )
}

fn top_up<S: TreeStore>(c: &mut Call<'_, '_, S>, a: C::topUpCall) -> Result<CallOutcome, Revert> {
    let log = event(&C::ChannelToppedUp { channelId: a.channelId, amount: U256::from(c.value) });
    c.effects(
        vec![Op::TopUpChannel { channel: a.channelId, sender: c.caller, amount: c.value }],
        Bytes::new(),
        vec![log],
    )
}

fn redeem<S: TreeStore>(c: &mut Call<'_, '_, S>, a: C::redeemCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let ch = channel(c, a.channelId)?;
    let cumulative = amount(a.cumulative)?;
    let sig = Signature::try_from(a.signature.as_ref()).map_err(|_| {
        Revert::error(super::InvalidValue {
            what: "signature".into(),
            reason: "must be 65 bytes".into(),
        })
    })?;
    match voucher_signer(c.env.chain_id, a.channelId, cumulative, &sig) {
        Some(signer) if signer == ch.sender => {}
        _ => {
            return Err(Revert::error(super::InvalidValue {
                what: "voucher".into(),
                reason: "not signed by the channel's sender".into(),
            }));
        }
    }
    let paid = cumulative.saturating_sub(ch.redeemed);
    let log = event(&C::VoucherRedeemed {
        channelId: a.channelId,
        cumulative: a.cumulative,
        paid: U256::from(paid),
    });
    c.effects(
        vec![Op::Redeem { channel: a.channelId, recipient: c.caller, cumulative }],
        Bytes::new(),
        vec![log],
    )
}

fn close<S: TreeStore>(c: &mut Call<'_, '_, S>, a: C::closeCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let ch = channel(c, a.channelId)?;
    let log = if c.caller == ch.recipient {
        event(&C::ChannelClosed {
            channelId: a.channelId,
            refunded: U256::from(ch.deposit - ch.redeemed),
        })
    } else {
        let at = c.env.now.saturating_add(c.exec.rules().market.channel_challenge_secs);
        event(&C::ChannelClosing { channelId: a.channelId, closingAt: at })
    };
    c.effects(
        vec![Op::CloseChannel { channel: a.channelId, by: c.caller }],
        Bytes::new(),
        vec![log],
    )
}

fn finalize<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: C::finalizeCall,
) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let ch = channel(c, a.channelId)?;
    let log = event(&C::ChannelClosed {
        channelId: a.channelId,
        refunded: U256::from(ch.deposit - ch.redeemed),
    });
    c.effects(vec![Op::FinalizeChannel { channel: a.channelId }], Bytes::new(), vec![log])
}

fn get<S: TreeStore>(c: &mut Call<'_, '_, S>, a: C::getChannelCall) -> Result<CallOutcome, Revert> {
    let ch = channel(c, a.channelId)?;
    let info = C::ChannelInfo {
        sender: ch.sender,
        recipient: ch.recipient,
        deposit: U256::from(ch.deposit),
        redeemed: U256::from(ch.redeemed),
        closingAt: ch.closing_at,
    };
    Ok(CallOutcome {
        output: C::getChannelCall::abi_encode_returns(&info).into(),
        ..Default::default()
    })
}
