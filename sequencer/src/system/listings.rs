//! Data and model listings: list by content hash, buy an access grant, pay the lister.

use alloy::primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use ctm_core::codec::Codec;
use ctm_core::op::Op;
use ctm_core::state::{Grant, Listing, ListingKind, StateKey, Totals};
use ctm_core::tree::TreeStore;

use super::{BASE_GAS, Call, CallOutcome, Revert, amount, event};
use ctm_core::abi::IListings as L;

const WRITE_GAS: u64 = BASE_GAS + 25_000;

pub(super) fn call<S: TreeStore>(c: &mut Call<'_, '_, S>) -> (u64, Result<CallOutcome, Revert>) {
    route!(c,
        L::listCall => (WRITE_GAS, list),
        L::updateCall => (WRITE_GAS, update),
        L::buyCall => (WRITE_GAS, buy),
        L::hasAccessCall => (BASE_GAS, has_access),
        L::getListingCall => (BASE_GAS, get),
    )
}

fn listing<S: TreeStore>(c: &Call<'_, '_, S>, id: u64) -> Result<Listing, Revert> {
    c.exec
        .read(&StateKey::Listing(id))?
        .ok_or_else(|| Revert::error(super::UnknownEntity { kind: "listing".into() }))
}

fn list<S: TreeStore>(c: &mut Call<'_, '_, S>, a: L::listCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let kind = ListingKind::from_bytes(&[a.kind]).map_err(|_| {
        Revert::error(super::InvalidValue {
            what: "kind".into(),
            reason: "0 dataset or 1 model".into(),
        })
    })?;
    let price = amount(a.price)?;
    let t: Totals = c.exec.read(&StateKey::Totals)?.unwrap_or_default();
    let id = t.next_listing;
    let log = event(&L::Listed {
        listingId: id,
        owner: c.caller,
        kind: a.kind,
        content: a.content,
        price: a.price,
        licence: a.licence,
    });
    let op =
        Op::CreateListing { owner: c.caller, kind, content: a.content, price, licence: a.licence };
    c.effects(vec![op], L::listCall::abi_encode_returns(&id).into(), vec![log])
}

fn update<S: TreeStore>(c: &mut Call<'_, '_, S>, a: L::updateCall) -> Result<CallOutcome, Revert> {
    c.non_payable()?;
    let price = amount(a.price)?;
    let log =
        event(&L::ListingUpdated { listingId: a.listingId, price: a.price, active: a.active });
    let op = Op::UpdateListing { listing: a.listingId, owner: c.caller, price, active: a.active };
    c.effects(vec![op], Bytes::new(), vec![log])
}

fn buy<S: TreeStore>(c: &mut Call<'_, '_, S>, a: L::buyCall) -> Result<CallOutcome, Revert> {
    let l = listing(c, a.listingId)?;
    if c.value != l.price {
        return Err(Revert::error(super::InvalidValue {
            what: "value".into(),
            reason: format!("must equal the price {}", l.price),
        }));
    }
    let log = event(&L::AccessGranted {
        listingId: a.listingId,
        buyer: c.caller,
        price: U256::from(l.price),
    });
    // The payment moves inside the op (buyer debited, owner, treasury and burn credited); the
    // call's value is that payment, so the value itself is not transferred again.
    c.effects(
        vec![Op::BuyAccess { listing: a.listingId, buyer: c.caller }],
        Bytes::new(),
        vec![log],
    )
}

fn has_access<S: TreeStore>(
    c: &mut Call<'_, '_, S>,
    a: L::hasAccessCall,
) -> Result<CallOutcome, Revert> {
    let g: Option<Grant> = c.exec.read(&StateKey::Grant(a.listingId, a.buyer))?;
    Ok(CallOutcome {
        output: L::hasAccessCall::abi_encode_returns(&g.is_some()).into(),
        ..Default::default()
    })
}

fn get<S: TreeStore>(c: &mut Call<'_, '_, S>, a: L::getListingCall) -> Result<CallOutcome, Revert> {
    let l = listing(c, a.listingId)?;
    let info = L::ListingInfo {
        owner: l.owner,
        kind: l.kind as u8,
        content: l.content,
        price: U256::from(l.price),
        licence: l.licence,
        active: l.active,
    };
    Ok(CallOutcome {
        output: L::getListingCall::abi_encode_returns(&info).into(),
        ..Default::default()
    })
}
