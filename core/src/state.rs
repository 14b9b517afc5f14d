//! The state model: typed keys and plain values, each with one canonical encoding
//! ([`crate::codec`]) that becomes a leaf of the state tree.
//!
//! Amounts are `u128` base units (18 decimals; the largest preset supply, 10^27, is below 2^90).

use alloy_primitives::{Address, B256};

use crate::codec::{Codec, CodecError, Reader, Writer};
use crate::{codec_struct, tagged_enum};

/// A token amount in base units.
pub type Amount = u128;
/// A unix timestamp in seconds.
pub type Timestamp = u64;

/// A short ASCII label (GPU model, region), zero-padded to 16 bytes.
pub type Label = [u8; 16];

/// Builds a [`Label`] from text; `None` if it is longer than 16 bytes or not printable ASCII.
pub fn label(text: &str) -> Option<Label> {
    let bytes = text.as_bytes();
    if bytes.len() > 16 || !bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return None;
    }
    let mut out = [0u8; 16];
    out[..bytes.len()].copy_from_slice(bytes);
    Some(out)
}

/// The text of a [`Label`] (trailing zero bytes removed).
pub fn label_text(label: &Label) -> String {
    let end = label.iter().position(|b| *b == 0).unwrap_or(label.len());
    String::from_utf8_lossy(&label[..end]).into_owned()
}

tagged_enum! {
    /// What a stake secures.
    pub enum Role {
        /// A compute provider.
        Provider = 0,
        /// A prover node.
        Prover = 1,
        /// A sequencer / validator.
        Sequencer = 2,
        /// A verifier that may dispute attestations.
        Verifier = 3,
    }
}

tagged_enum! {
    /// Lifecycle of a provider registration.
    pub enum ProviderStatus {
        /// Can be matched.
        Active = 0,
        /// Deregistered, waiting to withdraw its stake.
        Unbonding = 1,
    }
}

tagged_enum! {
    /// Lifecycle of a job.
    pub enum JobStatus {
        /// Posted, budget escrowed, waiting for a provider.
        Open = 0,
        /// A provider was chosen (by matching or the client accepting a bid).
        Assigned = 1,
        /// The provider accepted with collateral and is training.
        Running = 2,
        /// The attestation is in; the challenge window is open.
        Attested = 3,
        /// Paid out to the provider.
        Settled = 4,
        /// The client got the escrow back (cancel, timeout or a proven fault).
        Refunded = 5,
    }
}

tagged_enum! {
    /// What a listing sells access to.
    pub enum ListingKind {
        /// A dataset.
        Dataset = 0,
        /// A model.
        Model = 1,
    }
}

codec_struct! {
    /// A token account.
    pub struct Account {
        /// Spendable balance.
        pub balance: Amount,
        /// Number of transactions sent.
        pub nonce: u64,
    }
}

codec_struct! {
    /// What a provider offers.
    pub struct ProviderSpec {
        /// GPU model, e.g. `H100`.
        pub gpu_model: Label,
        /// Memory per GPU in MiB.
        pub gpu_memory_mb: u32,
        /// Number of GPUs.
        pub gpu_count: u16,
        /// Asking price per GPU-hour.
        pub price_per_gpu_hour: Amount,
        /// Region, e.g. `eu-west`.
        pub region: Label,
    }
}

codec_struct! {
    /// A registered compute provider with its stake and track record.
    pub struct Provider {
        /// The offer.
        pub spec: ProviderSpec,
        /// Stake locked by registration.
        pub stake: Amount,
        /// Active or unbonding.
        pub status: ProviderStatus,
        /// When an unbonding provider may withdraw its stake.
        pub unbonding_until: Timestamp,
        /// Registration time (the age component of reputation).
        pub registered_at: Timestamp,
        /// Jobs settled.
        pub completed: u32,
        /// Jobs timed out or slashed.
        pub failed: u32,
        /// Jobs lost in a dispute.
        pub disputed: u32,
    }
}

codec_struct! {
    /// What a job needs from a provider.
    pub struct JobRequirements {
        /// Required GPU model (all-zero: any).
        pub gpu_model: Label,
        /// Minimum memory per GPU in MiB.
        pub min_gpu_memory_mb: u32,
        /// Number of GPUs.
        pub gpu_count: u16,
        /// Estimated GPU-hours of work.
        pub gpu_hours: u32,
    }
}

