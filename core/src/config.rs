//! Chain configuration and genesis presets.
//!
//! A preset is a TOML file (see `core/presets/`): the token and its allocation table from a
//! whitepaper, the chain parameters and the marketplace parameters. [`GenesisConfig::from_toml`]
//! parses and validates one; every rejection names the offending field.

use serde::{Deserialize, Serialize};

/// Seconds in the month used by vesting schedules (30 days).
pub const MONTH_SECS: u64 = 30 * 24 * 3600;

/// The presets shipped with the project: `(name, TOML text)`.
pub const PRESETS: &[(&str, &str)] = &[
    ("computronium", include_str!("../presets/computronium.toml")),
    ("tspmo", include_str!("../presets/tspmo.toml")),
    ("dpin", include_str!("../presets/dpin.toml")),
];

/// A configuration rejected, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML does not parse or does not match the schema.
    #[error("invalid preset TOML: {0}")]
    Parse(String),
    /// A field has an invalid value.
    #[error("{field}: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `allocations[2].cliff_months`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// No preset of that name.
    #[error("unknown preset `{0}` (known: computronium, tspmo, dpin)")]
    UnknownPreset(String),
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), reason: reason.into() }
}

/// The token of a preset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// ERC-20 name.
    pub name: String,
    /// ERC-20 symbol.
    pub symbol: String,
    /// Decimals (18 for every preset).
    pub decimals: u8,
    /// Total supply in whole tokens.
    pub total_supply: u64,
}

impl TokenConfig {
    /// One whole token in base units.
    pub fn unit(&self) -> u128 {
        10u128.pow(u32::from(self.decimals))
    }
    /// Total supply in base units.
    pub fn total_supply_base(&self) -> u128 {
        u128::from(self.total_supply) * self.unit()
    }
}

/// Chain parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainParams {
    /// EIP-155 chain id of the L2.
    pub chain_id: u64,
    /// Target block interval in milliseconds (10 ..= 2000).
    pub block_time_ms: u64,
    /// Gas limit of a block.
    pub block_gas_limit: u64,
    /// Base fee of the first block, in base units per gas.
    pub initial_base_fee: u64,
    /// Floor of the EIP-1559 base fee.
    pub min_base_fee: u64,
    /// Most blocks in one L1 batch.
    pub batch_max_blocks: u32,
    /// Age after which an L1 deposit must be included (forced inclusion).
    pub deposit_deadline_secs: u64,
    /// Time without a finalized batch after which the escape hatch opens.
    pub escape_hatch_secs: u64,
    /// Depth of the state tree.
    pub tree_depth: u8,
}

/// Marketplace parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Protocol fee on a settled job, in basis points of the price.
    pub protocol_fee_bps: u16,
    /// Share of the protocol fee burned (the rest goes to the treasury), in basis points.
    pub fee_burn_bps: u16,
    /// Challenge window after an attestation.
    pub challenge_window_secs: u64,
    /// Minimum provider stake in whole tokens.
    pub min_provider_stake: u64,
    /// Delay between deregistering and withdrawing a provider's stake.
    pub provider_unbonding_secs: u64,
    /// Share of slashed collateral burned (the rest to the reporter or client), in basis points.
    pub slash_burn_bps: u16,
    /// Challenge period when a payment channel is closed.
    pub channel_challenge_secs: u64,
}

/// Who holds an allocation at genesis on L1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// The vesting vault, for a beneficiary.
    Vesting,
    /// A liquidity / distribution address, unlocked.
    Liquidity,
    /// The DAO treasury.
    Treasury,
    /// The staking contract's reward pool.
    StakingRewards,
}

/// How an allocation is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// Fully available at TGE.
    Unlocked,
    /// Equal monthly steps after the cliff.
    Monthly,
    /// Linear per second after the cliff.
    Linear,
}

