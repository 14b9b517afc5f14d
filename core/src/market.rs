//! Marketplace policy that is pure and shared: the provider reputation score, the matching
//! engine's ranking, and the EIP-712 voucher of payment channels.
//!
//! Matching is deterministic: among active providers that meet the job's requirements and
//! whose total price (`price_per_gpu_hour × gpu_hours × gpu_count`) fits both the client's
//! maximum price and the escrowed budget, the best is the one with the highest reputation,
//! then the lowest price, then the lowest address. The assignment itself is an
//! [`crate::Op::Assign`], whose checks (requirements, price, budget) the rules enforce; that it
//! was the *best* candidate is the sequencer's policy, not a proven property.

use alloy_primitives::{Address, B256, Signature, U256};
use alloy_sol_types::{Eip712Domain, SolStruct, eip712_domain, sol};

use crate::config::MarketParams;
use crate::state::{Amount, Job, Provider, ProviderStatus, Timestamp};

/// Reputation scores are in basis points: 0 ..= 10 000.
pub const MAX_SCORE: u32 = 10_000;

/// The reputation of a provider at `now`:
/// `8000 × (completed + 1) / (completed + failed + 2)` (a Laplace-smoothed success rate)
/// `+ 1000 × min(stake / (10 × minimum stake), 1)` (skin in the game)
/// `+ 1000 × min(age / 30 days, 1)` (track-record length)
/// `− 1500 × disputed` (each lost dispute), clamped to `0 ..= 10 000`.
pub fn reputation(p: &Provider, now: Timestamp, market: &MarketParams, unit: Amount) -> u32 {
    let done = u128::from(p.completed);
    let failed = u128::from(p.failed);
    let success = 8_000 * (done + 1) / (done + failed + 2);
    let min_stake = u128::from(market.min_provider_stake).saturating_mul(unit).max(1);
    let stake = 1_000 * p.stake.min(10 * min_stake) / (10 * min_stake);
    let age_secs = u128::from(now.saturating_sub(p.registered_at));
    let age = 1_000 * age_secs.min(30 * 86_400) / (30 * 86_400);
    let penalty = 1_500 * u128::from(p.disputed);
    let score = (success + stake + age).saturating_sub(penalty).min(u128::from(MAX_SCORE));
    score as u32
}

/// Whether an active provider's hardware meets the job's requirements.
pub fn meets_requirements(job: &Job, p: &Provider) -> bool {
    let req = &job.spec.requirements;
    let model_ok = req.gpu_model == [0u8; 16] || req.gpu_model == p.spec.gpu_model;
    p.status == ProviderStatus::Active
        && model_ok
        && p.spec.gpu_memory_mb >= req.min_gpu_memory_mb
        && p.spec.gpu_count >= req.gpu_count
}

/// The largest total price a job's client accepts.
pub fn max_total_price(job: &Job) -> Amount {
    let req = &job.spec.requirements;
    job.spec
        .max_price_per_gpu_hour
        .saturating_mul(u128::from(req.gpu_hours.max(1)))
        .saturating_mul(u128::from(req.gpu_count))
}

/// The total price a provider asks for a job at its listed rate, if it meets the requirements
/// and the client's maximum rate.
pub fn quote(job: &Job, p: &Provider) -> Option<Amount> {
    let req = &job.spec.requirements;
    let fits =
        meets_requirements(job, p) && p.spec.price_per_gpu_hour <= job.spec.max_price_per_gpu_hour;
    fits.then(|| {
        p.spec
            .price_per_gpu_hour
            .saturating_mul(u128::from(req.gpu_hours.max(1)))
            .saturating_mul(u128::from(req.gpu_count))
    })
}

/// The matching engine: the best provider for `job` with `budget` escrowed, and its price.
pub fn best_match<'a>(
    job: &Job,
    budget: Amount,
    candidates: impl IntoIterator<Item = (&'a Address, &'a Provider)>,
    now: Timestamp,
    market: &MarketParams,
    unit: Amount,
) -> Option<(Address, Amount)> {
    candidates
        .into_iter()
        .filter(|(addr, _)| **addr != job.client)
        .filter_map(|(addr, p)| {
            let price = quote(job, p).filter(|price| *price > 0 && *price <= budget)?;
            Some((reputation(p, now, market, unit), price, *addr))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)))
        .map(|(_, price, addr)| (addr, price))
}