codec_struct! {
    /// What a client posts.
    pub struct JobSpec {
        /// Commitment to the model definition and initial weights.
        pub model: B256,
        /// Commitment to the training dataset.
        pub dataset: B256,
        /// Hardware requirements.
        pub requirements: JobRequirements,
        /// Highest price per GPU-hour the client accepts.
        pub max_price_per_gpu_hour: Amount,
        /// Deadline for the attestation.
        pub deadline: Timestamp,
        /// Matching priority (higher first).
        pub priority: u8,
    }
}

codec_struct! {
    /// A training job.
    pub struct Job {
        /// The client's request.
        pub spec: JobSpec,
        /// Who posted it and pays.
        pub client: Address,
        /// Lifecycle state.
        pub status: JobStatus,
        /// Assigned provider (zero until assigned).
        pub provider: Address,
        /// Agreed total price (≤ the escrowed budget).
        pub price: Amount,
        /// Provider collateral locked on accept.
        pub collateral: Amount,
        /// Paid out so far by streaming per checkpoint.
        pub streamed: Amount,
        /// Commitment to the provider's training attestation.
        pub attestation: B256,
        /// When the attestation was recorded.
        pub attested_at: Timestamp,
        /// When the job was posted.
        pub posted_at: Timestamp,
    }
}

codec_struct! {
    /// Funds held for a job: the client's budget.
    pub struct Escrow {
        /// Who gets a refund.
        pub payer: Address,
        /// Amount still held.
        pub amount: Amount,
    }
}

codec_struct! {
    /// A provider's bid on an open job.
    pub struct Bid {
        /// Total price asked.
        pub price: Amount,
        /// When it was placed.
        pub placed_at: Timestamp,
    }
}

codec_struct! {
    /// A role stake of one owner.
    pub struct Stake {
        /// Bonded amount.
        pub amount: Amount,
        /// Amount waiting for the unbonding delay.
        pub unbonding: Amount,
        /// When `unbonding` becomes claimable.
        pub unbond_at: Timestamp,
    }
}

codec_struct! {
    /// A unidirectional payment channel for agent micropayments.
    pub struct Channel {
        /// Payer, who signs cumulative vouchers.
        pub sender: Address,
        /// Payee, who redeems them.
        pub recipient: Address,
        /// Funds locked.
        pub deposit: Amount,
        /// Cumulative amount redeemed so far.
        pub redeemed: Amount,
        /// When a requested close becomes final (0: open).
        pub closing_at: Timestamp,
    }
}

codec_struct! {
    /// A dataset or model offered for licensed access.
    pub struct Listing {
        /// Seller.
        pub owner: Address,
        /// Dataset or model.
        pub kind: ListingKind,
        /// Content commitment.
        pub content: B256,
        /// Price of one access grant.
        pub price: Amount,
        /// Commitment to the licence terms.
        pub licence: B256,
        /// Whether it can be bought.
        pub active: bool,
    }
}

codec_struct! {
    /// A buyer's access to a listing.
    pub struct Grant {
        /// When access was bought.
        pub granted_at: Timestamp,
        /// Price paid.
        pub paid: Amount,
    }
}

codec_struct! {
    /// Chain-wide counters (one leaf).
    pub struct Totals {
        /// L1 deposit-queue entries consumed (the next expected queue index).
        pub deposits_consumed: u64,
        /// Tokens credited by deposits.
        pub deposited: Amount,
        /// Withdrawals requested (the next withdrawal index).
        pub withdrawals: u64,
        /// Tokens withdrawn to L1.
        pub withdrawn: Amount,
        /// Tokens burned on L2 (base fees, protocol-fee share, slashing share).
        pub burned: Amount,
        /// Tokens minted at genesis (dev chains only; zero outside `--dev`).
        pub genesis_minted: Amount,
        /// Next job id.
        pub next_job: u64,
        /// Next channel id.
        pub next_channel: u64,
        /// Next listing id.
        pub next_listing: u64,
        /// Tokens held by the protocol on L2 outside accounts: provider and role stakes (bonded
        /// and unbonding), job escrows, the collateral of running and attested jobs, unredeemed
        /// channel funds. The batch proof's conservation check reads its change.
        pub locked: Amount,
    }
}