/// One row of a preset's allocation table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Row name, as in the whitepaper.
    pub name: String,
    /// Who holds it.
    pub holder: Holder,
    /// Amount in whole tokens.
    pub amount: u64,
    /// The whitepaper's (rounded) percentage of supply.
    pub percent: f64,
    /// Release schedule.
    pub release: Release,
    /// Months before anything vests.
    #[serde(default)]
    pub cliff_months: u32,
    /// Months of vesting after the cliff.
    #[serde(default)]
    pub vesting_months: u32,
    /// Whether governance may revoke the unvested part.
    #[serde(default)]
    pub revocable: bool,
    /// Where a parameter is this project's choice rather than the whitepaper's.
    #[serde(default)]
    pub note: Option<String>,
}

impl Allocation {
    /// Whole tokens vested `secs` after TGE.
    pub fn vested_at(&self, secs: u64) -> u64 {
        let months = secs / MONTH_SECS;
        let cliff = u64::from(self.cliff_months);
        let dur = u64::from(self.vesting_months);
        match self.release {
            Release::Unlocked => self.amount,
            _ if months < cliff => 0,
            _ if dur == 0 => self.amount,
            Release::Monthly => {
                let steps = (months - cliff).min(dur);
                (u128::from(self.amount) * u128::from(steps) / u128::from(dur)) as u64
            }
            Release::Linear => {
                let elapsed = (secs - cliff * MONTH_SECS).min(dur * MONTH_SECS);
                (u128::from(self.amount) * u128::from(elapsed) / u128::from(dur * MONTH_SECS))
                    as u64
            }
        }
    }
}

/// A whole genesis preset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Preset name.
    pub name: String,
    /// The token.
    pub token: TokenConfig,
    /// Chain parameters.
    pub chain: ChainParams,
    /// Marketplace parameters.
    pub marketplace: MarketParams,
    /// The allocation table.
    pub allocations: Vec<Allocation>,
}