sol! {
    /// A payment-channel voucher: the sender's promise of a cumulative amount.
    #[derive(Debug, PartialEq, Eq)]
    struct Voucher {
        uint64 channelId;
        uint256 cumulative;
    }
}

/// The EIP-712 domain of vouchers on the L2 with `chain_id`.
pub fn voucher_domain(chain_id: u64) -> Eip712Domain {
    eip712_domain! {
        name: "Computronium Channels",
        version: "1",
        chain_id: chain_id,
        verifying_contract: crate::system::CHANNELS,
    }
}

/// The hash a channel sender signs for a voucher.
pub fn voucher_signing_hash(chain_id: u64, channel: u64, cumulative: Amount) -> B256 {
    Voucher { channelId: channel, cumulative: U256::from(cumulative) }
        .eip712_signing_hash(&voucher_domain(chain_id))
}

/// The signer of a voucher signature (low-s only), or `None` if it does not recover.
pub fn voucher_signer(
    chain_id: u64,
    channel: u64,
    cumulative: Amount,
    sig: &Signature,
) -> Option<Address> {
    if sig.normalize_s().is_some() {
        return None;
    }
    sig.recover_address_from_prehash(&voucher_signing_hash(chain_id, channel, cumulative)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GenesisConfig;
    use crate::state::{JobRequirements, JobSpec, ProviderSpec, label};

    fn market() -> MarketParams {
        GenesisConfig::preset("computronium").unwrap().marketplace
    }

    fn provider(price: u128, completed: u32, failed: u32) -> Provider {
        Provider {
            spec: ProviderSpec {
                gpu_model: label("H100").unwrap(),
                gpu_memory_mb: 80_000,
                gpu_count: 8,
                price_per_gpu_hour: price,
                region: [0; 16],
            },
            stake: 1000,
            completed,
            failed,
            ..Default::default()
        }
    }

    fn job() -> Job {
        Job {
            spec: JobSpec {
                requirements: JobRequirements {
                    gpu_model: [0; 16],
                    min_gpu_memory_mb: 1,
                    gpu_count: 2,
                    gpu_hours: 10,
                },
                max_price_per_gpu_hour: 5,
                ..Default::default()
            },
            client: Address::repeat_byte(0xcc),
            ..Default::default()
        }
    }

    #[test]
    fn reputation_rewards_success_and_punishes_disputes() {
        let m = market();
        let fresh = reputation(&provider(1, 0, 0), 0, &m, 1);
        let good = reputation(&provider(1, 20, 0), 0, &m, 1);
        let bad = reputation(&provider(1, 0, 20), 0, &m, 1);
        assert!(good > fresh && fresh > bad);
        let mut disputed = provider(1, 20, 0);
        disputed.disputed = 3;
        assert!(reputation(&disputed, 0, &m, 1) < good);
        let old = reputation(&provider(1, 0, 0), 40 * 86_400, &m, 1);
        assert!(old > fresh);
        assert!(reputation(&provider(1, u32::MAX, 0), u64::MAX, &m, 1) <= MAX_SCORE);
    }

    #[test]
    fn matching_prefers_reputation_then_price_then_address() {
        let m = market();
        let (a, b, c) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
        let (pa, pb, pc) = (provider(4, 10, 0), provider(3, 10, 0), provider(1, 0, 5));
        let cands = [(&a, &pa), (&b, &pb), (&c, &pc)];
        assert_eq!(best_match(&job(), 1_000, cands, 0, &m, 1), Some((b, 60)));
        // Budget too small for b: a is dearer, so the next affordable one is c.
        assert_eq!(best_match(&job(), 59, cands, 0, &m, 1), Some((c, 20)));
        // Too expensive for the client's maximum price: nobody.
        let mut j = job();
        j.spec.max_price_per_gpu_hour = 0;
        assert_eq!(best_match(&j, 1_000, cands, 0, &m, 1), None);
        // Equal offers: the lowest address wins (determinism).
        let same = [(&b, &pb), (&a, &pb)];
        assert_eq!(best_match(&job(), 1_000, same, 0, &m, 1).map(|x| x.0), Some(a));
    }

    #[test]
    fn vouchers_recover_their_signer() {
        let h1 = voucher_signing_hash(1, 2, 3);
        assert_ne!(h1, voucher_signing_hash(2, 2, 3));
        assert_ne!(h1, voucher_signing_hash(1, 3, 3));
        assert_ne!(h1, voucher_signing_hash(1, 2, 4));
    }
}
