//! The Poseidon2 sub-AIR: one width-16 KoalaBear permutation (x^3 S-box, 4 + 4 full rounds,
//! 20 partial rounds) laid out in [`PERM_COLS`] consecutive columns of one row.
//!
//! It mirrors `ctm_core::vectors::reference_permute` step by step. Columns: the 16 inputs, the
//! state after each of the 4 initial full rounds (16 each), the S-box output of each of the 20
//! partial rounds (1 each), and the state after each of the 4 final full rounds (16 each); the
//! last 16 are the output. Every constraint has degree 3 (one cube of a linear form of committed
//! columns), so the whole AIR keeps a quotient of degree 2.

use ctm_core::hash::{Felt, WIDTH};
use ctm_core::vectors::internal_diag;
use p3_air::AirBuilder;
use p3_field::{Algebra, PrimeCharacteristicRing};
use p3_koala_bear::{
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
    KOALABEAR_POSEIDON2_RC_16_INTERNAL,
};

/// Full rounds at the start (and at the end).
pub const HALF_FULL_ROUNDS: usize = 4;
/// Partial rounds.
pub const PARTIAL_ROUNDS: usize = 20;
/// Columns of one permutation.
pub const PERM_COLS: usize = WIDTH + 2 * HALF_FULL_ROUNDS * WIDTH + PARTIAL_ROUNDS;
/// Offset of the 16 output columns inside a permutation block.
pub const OUT: usize = PERM_COLS - WIDTH;

const BEG: usize = WIDTH;
const PART: usize = BEG + HALF_FULL_ROUNDS * WIDTH;
const END: usize = PART + PARTIAL_ROUNDS;

fn m4<R: PrimeCharacteristicRing + Clone>(x: &mut [R]) {
    let [a, b, c, d] = [x[0].clone(), x[1].clone(), x[2].clone(), x[3].clone()];
    x[0] = a.double() + b.double() + b.clone() + c.clone() + d.clone();
    x[1] = a.clone() + b.double() + c.double() + c.clone() + d.clone();
    x[2] = a.clone() + b.clone() + c.double() + d.double() + d.clone();
    x[3] = a.double() + a + b + c + d.double();
}

/// The external linear layer (circulant of M4 blocks), generic over the ring.
fn external_layer<R: PrimeCharacteristicRing + Clone>(s: &mut [R; WIDTH]) {
    s.chunks_exact_mut(4).for_each(m4);
    let sums: [R; 4] =
        core::array::from_fn(|i| (0..4).map(|c| s[4 * c + i].clone()).fold(R::ZERO, |a, b| a + b));
    for (i, x) in s.iter_mut().enumerate() {
        *x = x.clone() + sums[i % 4].clone();
    }
}

fn internal_layer<R: Algebra<Felt> + Clone>(s: &mut [R; WIDTH], diag: &[Felt; WIDTH]) {
    let sum = s.iter().cloned().fold(R::ZERO, |a, b| a + b);
    for (x, d) in s.iter_mut().zip(diag) {
        *x = sum.clone() + x.clone() * *d;
    }
}

fn cube<R: PrimeCharacteristicRing + Clone>(x: R) -> R {
    x.clone() * x.clone() * x
}

/// Writes the permutation of `input` into `row` (exactly [`PERM_COLS`] cells) and returns the
/// output state.
pub fn fill(row: &mut [Felt], input: [Felt; WIDTH]) -> [Felt; WIDTH] {
    debug_assert_eq!(row.len(), PERM_COLS);
    let diag = internal_diag();
    row[..WIDTH].copy_from_slice(&input);
    let mut s = input;
    external_layer(&mut s);
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL.iter().enumerate() {
        for (x, c) in s.iter_mut().zip(rc) {
            *x = cube(*x + *c);
        }
        external_layer(&mut s);
        row[BEG + r * WIDTH..BEG + (r + 1) * WIDTH].copy_from_slice(&s);
    }
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_INTERNAL.iter().enumerate() {
        s[0] = cube(s[0] + *rc);
        row[PART + r] = s[0];
        internal_layer(&mut s, &diag);
    }
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL.iter().enumerate() {
        for (x, c) in s.iter_mut().zip(rc) {
            *x = cube(*x + *c);
        }
        external_layer(&mut s);
        row[END + r * WIDTH..END + (r + 1) * WIDTH].copy_from_slice(&s);
    }
    s
}

