//! Q16.16 fixed-point arithmetic: the one number format of training.
//!
//! Every value (input feature, weight, activation, logit, probability, gradient) is a Q16.16
//! number stored in an `i32` (`65536` = 1.0). Products are exact in `i64` (Q32.32) and sums of
//! products are exact `i64` sums, so a sum does not depend on the order in which threads or GPU
//! blocks add it up. The limits below keep every sum far from `i64` overflow:
//!
//! - values are saturated to ±[`VALUE_MAX`] (2^24 = 256.0), inputs to ±[`INPUT_MAX`] (8.0);
//! - a layer has at most [`MAX_DIM`] inputs and outputs and a batch at most [`MAX_DIM`] rows, so
//!   a dot product is at most 4097 · 2^24 · 2^24 < 2^61;
//! - a weight gradient is saturated to ±[`GRAD_MAX`] (2^40) before it is multiplied by the
//!   learning rate (≤ 16.0 = 2^20), so the product stays below 2^61.
//!
//! Rounding rule: Q32.32 → Q16.16 is [`round_shift`] (add half, arithmetic shift right: round to
//! nearest, ties toward +∞); a division is [`div_round`] (round to nearest, ties away from zero).
//! The CUDA kernels (`backend::kernels`) implement exactly the same functions.
//!
//! Non-linear functions are integer approximations: `2^-t` by a 257-entry table with linear
//! interpolation ([`exp2_neg`]), `log2` by repeated squaring ([`log2_q`]). Softmax subtracts the
//! row maximum, so every exponent is `≤ 0` and the maximum entry is exactly 1.0.

/// Fractional bits.
pub const FRAC: u32 = 16;
/// 1.0 in Q16.16.
pub const ONE: i64 = 1 << FRAC;
/// Saturation bound of weights, activations, logits and back-propagated gradients (256.0).
pub const VALUE_MAX: i64 = 1 << 24;
/// Saturation bound of normalized input features (8.0).
pub const INPUT_MAX: i64 = 8 << FRAC;
/// Saturation bound of a weight gradient before the learning rate is applied.
pub const GRAD_MAX: i64 = 1 << 40;
/// The largest layer width, class count and batch size.
pub const MAX_DIM: usize = 4096;
/// The largest learning rate (16.0) in Q16.16.
pub const LR_MAX: i64 = 16 << FRAC;
/// `log2(e)` in Q16.16 (round(1.442695… · 65536)).
pub const LOG2E: i64 = 94_548;
/// `ln(2)` in Q16.16 (round(0.693147… · 65536)).
pub const LN2: i64 = 45_426;

/// `round(2^(-1/256) · 2^62)`: the step of the [`EXP2_TABLE`] recurrence.
const EXP2_STEP_Q62: u128 = 4_599_216_278_082_138_665;

/// `EXP2_TABLE[i]` ≈ `2^(-i/256)` in Q16.16, for `i` in `0..=256` (65536 down to 32768).
///
/// Built at compile time by an integer recurrence in Q2.62 (`v ← round(v · 2^(-1/256))`),
/// rounded to Q16.16 once: no floating point is involved, so every build has the same table.
pub const EXP2_TABLE: [i64; 257] = exp2_table();

const fn exp2_table() -> [i64; 257] {
    let mut out = [0i64; 257];
    let mut v: u128 = 1 << 62;
    let mut i = 0;
    while i < 257 {
        out[i] = ((v + (1 << 45)) >> 46) as i64;
        v = (v * EXP2_STEP_Q62 + (1 << 61)) >> 62;
        i += 1;
    }
    out
}

/// `x / 2^s` rounded to nearest, ties toward +∞ (`s ≥ 1`).
#[inline(always)]
pub const fn round_shift(x: i64, s: u32) -> i64 {
    (x + (1 << (s - 1))) >> s
}

/// Clamps `x` to `[-m, m]`.
#[inline(always)]
pub const fn sat(x: i64, m: i64) -> i64 {
    if x > m {
        m
    } else if x < -m {
        -m
    } else {
        x
    }
}

/// `n / d` rounded to nearest, ties away from zero (`d > 0`).
#[inline(always)]
pub const fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 { (n + d / 2) / d } else { -((-n + d / 2) / d) }
}

/// `2^(-t)` in Q16.16 for `t ≥ 0` in Q16.16: table lookup on the top 8 fraction bits, linear
/// interpolation on the low 8, then a rounding shift by the integer part.
#[inline(always)]
pub const fn exp2_neg(t: i64) -> i64 {
    let k = t >> FRAC;
    if k >= 31 {
        return 0;
    }
    let f = t & 0xFFFF;
    let idx = (f >> 8) as usize;
    let fr = f & 0xFF;
    let a = EXP2_TABLE[idx];
    let b = EXP2_TABLE[idx + 1];
    let v = a - (((a - b) * fr + 128) >> 8);
    (v + ((1i64 << k) >> 1)) >> k
}

