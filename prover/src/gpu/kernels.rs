//! CUDA C source of the prover's GPU kernels, compiled with NVRTC at run time (feature `cuda`).
//!
//! The kernels work on KoalaBear elements in Plonky3's own representation (the Montgomery form
//! `x·2^32 mod p`, one `u32` each), so a matrix moves between host and device as raw words and
//! every result is the unique canonical value the CPU computes: proofs are byte-identical.
//! The constants are generated from the field, not retyped. The source also compiles as plain
//! C++ on the host (`tests/gpu_kernels_on_host.rs`), which checks it against Plonky3's CPU DFT
//! and keccak without a GPU.
//!
//! - `dif_stage`: one radix-2 decimation-in-frequency stage over every column of a row-major
//!   matrix (natural input order, bit-reversed output after all stages).
//! - `bitrev_rows`: a row permutation to bit-reversed order (out of place).
//! - `scale_rows`: row `r` times `factors[r]` (iDFT normalisation and coset shift in one).
//! - `keccak256_many`: keccak-256 of `count` equal-length messages, one thread each.

use p3_field::PrimeField32;

use ctm_core::hash::Felt;

/// Kernel names, in the order the CUDA backend loads them.
pub const KERNELS: [&str; 4] = ["dif_stage", "bitrev_rows", "scale_rows", "keccak256_many"];

/// The field modulus.
pub const P: u32 = Felt::ORDER_U32;

/// `p^-1 mod 2^32` (Montgomery reduction constant), by Newton iteration.
pub const MU: u32 = {
    let mut inv: u32 = 1;
    let mut i = 0;
    while i < 5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(P.wrapping_mul(inv)));
        i += 1;
    }
    inv
};

const BODY: &str = r#"
typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ u32 f_add(u32 a, u32 b) { u32 s = a + b; return s >= P_ ? s - P_ : s; }
__device__ __forceinline__ u32 f_sub(u32 a, u32 b) { return a >= b ? a - b : a + P_ - b; }
// Montgomery product: a·b·2^-32 mod p (Plonky3's monty_reduce).
__device__ __forceinline__ u32 f_mul(u32 a, u32 b) {
    u64 x = (u64)a * b;
    u32 t = (u32)x * MU_;
    u64 u = (u64)t * P_;
    u32 hi = (u32)((x - u) >> 32);
    return x < u ? hi + P_ : hi;
}

#ifdef __CUDACC_RTC__
__device__ __forceinline__ u64 rev_bits(u64 x, u32 bits) { return bits == 0 ? 0 : __brevll(x) >> (64 - bits); }
#else
static u64 rev_bits(u64 x, u32 bits) { u64 r = 0; for (u32 i = 0; i < bits; i++) r = (r << 1) | ((x >> i) & 1); return r; }
#endif

__device__ __forceinline__ u64 thread_index() { return (u64)blockIdx.x * blockDim.x + threadIdx.x; }

// Butterflies of half-size `half` (block length 2·half); twiddle of butterfly j is tw[j·tw_step]
// where tw[k] = ω_n^k. One thread per (butterfly, column); total = n/2 · width.
extern "C" __global__ void dif_stage(u32* a, const u32* tw, u64 width, u64 half, u64 tw_step, u64 total) {
    u64 t = thread_index();
    if (t >= total) return;
    u64 col = t % width, b = t / width;
    u64 j = b % half, blk = b / half;
    u64 i0 = (blk * 2 * half + j) * width + col;
    u64 i1 = i0 + half * width;
    u32 u = a[i0], v = a[i1];
    a[i0] = f_add(u, v);
    a[i1] = f_mul(f_sub(u, v), tw[j * tw_step]);
}

// dst row rev(r) = src row r, for 2^log_n rows. total = n · width.
extern "C" __global__ void bitrev_rows(const u32* src, u32* dst, u64 width, u32 log_n, u64 total) {
    u64 t = thread_index();
    if (t >= total) return;
    u64 col = t % width, row = t / width;
    dst[rev_bits(row, log_n) * width + col] = src[t];
}

// a[r][c] *= factors[r]. total = rows · width.
extern "C" __global__ void scale_rows(u32* a, const u32* factors, u64 width, u64 total) {
    u64 t = thread_index();
    if (t >= total) return;
    a[t] = f_mul(a[t], factors[t / width]);
}

__device__ __constant__ u64 KECCAK_RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
__device__ __constant__ u32 KECCAK_ROT[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

__device__ __forceinline__ u64 rotl(u64 x, u32 n) { return n == 0 ? x : (x << n) | (x >> (64 - n)); }

// Keccak-f[1600] on s[x + 5y].
__device__ void keccak_f(u64* s) {
    for (int round = 0; round < 24; round++) {
        u64 c[5], b[25];
        for (int x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (int x = 0; x < 5; x++) {
            u64 d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5) s[x + y] ^= d;
        }
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], KECCAK_ROT[x + 5 * y]);
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++) s[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
        s[0] ^= KECCAK_RC[round];
    }
}

// out[i] = keccak256(msgs[i·len .. (i+1)·len]) (original Keccak padding 0x01 … 0x80, rate 136).
extern "C" __global__ void keccak256_many(const unsigned char* msgs, u64 len, u64 count, unsigned char* out) {
    u64 i = thread_index();
    if (i >= count) return;
    const unsigned char* m = msgs + i * len;
    u64 s[25];
    for (int k = 0; k < 25; k++) s[k] = 0;
    u64 off = 0;
    // Field rows are whole 32-bit words: read those a word at a time (4-byte aligned, since
    // every message starts at a multiple of len), anything else a byte at a time.
    bool words = len % 4 == 0;
    for (;;) {
        u64 take = len - off < 136 ? len - off : 136;
        if (words) {
            const u32* w = (const u32*)(m + off);
            for (u64 k = 0; k < take / 4; k++) s[k / 2] ^= (u64)w[k] << (32 * (k % 2));
        } else {
            for (u64 k = 0; k < take; k++) s[k / 8] ^= (u64)m[off + k] << (8 * (k % 8));
        }
        off += take;
        if (take < 136) {
            s[take / 8] ^= (u64)0x01 << (8 * (take % 8));
            s[135 / 8] ^= (u64)0x80 << (8 * (135 % 8));
            keccak_f(s);
            break;
        }
        keccak_f(s);
    }
    for (int k = 0; k < 32; k++) out[i * 32 + k] = (unsigned char)(s[k / 8] >> (8 * (k % 8)));
}
"#;

/// The kernel source with the field constants defined.
pub fn source() -> String {
    format!("#define P_ {P}u\n#define MU_ {MU}u\n{BODY}")
}
