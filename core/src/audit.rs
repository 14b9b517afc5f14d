//! Token accounting over a whole state: where every token sits. Used by the conservation
//! property tests (core and sequencer) and by anything that reports supply.

use crate::codec::{Codec, CodecError};
use crate::state::*;
use crate::tree::Leaf;

/// Where the L2 supply sits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supply {
    /// Spendable balances (treasury and fee recipient included).
    pub balances: Amount,
    /// Provider registration stakes.
    pub provider_stakes: Amount,
    /// Role stakes, bonded and unbonding.
    pub role_stakes: Amount,
    /// Job escrows.
    pub escrows: Amount,
    /// Provider collateral of running and attested jobs.
    pub collateral: Amount,
    /// Unredeemed channel funds.
    pub channels: Amount,
    /// The chain totals.
    pub totals: Totals,
}

impl Supply {
    /// What the protocol holds outside accounts; `Totals::locked` must equal it.
    pub fn held(&self) -> Amount {
        self.provider_stakes + self.role_stakes + self.escrows + self.collateral + self.channels
    }

    /// Everything held on L2 plus what left it (burned, withdrawn).
    pub fn accounted(&self) -> Amount {
        self.balances + self.held() + self.totals.burned + self.totals.withdrawn
    }

    /// Everything that entered L2 (deposits and dev-genesis minting).
    pub fn entered(&self) -> Amount {
        self.totals.deposited + self.totals.genesis_minted
    }
}

/// Sums a state's leaves (tombstones skipped).
pub fn supply<'a>(leaves: impl IntoIterator<Item = &'a Leaf>) -> Result<Supply, CodecError> {
    let mut s = Supply::default();
    for leaf in leaves {
        if leaf.value.is_empty() {
            continue;
        }
        let v = &leaf.value;
        match StateKey::from_bytes(&leaf.key)? {
            StateKey::Totals => s.totals = Totals::from_bytes(v)?,
            StateKey::Account(_) => s.balances += Account::from_bytes(v)?.balance,
            StateKey::Provider(_) => s.provider_stakes += Provider::from_bytes(v)?.stake,
            StateKey::Escrow(_) => s.escrows += Escrow::from_bytes(v)?.amount,
            StateKey::Job(_) => {
                let j = Job::from_bytes(v)?;
                if matches!(j.status, JobStatus::Running | JobStatus::Attested) {
                    s.collateral += j.collateral;
                }
            }
            StateKey::Stake(..) => {
                let st = Stake::from_bytes(v)?;
                s.role_stakes += st.amount + st.unbonding;
            }
            StateKey::Channel(_) => {
                let c = Channel::from_bytes(v)?;
                s.channels += c.deposit - c.redeemed.min(c.deposit);
            }
            StateKey::Bid(..) | StateKey::Listing(_) | StateKey::Grant(..) => {}
        }
    }
    Ok(s)
}
