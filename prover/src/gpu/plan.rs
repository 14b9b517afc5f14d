//! The transforms as plans of kernel steps, built on the host and executed step by step: on
//! the device by `cuda.rs`, and as C++ on the host by `tests/gpu_kernels_on_host.rs`, so the
//! test checks the very sequence the GPU runs. Each plan takes a row-major matrix of `h` rows
//! (`h` a power of two) and leaves its result in the current buffer.

use ctm_core::hash::Felt;
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};

/// One kernel step on the current buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// All `log_n` stages (`dif_stage`) of a size-`2^log_n` decimation-in-frequency transform of
    /// every column, with `ω` or `ω^-1`: natural order in, bit-reversed order out.
    Dif {
        /// The buffer has `2^log_n` rows.
        log_n: usize,
        /// Use `ω^-1` (inverse transform, unnormalised).
        inverse: bool,
    },
    /// `bitrev_rows`: the `2^log_n` rows in bit-reversed order into a new zeroed buffer of
    /// `rows ≥ 2^log_n` rows, which becomes the current buffer.
    BitrevInto {
        /// Rows of the current buffer, log2.
        log_n: usize,
        /// Rows of the new buffer.
        rows: usize,
    },
    /// `scale_rows`: row `r < factors.len()` times `factors[r]`.
    Scale(Vec<Felt>),
}

/// Whether a plan's result rows are in natural or bit-reversed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Row `i` is entry `i`.
    Natural,
    /// Row `i` is entry `bitrev(i)`.
    BitReversed,
}

/// `ω^k` for `k < n/2`, `ω` the primitive `n = 2^log_n`-th root of unity (or its inverse): the
/// twiddles of a size-`n` decimation-in-frequency transform.
pub fn twiddles(log_n: usize, inverse: bool) -> Vec<Felt> {
    let mut w = Felt::two_adic_generator(log_n);
    if inverse {
        w = w.inverse();
    }
    w.powers().take((1usize << log_n) / 2).collect()
}

/// The `(half, twiddle step)` of each stage of a size-`2^log_n` DIF transform, in order.
pub fn dif_stages(log_n: usize) -> impl Iterator<Item = (u64, u64)> {
    (0..log_n).rev().map(move |s| (1u64 << s, 1u64 << (log_n - 1 - s)))
}

/// `scale · shift^r` for `r < rows`.
fn row_factors(rows: usize, shift: Felt, scale: Felt) -> Vec<Felt> {
    shift.shifted_powers(scale).take(rows).collect()
}

/// Interpolate on `H` (`h = 2^log_h` rows) into a buffer of `rows` rows, coefficient `r` times
/// `shift^r` (the inverse DFT, its `1/h`, and a coset shift in one scaling).
fn interpolate(log_h: usize, rows: usize, shift: Felt) -> [Step; 3] {
    let h = 1usize << log_h;
    [
        Step::Dif { log_n: log_h, inverse: true },
        Step::BitrevInto { log_n: log_h, rows },
        Step::Scale(row_factors(h, shift, Felt::ONE.div_2exp_u64(log_h as u64))),
    ]
}

/// Evaluations on `H` of each column's coefficients.
pub fn dft(log_h: usize) -> (Vec<Step>, Order) {
    (vec![Step::Dif { log_n: log_h, inverse: false }], Order::BitReversed)
}

/// Evaluations on `shift·H` of each column's coefficients.
pub fn coset_dft(log_h: usize, shift: Felt) -> (Vec<Step>, Order) {
    let scale = Step::Scale(row_factors(1 << log_h, shift, Felt::ONE));
    (vec![scale, Step::Dif { log_n: log_h, inverse: false }], Order::BitReversed)
}

/// Coefficients of each column's interpolant on `H`.
pub fn idft(log_h: usize) -> (Vec<Step>, Order) {
    (interpolate(log_h, 1 << log_h, Felt::ONE).to_vec(), Order::Natural)
}

/// Evaluations on `shift·K`, `|K| = h·2^added_bits`, of each column's interpolant on `H`.
pub fn coset_lde(log_h: usize, added_bits: usize, shift: Felt) -> (Vec<Step>, Order) {
    let log_n = log_h + added_bits;
    let mut steps = interpolate(log_h, 1 << log_n, shift).to_vec();
    steps.push(Step::Dif { log_n, inverse: false });
    (steps, Order::BitReversed)
}