/// A typed state key. Its encoding is a tag byte then fixed-width fields.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum StateKey {
    /// Chain-wide counters.
    Totals,
    /// A token account.
    Account(Address),
    /// A provider registration.
    Provider(Address),
    /// A job by id.
    Job(u64),
    /// The escrow of a job.
    Escrow(u64),
    /// A bid on a job by a provider.
    Bid(u64, Address),
    /// A role stake.
    Stake(Address, Role),
    /// A payment channel by id.
    Channel(u64),
    /// A listing by id.
    Listing(u64),
    /// An access grant: listing id and buyer.
    Grant(u64, Address),
}

impl Codec for StateKey {
    fn write(&self, w: &mut Writer) {
        match self {
            StateKey::Totals => w.u8(0),
            StateKey::Account(a) => w.u8(1).address(a),
            StateKey::Provider(a) => w.u8(2).address(a),
            StateKey::Job(id) => w.u8(3).u64(*id),
            StateKey::Escrow(id) => w.u8(4).u64(*id),
            StateKey::Bid(id, a) => w.u8(5).u64(*id).address(a),
            StateKey::Stake(a, role) => w.u8(6).address(a).u8(*role as u8),
            StateKey::Channel(id) => w.u8(7).u64(*id),
            StateKey::Listing(id) => w.u8(8).u64(*id),
            StateKey::Grant(id, a) => w.u8(9).u64(*id).address(a),
        };
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u8()? {
            0 => StateKey::Totals,
            1 => StateKey::Account(r.address()?),
            2 => StateKey::Provider(r.address()?),
            3 => StateKey::Job(r.u64()?),
            4 => StateKey::Escrow(r.u64()?),
            5 => StateKey::Bid(r.u64()?, r.address()?),
            6 => StateKey::Stake(r.address()?, Role::read(r)?),
            7 => StateKey::Channel(r.u64()?),
            8 => StateKey::Listing(r.u64()?),
            9 => StateKey::Grant(r.u64()?, r.address()?),
            tag => return Err(CodecError::BadTag { what: "StateKey", tag }),
        })
    }
}

/// A value stored under a [`StateKey`] of the matching kind.
pub trait StateValue: Codec + Default {
    /// Whether `key` holds this type.
    fn fits(key: &StateKey) -> bool;
}

macro_rules! state_value {
    ($($ty:ty => $pat:pat),+ $(,)?) => {$(
        impl StateValue for $ty {
            fn fits(key: &StateKey) -> bool {
                matches!(key, $pat)
            }
        }
    )+};
}

state_value! {
    Totals => StateKey::Totals,
    Account => StateKey::Account(_),
    Provider => StateKey::Provider(_),
    Job => StateKey::Job(_),
    Escrow => StateKey::Escrow(_),
    Bid => StateKey::Bid(..),
    Stake => StateKey::Stake(..),
    Channel => StateKey::Channel(_),
    Listing => StateKey::Listing(_),
    Grant => StateKey::Grant(..),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_reject_garbage() {
        let a = Address::repeat_byte(7);
        let keys = [
            StateKey::Totals,
            StateKey::Account(a),
            StateKey::Provider(a),
            StateKey::Job(9),
            StateKey::Escrow(9),
            StateKey::Bid(9, a),
            StateKey::Stake(a, Role::Verifier),
            StateKey::Channel(1),
            StateKey::Listing(2),
            StateKey::Grant(2, a),
        ];
        for k in keys {
            assert_eq!(StateKey::from_bytes(&k.to_bytes()), Ok(k));
        }
        assert!(StateKey::from_bytes(&[42]).is_err());
        assert!(StateKey::from_bytes(&[6, 0]).is_err());
        let mut bytes = StateKey::Stake(a, Role::Prover).to_bytes();
        *bytes.last_mut().unwrap() = 9;
        assert!(StateKey::from_bytes(&bytes).is_err());
    }

    #[test]
    fn values_are_strict() {
        let acct = Account { balance: 5, nonce: 1 };
        let bytes = acct.to_bytes();
        assert_eq!(bytes.len(), 24);
        assert_eq!(Account::from_bytes(&bytes), Ok(acct));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Account::from_bytes(&long), Err(CodecError::Trailing(1)));
        let mut listing = Listing::default().to_bytes();
        *listing.last_mut().unwrap() = 2;
        assert!(Listing::from_bytes(&listing).is_err());
    }

    #[test]
    fn labels() {
        assert_eq!(label_text(&label("H100").unwrap()), "H100");
        assert!(label("this label is far too long").is_none());
        assert!(label("bad\u{7}").is_none());
    }
}