/// `log2(x)` in Q16.16 for `x ≥ 1.0` (Q16.16, `x < 2^47`), fraction bits truncated: the integer
/// part from the leading bit, 16 fraction bits by repeated squaring in Q1.30.
#[inline]
pub const fn log2_q(x: u64) -> i64 {
    let msb = 63 - x.leading_zeros() as i64;
    let int = msb - FRAC as i64;
    let mut m: u64 = if msb >= 30 { x >> (msb - 30) } else { x << (30 - msb) };
    let mut frac = 0i64;
    let mut i = 0;
    while i < 16 {
        m = (m * m) >> 30;
        if m >= (2 << 30) {
            m >>= 1;
            frac |= 1 << (15 - i);
        }
        i += 1;
    }
    (int << FRAC) | frac
}

/// Softmax of one row of logits and the cross-entropy gradient `p - onehot(label)`, written
/// into `grad` (Q16.16). `p_j = round(e_j · 2^16 / Σe)` with `e_j = 2^(-(max-z_j)·log2 e)`.
#[inline]
pub fn softmax_xent_grad(z: &[i32], label: usize, grad: &mut [i32]) {
    let m = z.iter().copied().max().unwrap_or(0) as i64;
    let mut sum = 0i64;
    for (g, &zj) in grad.iter_mut().zip(z) {
        let e = exp2_neg(round_shift((m - zj as i64) * LOG2E, FRAC));
        *g = e as i32;
        sum += e;
    }
    for (j, g) in grad.iter_mut().enumerate() {
        let p = ((*g as i64) * ONE + sum / 2) / sum;
        *g = (p - if j == label { ONE } else { 0 }) as i32;
    }
}

/// Cross-entropy `-ln p_label` of one row of logits in Q16.16, computed as
/// `(max - z_label) + ln2 · log2(Σ e_j)` with the same `e_j` as [`softmax_xent_grad`].
#[inline]
pub fn xent_loss(z: &[i32], label: usize) -> i64 {
    let m = z.iter().copied().max().unwrap_or(0) as i64;
    let sum: i64 = z.iter().map(|&zj| exp2_neg(round_shift((m - zj as i64) * LOG2E, FRAC))).sum();
    let zl = z.get(label).copied().unwrap_or(0) as i64;
    (m - zl) + round_shift(log2_q(sum as u64) * LN2, FRAC)
}

/// Converts a decimal number to Q16.16, rounding to nearest; `None` if not finite or out of
/// the `i32` range. (IEEE-754 parsing and scaling by 2^16 are exact and portable.)
pub fn from_f64(v: f64) -> Option<i32> {
    let q = (v * ONE as f64).round();
    (q.is_finite() && q >= i32::MIN as f64 && q <= i32::MAX as f64).then_some(q as i32)
}

/// Converts Q16.16 to `f64` (display only, never fed back into training).
pub fn to_f64(q: i64) -> f64 {
    q as f64 / ONE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_floating_point() {
        for (i, &v) in EXP2_TABLE.iter().enumerate() {
            let want = (2f64.powf(-(i as f64) / 256.0) * 65536.0).round() as i64;
            assert!((v - want).abs() <= 1, "entry {i}: {v} vs {want}");
        }
        assert_eq!(EXP2_TABLE[0], ONE);
        assert_eq!(EXP2_TABLE[256], ONE / 2);
    }

    #[test]
    fn exp2_and_log2_are_accurate() {
        for t in (0..(20 << FRAC)).step_by(977) {
            let want = 2f64.powf(-(t as f64) / 65536.0) * 65536.0;
            assert!((exp2_neg(t) as f64 - want).abs() <= 2.0, "2^-{t}");
        }
        for x in (ONE as u64..(1u64 << 30)).step_by(100_003) {
            let want = (x as f64 / 65536.0).log2() * 65536.0;
            assert!((log2_q(x) as f64 - want).abs() <= 2.0, "log2 {x}");
        }
        assert_eq!(log2_q(ONE as u64), 0);
        assert_eq!(log2_q(2 * ONE as u64), ONE);
    }

    #[test]
    fn rounding_rules() {
        assert_eq!(round_shift(3 << 15, 16), 2); // 1.5 → 2
        assert_eq!(round_shift(-(3 << 15), 16), -1); // -1.5 → -1 (ties toward +∞)
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(sat(10, 3), 3);
        assert_eq!(sat(-10, 3), -3);
    }

    #[test]
    fn softmax_gradient_sums_to_about_zero_and_loss_is_sane() {
        let z = [ONE as i32, 0, -(ONE as i32)];
        let mut g = [0i32; 3];
        softmax_xent_grad(&z, 0, &mut g);
        let s: i64 = g.iter().map(|&v| v as i64).sum();
        assert!(s.abs() <= 2);
        let p0 = (g[0] as i64 + ONE) as f64 / 65536.0;
        let want = 1f64.exp() / (1f64.exp() + 1.0 + (-1f64).exp());
        assert!((p0 - want).abs() < 1e-3);
        let loss = to_f64(xent_loss(&z, 0));
        assert!((loss + want.ln()).abs() < 1e-3, "{loss}");
    }
}
