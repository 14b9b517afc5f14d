//! Checks the prover's CUDA kernel *source* without a GPU: compiled as C++ on the host
//! (`ctm_testkit::cuda_host`) and driven through the same `gpu::plan` steps as `gpu::cuda`, every
//! transform (DFT, inverse DFT, coset DFT, coset LDE) must equal Plonky3's `Radix2DitParallel`
//! word for word, and the keccak kernel must equal `Keccak256Hash` on messages around the
//! sponge's rate. Skips when no C++
//! compiler is installed (`gpu_*` tests check the real device).

use std::fmt::Write as _;

mod common;

use common::random_matrix;
use ctm_core::hash::Felt;
use ctm_prover::gpu::kernels::source;
use ctm_prover::gpu::monty_words;
use ctm_prover::gpu::plan::{self, Order, Step, dif_stages, twiddles};
use ctm_testkit::cuda_host;
use p3_dft::{Radix2DitParallel, TwoAdicSubgroupDft};
use p3_field::{Field, PrimeCharacteristicRing};
use p3_keccak::Keccak256Hash;
use p3_matrix::Matrix;
use p3_matrix::bitrev::BitReversibleMatrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_symmetric::CryptographicHasher;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Input: mode 0 = a plan (h w steps, the matrix, then per step: 0 log_n inverse twiddles
/// stages… | 1 log_n rows | 2 count factors…), mode 1 = keccak (len count, bytes). Output: the
/// final buffer's words / the digest bytes, one per line.
const DRIVER: &str = r#"
static u64 rd() { u64 v; if (scanf("%llu", &v) != 1) throw 1; return v; }
static std::vector<u32> rd_vec(u64 n) { std::vector<u32> v(n); for (auto& x : v) x = (u32)rd(); return v; }
int main() {
    if (rd() == 0) {
        u64 h = rd(), w = rd(), steps = rd();
        std::vector<u32> cur = rd_vec(h * w);
        for (u64 s = 0; s < steps; s++) {
            u64 kind = rd();
            if (kind == 0) {
                u64 log_n = rd(), n = 1ULL << log_n; rd();
                std::vector<u32> tw = rd_vec(n / 2);
                for (u64 k = 0; k < log_n; k++) {
                    u64 half = rd(), step = rd(), total = n / 2 * w;
                    LAUNCH(total, dif_stage(cur.data(), tw.data(), w, half, step, total));
                }
            } else if (kind == 1) {
                u64 log_n = rd(), rows = rd(), total = (1ULL << log_n) * w;
                std::vector<u32> next(rows * w, 0);
                LAUNCH(total, bitrev_rows(cur.data(), next.data(), w, (u32)log_n, total));
                cur = next;
            } else {
                u64 count = rd();
                std::vector<u32> f = rd_vec(count);
                LAUNCH(count * w, scale_rows(cur.data(), f.data(), w, count * w));
            }
        }
        for (u32 x : cur) printf("%u\n", x);
    } else {
        u64 len = rd(), count = rd();
        std::vector<unsigned char> m(len * count), out(32 * count);
        for (auto& b : m) b = (unsigned char)rd();
        LAUNCH(count, keccak256_many(m.data(), len, count, out.data()));
        for (auto b : out) printf("%u\n", b);
    }
    return 0;
}
"#;

fn push_words(input: &mut String, v: &[Felt]) {
    monty_words(v).iter().for_each(|x| write!(input, "{x} ").unwrap());
}

fn parse(out: &str) -> Vec<u32> {
    out.lines().map(|l| l.parse().unwrap()).collect()
}

/// Runs `steps` on `mat` with the host-compiled kernels; the final buffer's words.
fn run_plan(tag: &str, mat: &RowMajorMatrix<Felt>, steps: &[Step]) -> Option<Vec<u32>> {
    let mut input = format!("0 {} {} {} ", mat.height(), mat.width(), steps.len());
    push_words(&mut input, &mat.values);
    for step in steps {
        match step {
            Step::Dif { log_n, inverse } => {
                write!(input, "0 {log_n} {} ", u8::from(*inverse)).unwrap();
                push_words(&mut input, &twiddles(*log_n, *inverse));
                dif_stages(*log_n).for_each(|(half, s)| write!(input, "{half} {s} ").unwrap());
            }
            Step::BitrevInto { log_n, rows } => write!(input, "1 {log_n} {rows} ").unwrap(),
            Step::Scale(f) => {
                write!(input, "2 {} ", f.len()).unwrap();
                push_words(&mut input, f);
            }
        }
    }
    cuda_host::run(tag, &source(), DRIVER, &input).map(|out| parse(&out))
}

/// The storage of Plonky3's result in the plan's order.
fn storage(m: impl BitReversibleMatrix<Felt>, order: Order) -> Vec<Felt> {
    match order {
        Order::BitReversed => m.bit_reverse_rows().to_row_major_matrix().values,
        Order::Natural => m.to_row_major_matrix().values,
    }
}

fn check(tag: &str, mat: &RowMajorMatrix<Felt>, (steps, _): (Vec<Step>, Order), want: Vec<Felt>) {
    let Some(got) = run_plan(tag, mat, &steps) else { return };
    assert!(got == monty_words(&want), "{tag}: kernels differ from Plonky3");
}

#[test]
fn plans_match_plonky3() {
    let mut rng = SmallRng::seed_from_u64(7);
    let cpu = Radix2DitParallel::<Felt>::default();
    let g = Felt::GENERATOR;
    for (log_h, width, bits, shift) in [
        (1, 3, 1, g),
        (4, 5, 0, Felt::ONE),
        (6, 7, 1, g),
        (8, 4, 3, g / Felt::from_u32(5)),
        (10, 2, 2, g.inverse()),
    ] {
        let m = random_matrix(&mut rng, log_h, width);
        let tag = format!("{log_h}-{width}");
        let lde = plan::coset_lde(log_h, bits, shift);
        let want = storage(cpu.coset_lde_batch(m.clone(), bits, shift), lde.1);
        check(&format!("lde-{tag}-{bits}"), &m, lde, want);
        let p = plan::dft(log_h);
        check(&format!("dft-{tag}"), &m, p.clone(), storage(cpu.dft_batch(m.clone()), p.1));
        let p = plan::coset_dft(log_h, shift);
        check(
            &format!("cdft-{tag}"),
            &m,
            p.clone(),
            storage(cpu.coset_dft_batch(m.clone(), shift), p.1),
        );
        let p = plan::idft(log_h);
        check(&format!("idft-{tag}"), &m, p.clone(), storage(cpu.idft_batch(m.clone()), p.1));
    }
}

#[test]
fn keccak_kernel_matches_plonky3() {
    let mut rng = SmallRng::seed_from_u64(8);
    for len in [0usize, 1, 31, 135, 136, 137, 271, 272, 1000, 2148] {
        let count = 5;
        let msgs: Vec<u8> = (0..len * count).map(|_| rng.random()).collect();
        let mut input = format!("1 {len} {count} ");
        msgs.iter().for_each(|b| write!(input, "{b} ").unwrap());
        let Some(out) = cuda_host::run(&format!("keccak-{len}"), &source(), DRIVER, &input) else {
            return;
        };
        let got: Vec<u8> = parse(&out).into_iter().map(|b| b as u8).collect();
        let want: Vec<u8> = if len == 0 {
            (0..count).flat_map(|_| Keccak256Hash.hash_iter([])).collect()
        } else {
            msgs.chunks(len).flat_map(|m| Keccak256Hash.hash_slice(m)).collect()
        };
        assert!(got == want, "keccak of {len}-byte messages differs");
    }
}
