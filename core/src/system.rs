//! Fixed addresses of the L2 system contracts and accounts.

use alloy_primitives::{Address, address};

/// The marketplace system contract (providers, jobs, matching, attestations).
pub const MARKETPLACE: Address = address!("0x00000000000000000000000000000000000c7a01");
/// Staking on L2 (role stakes).
pub const STAKING: Address = address!("0x00000000000000000000000000000000000c7a02");
/// Payment channels and streaming payments.
pub const CHANNELS: Address = address!("0x00000000000000000000000000000000000c7a03");
/// Data and model listings.
pub const LISTINGS: Address = address!("0x00000000000000000000000000000000000c7a04");
/// The withdrawal (L2 → L1) system contract.
pub const BRIDGE: Address = address!("0x00000000000000000000000000000000000c7a05");
/// The L2 treasury account that receives the protocol-fee share.
pub const TREASURY: Address = address!("0x00000000000000000000000000000000000c7aff");

/// Every system contract address.
pub const SYSTEM_CONTRACTS: [Address; 5] = [MARKETPLACE, STAKING, CHANNELS, LISTINGS, BRIDGE];
