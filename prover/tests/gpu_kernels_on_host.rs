//! Checks the prover's CUDA kernel *source* without a GPU: compiled as C++ on the host
//! (`ctm_testkit::cuda_host`), driven with the same stage schedule, twiddles and row factors as
//! `gpu::cuda`, the LDE must equal Plonky3's `Radix2DitParallel` word for word and the keccak
//! kernel must equal `Keccak256Hash` on messages around the sponge's rate. Skips when no C++
//! compiler is installed (`gpu_*` tests check the real device).

use std::fmt::Write as _;

use ctm_core::hash::{Felt, MODULUS};
use ctm_prover::gpu::kernels::source;
use ctm_prover::gpu::{dif_stages, inv_size, monty_words, row_factors, twiddles};
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

/// Input: mode 0 = LDE (h w n, values, inverse twiddles, stages, factors, forward twiddles,
/// stages), mode 1 = keccak (len count, bytes). Output: words / digest bytes, one per line.
const DRIVER: &str = r#"
static u64 rd() { u64 v; if (scanf("%llu", &v) != 1) throw 1; return v; }
static std::vector<u32> rd_vec(u64 n) { std::vector<u32> v(n); for (auto& x : v) x = (u32)rd(); return v; }
static void dif(std::vector<u32>& a, u64 width, u64 rows) {
    std::vector<u32> tw = rd_vec(rows / 2);
    u64 stages = rd();
    for (u64 s = 0; s < stages; s++) {
        u64 half = rd(), step = rd(), total = rows / 2 * width;
        LAUNCH(total, dif_stage(a.data(), tw.data(), width, half, step, total));
    }
}
int main() {
    if (rd() == 0) {
        u64 h = rd(), w = rd(), n = rd(), log_h = 0;
        while ((1ULL << log_h) < h) log_h++;
        std::vector<u32> src = rd_vec(h * w), lde(n * w, 0);
        dif(src, w, h);
        LAUNCH(h * w, bitrev_rows(src.data(), lde.data(), w, (u32)log_h, h * w));
        std::vector<u32> f = rd_vec(h);
        LAUNCH(h * w, scale_rows(lde.data(), f.data(), w, h * w));
        dif(lde, w, n);
        for (u32 x : lde) printf("%u\n", x);
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

fn push_dif(input: &mut String, log_n: usize, inverse: bool) {
    push_words(input, &twiddles(log_n, inverse));
    write!(input, "{} ", log_n).unwrap();
    dif_stages(log_n).for_each(|(half, step)| write!(input, "{half} {step} ").unwrap());
}

fn parse(out: &str) -> Vec<u32> {
    out.lines().map(|l| l.parse().unwrap()).collect()
}

fn check_lde(rng: &mut SmallRng, log_h: usize, width: usize, added_bits: usize, shift: Felt) {
    let h = 1usize << log_h;
    let values: Vec<Felt> =
        (0..h * width).map(|_| Felt::from_u32(rng.random_range(0..MODULUS))).collect();
    let mat = RowMajorMatrix::new(values, width);
    let mut input = format!("0 {h} {width} {} ", h << added_bits);
    push_words(&mut input, &mat.values);
    push_dif(&mut input, log_h, true);
    push_words(&mut input, &row_factors(h, shift, inv_size(log_h)));
    push_dif(&mut input, log_h + added_bits, false);
    let tag = format!("lde-{log_h}-{width}-{added_bits}");
    let Some(out) = cuda_host::run(&tag, &source(), DRIVER, &input) else { return };
    let want = Radix2DitParallel::default()
        .coset_lde_batch(mat, added_bits, shift)
        .bit_reverse_rows()
        .to_row_major_matrix();
    assert_eq!(want.height(), h << added_bits);
    assert!(parse(&out) == monty_words(&want.values), "{tag}: kernel LDE differs from Plonky3's");
}

#[test]
fn lde_kernels_match_plonky3() {
    let mut rng = SmallRng::seed_from_u64(7);
    let g = Felt::GENERATOR;
    check_lde(&mut rng, 1, 3, 1, g);
    check_lde(&mut rng, 4, 5, 0, Felt::ONE);
    check_lde(&mut rng, 6, 7, 1, g);
    check_lde(&mut rng, 8, 4, 3, g / Felt::new(5));
    check_lde(&mut rng, 10, 2, 2, g.inverse());
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