impl GenesisConfig {
    /// Parses and validates a preset.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: GenesisConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// One of the shipped presets by name.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ConfigError::UnknownPreset(name.to_string()))?;
        Self::from_toml(text)
    }

    /// Checks every rule; the error names the first field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        self.validate_token()?;
        self.validate_chain()?;
        self.validate_market()?;
        self.validate_allocations()
    }

    fn validate_token(&self) -> Result<(), ConfigError> {
        let t = &self.token;
        if t.name.trim().is_empty() {
            return Err(invalid("token.name", "must not be empty"));
        }
        if t.symbol.is_empty()
            || t.symbol.len() > 11
            || !t.symbol.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid("token.symbol", "must be 1-11 ASCII letters or digits"));
        }
        if t.decimals > 18 {
            return Err(invalid("token.decimals", "must be at most 18"));
        }
        if t.total_supply == 0 {
            return Err(invalid("token.total_supply", "must be positive"));
        }
        if t.total_supply_base() >= 1u128 << 96 {
            return Err(invalid("token.total_supply", "base-unit supply must stay below 2^96"));
        }
        Ok(())
    }

    fn validate_chain(&self) -> Result<(), ConfigError> {
        let c = &self.chain;
        if c.chain_id == 0 || c.chain_id > (1u64 << 53) {
            return Err(invalid("chain.chain_id", "must be in 1..=2^53"));
        }
        if !(10..=2000).contains(&c.block_time_ms) {
            return Err(invalid("chain.block_time_ms", "must be between 10 and 2000 ms"));
        }
        if c.block_gas_limit < 21_000 {
            return Err(invalid("chain.block_gas_limit", "must fit at least one transfer (21000)"));
        }
        if c.min_base_fee == 0 {
            return Err(invalid("chain.min_base_fee", "must be positive"));
        }
        if c.initial_base_fee < c.min_base_fee {
            return Err(invalid("chain.initial_base_fee", "must be at least min_base_fee"));
        }
        if c.batch_max_blocks == 0 {
            return Err(invalid("chain.batch_max_blocks", "must be positive"));
        }
        if c.deposit_deadline_secs == 0 {
            return Err(invalid("chain.deposit_deadline_secs", "must be positive"));
        }
        if c.escape_hatch_secs <= c.deposit_deadline_secs {
            return Err(invalid("chain.escape_hatch_secs", "must exceed deposit_deadline_secs"));
        }
        if !(8..=crate::tree::MAX_DEPTH).contains(&c.tree_depth) {
            return Err(invalid("chain.tree_depth", "must be between 8 and 62"));
        }
        Ok(())
    }

    fn validate_market(&self) -> Result<(), ConfigError> {
        let m = &self.marketplace;
        for (field, bps) in [
            ("marketplace.protocol_fee_bps", m.protocol_fee_bps),
            ("marketplace.fee_burn_bps", m.fee_burn_bps),
            ("marketplace.slash_burn_bps", m.slash_burn_bps),
        ] {
            if bps > 10_000 {
                return Err(invalid(field, "basis points must be at most 10000"));
            }
        }
        if m.challenge_window_secs == 0 {
            return Err(invalid("marketplace.challenge_window_secs", "must be positive"));
        }
        if m.channel_challenge_secs == 0 {
            return Err(invalid("marketplace.channel_challenge_secs", "must be positive"));
        }
        if m.min_provider_stake == 0 {
            return Err(invalid("marketplace.min_provider_stake", "must be positive"));
        }
        Ok(())
    }

    fn validate_allocations(&self) -> Result<(), ConfigError> {
        if self.allocations.is_empty() {
            return Err(invalid("allocations", "must list at least one allocation"));
        }
        let supply = self.token.total_supply;
        let mut sum: u128 = 0;
        for (i, a) in self.allocations.iter().enumerate() {
            let f = |name: &str| format!("allocations[{i}].{name}");
            if a.name.trim().is_empty() {
                return Err(invalid(f("name"), "must not be empty"));
            }
            if a.amount == 0 {
                return Err(invalid(f("amount"), "must be positive"));
            }
            let exact = a.amount as f64 * 100.0 / supply as f64;
            if !(a.percent.is_finite() && (exact - a.percent).abs() <= 0.001) {
                return Err(invalid(
                    f("percent"),
                    format!("{} does not match the amount ({exact:.4} %)", a.percent),
                ));
            }
            match a.release {
                Release::Unlocked if a.cliff_months != 0 || a.vesting_months != 0 => {
                    return Err(invalid(
                        f("release"),
                        "an unlocked allocation has no cliff or vesting",
                    ));
                }
                Release::Monthly | Release::Linear if a.vesting_months == 0 => {
                    return Err(invalid(
                        f("vesting_months"),
                        "a vesting allocation needs a duration",
                    ));
                }
                _ => {}
            }
            if a.vesting_months > 0 && a.cliff_months > a.vesting_months {
                return Err(invalid(
                    f("cliff_months"),
                    "cliff is longer than the vesting duration",
                ));
            }
            if a.holder == Holder::Vesting && a.release == Release::Unlocked {
                return Err(invalid(
                    f("holder"),
                    "vesting holder needs a monthly or linear release",
                ));
            }
            if a.revocable && a.holder != Holder::Vesting {
                return Err(invalid(f("revocable"), "only vesting allocations can be revocable"));
            }
            sum += u128::from(a.amount);
        }
        if sum != u128::from(supply) {
            return Err(invalid(
                "allocations",
                format!("amounts sum to {sum}, not token.total_supply = {supply}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_sums_to_supply() {
        for (name, _) in PRESETS {
            let cfg = GenesisConfig::preset(name).unwrap();
            let sum: u64 = cfg.allocations.iter().map(|a| a.amount).sum();
            assert_eq!(sum, cfg.token.total_supply, "{name}");
            assert_eq!(cfg.name, *name);
        }
    }

    #[test]
    fn unknown_preset() {
        assert_eq!(GenesisConfig::preset("nope"), Err(ConfigError::UnknownPreset("nope".into())));
    }
}