/// Constrains the permutation block `cols` (exactly [`PERM_COLS`] variables of the current row).
pub fn eval<AB: AirBuilder<F = Felt>>(builder: &mut AB, cols: &[AB::Var]) {
    let diag = internal_diag();
    let var = |i: usize| -> AB::Expr { cols[i].into() };
    let mut s: [AB::Expr; WIDTH] = core::array::from_fn(var);
    external_layer(&mut s);
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL.iter().enumerate() {
        for (i, x) in s.iter_mut().enumerate() {
            let pre = core::mem::replace(x, AB::Expr::ZERO) + rc[i];
            *x = cube(pre);
        }
        external_layer(&mut s);
        for (i, x) in s.iter_mut().enumerate() {
            let committed = var(BEG + r * WIDTH + i);
            builder.assert_eq(core::mem::replace(x, committed.clone()), committed);
        }
    }
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_INTERNAL.iter().enumerate() {
        let committed = var(PART + r);
        let pre = core::mem::replace(&mut s[0], committed.clone()) + *rc;
        builder.assert_eq(cube(pre), committed);
        internal_layer(&mut s, &diag);
    }
    for (r, rc) in KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL.iter().enumerate() {
        for (i, x) in s.iter_mut().enumerate() {
            let pre = core::mem::replace(x, AB::Expr::ZERO) + rc[i];
            *x = cube(pre);
        }
        external_layer(&mut s);
        for (i, x) in s.iter_mut().enumerate() {
            let committed = var(END + r * WIDTH + i);
            builder.assert_eq(core::mem::replace(x, committed.clone()), committed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_air::{Air, BaseAir};
    use p3_matrix::dense::RowMajorMatrix;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    /// One permutation per row, nothing else.
    struct PermAir;
    impl<F> BaseAir<F> for PermAir {
        fn width(&self) -> usize {
            PERM_COLS
        }
    }
    impl<AB: AirBuilder<F = Felt>> Air<AB> for PermAir {
        fn eval(&self, b: &mut AB) {
            let main = b.main();
            let row = p3_air::WindowAccess::current_slice(&main).to_vec();
            eval(b, &row);
        }
    }

    fn random_rows(n: usize, seed: u64) -> (RowMajorMatrix<Felt>, Vec<[Felt; WIDTH]>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut values = Felt::zero_vec(n * PERM_COLS);
        let mut outs = Vec::new();
        for row in values.chunks_exact_mut(PERM_COLS) {
            let input: [Felt; WIDTH] = core::array::from_fn(|_| {
                Felt::from_u32(rng.random_range(0..ctm_core::hash::MODULUS))
            });
            outs.push((input, fill(row, input)));
        }
        let outs = outs
            .into_iter()
            .map(|(input, out)| {
                let mut expect = input;
                ctm_core::hash::permute(&mut expect);
                assert_eq!(out, expect, "AIR row output == ctm_core::hash::permute");
                out
            })
            .collect();
        (RowMajorMatrix::new(values, PERM_COLS), outs)
    }

    #[test]
    fn air_rows_equal_ctm_core_permute_and_satisfy_the_constraints() {
        let (trace, outs) = random_rows(64, 7);
        for (row, out) in outs.iter().enumerate() {
            assert_eq!(&trace.values[row * PERM_COLS + OUT..(row + 1) * PERM_COLS], out);
        }
        p3_air::check_constraints(&PermAir, &trace, &[]);
    }

    #[test]
    fn a_wrong_round_value_violates_the_constraints() {
        for col in [0, BEG + 5, PART + 3, END + 17, OUT + 2] {
            let (mut trace, _) = random_rows(8, 9);
            trace.values[3 * PERM_COLS + col] += Felt::ONE;
            let r =
                std::panic::catch_unwind(move || p3_air::check_constraints(&PermAir, &trace, &[]));
            assert!(r.is_err(), "column {col}");
        }
    }
}
