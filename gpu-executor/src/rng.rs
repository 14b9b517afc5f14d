//! The deterministic pseudo-random numbers of training: SplitMix64, written out here so that the
//! sequence is part of the protocol (it cannot change with a dependency upgrade).
//!
//! Uses: the train / held-out split ([`SPLIT_SEED`]), the initial weights, and one shuffle of the
//! training rows per epoch. Sub-streams are derived with [`derive()`] from the job seed, a domain tag
//! and an index, so that any epoch's order can be recomputed without replaying earlier epochs.

/// The seed of the train / held-out split: fixed, so a dataset has one held-out set for every job.
pub const SPLIT_SEED: u64 = 0x4354_4D5F_5350_4C54; // "CTM_SPLT"
/// Domain tag of the initial-weights stream.
pub const DOMAIN_INIT: u64 = 1;
/// Domain tag of the per-epoch shuffle streams.
pub const DOMAIN_EPOCH: u64 = 2;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with the given state.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`; modulo bias below 2^-40 for the sizes used here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The seed of sub-stream `index` of `domain` under `seed`.
pub fn derive(seed: u64, domain: u64, index: u64) -> u64 {
    let a = Rng::new(seed ^ domain.wrapping_mul(GOLDEN)).next_u64();
    Rng::new(a ^ index.wrapping_mul(GOLDEN).rotate_left(17)).next_u64()
}

/// `0..n` shuffled by the stream of `seed`.
pub fn permutation(n: usize, seed: u64) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n as u32).collect();
    Rng::new(seed).shuffle(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (reference implementation).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn permutation_is_a_permutation_and_streams_differ() {
        let mut p = permutation(100, 7);
        assert_ne!(p, (0..100).collect::<Vec<u32>>());
        p.sort_unstable();
        assert_eq!(p, (0..100).collect::<Vec<u32>>());
        assert_ne!(derive(1, DOMAIN_EPOCH, 0), derive(1, DOMAIN_EPOCH, 1));
        assert_ne!(derive(1, DOMAIN_EPOCH, 0), derive(1, DOMAIN_INIT, 0));
    }
}
