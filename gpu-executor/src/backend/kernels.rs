//! CUDA C source of the training kernels, compiled with NVRTC at run time.
//!
//! Each kernel is the line-by-line twin of a function of [`super::cpu`] or [`crate::fixed`]:
//! same integer types (`int` = `i32`, `long long` = `i64`), same rounding helpers, the same
//! `2^-t` table (generated from [`crate::fixed::EXP2_TABLE`], not retyped), one thread per output
//! element, each computing one exact sum. Signed `>>` is arithmetic in CUDA as in Rust.

use crate::fixed::{EXP2_TABLE, FRAC, GRAD_MAX, LOG2E, VALUE_MAX};

/// Kernel names, in the order the CUDA backend loads them.
pub const KERNELS: [&str; 6] = [
    "gather_rows",
    "linear_forward",
    "softmax_xent_grad",
    "weight_grad",
    "input_grad",
    "sgd_update",
];

const BODY: &str = r#"
__device__ __forceinline__ long long round_shift(long long x) { return (x + (1LL << (FRAC - 1))) >> FRAC; }
__device__ __forceinline__ long long sat(long long x, long long m) { return x > m ? m : (x < -m ? -m : x); }
__device__ __forceinline__ long long div_round(long long n, long long d) {
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}
__device__ __forceinline__ long long exp2_neg(long long t) {
    long long k = t >> FRAC;
    if (k >= 31) return 0;
    long long f = t & 0xFFFF;
    int idx = (int)(f >> 8);
    long long fr = f & 0xFF;
    long long a = EXP2_TABLE[idx], b = EXP2_TABLE[idx + 1];
    long long v = a - (((a - b) * fr + 128) >> 8);
    return (v + ((1LL << k) >> 1)) >> k;
}

// out[r][c] = src[order[offset + r]][c]
extern "C" __global__ void gather_rows(const int* src, const unsigned* order, int offset,
                                       int* out, int rows, int cols) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= rows * cols) return;
    int r = t / cols, c = t % cols;
    out[t] = src[(long long)order[offset + r] * cols + c];
}

// z[b][o] = sat(round_shift(sum_i x[b][i] * w[i][o] + ONE * w[in][o])), ReLU if relu.
extern "C" __global__ void linear_forward(const int* x, const int* w, int* z, int batch,
                                          int in, int out, int relu) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= batch * out) return;
    int b = t / out, o = t % out;
    long long acc = ONE * (long long)w[(long long)in * out + o];
    for (int i = 0; i < in; i++) acc += (long long)x[b * in + i] * (long long)w[i * out + o];
    long long v = sat(round_shift(acc), VALUE_MAX);
    if (relu && v < 0) v = 0;
    z[t] = (int)v;
}

// One thread per row: g = softmax(z) - onehot(label).
extern "C" __global__ void softmax_xent_grad(const int* z, const int* labels, int* g,
                                             int batch, int classes) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    const int* zr = z + b * classes;
    int* gr = g + b * classes;
    long long m = zr[0];
    for (int j = 1; j < classes; j++) if (zr[j] > m) m = zr[j];
    long long sum = 0;
    for (int j = 0; j < classes; j++) {
        long long e = exp2_neg(round_shift((m - zr[j]) * LOG2E));
        gr[j] = (int)e;
        sum += e;
    }
    for (int j = 0; j < classes; j++) {
        long long p = ((long long)gr[j] * ONE + sum / 2) / sum;
        gr[j] = (int)(p - (j == labels[b] ? ONE : 0));
    }
}

// grad[i][o] = sum_b a[b][i] * g[b][o], with a[b][in] = ONE (bias row).
extern "C" __global__ void weight_grad(const int* a, const int* g, long long* grad, int batch,
                                       int in, int out) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (in + 1) * out) return;
    int i = t / out, o = t % out;
    long long acc = 0;
    for (int b = 0; b < batch; b++) {
        long long av = i == in ? ONE : (long long)a[b * in + i];
        acc += av * (long long)g[b * out + o];
    }
    grad[t] = acc;
}

// gi[b][i] = a[b][i] > 0 ? sat(round_shift(sum_o g[b][o] * w[i][o])) : 0
extern "C" __global__ void input_grad(const int* g, const int* w, const int* a, int* gi,
                                      int batch, int in, int out) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= batch * in) return;
    int b = t / in, i = t % in;
    if (a[t] <= 0) { gi[t] = 0; return; }
    long long acc = 0;
    for (int o = 0; o < out; o++) acc += (long long)g[b * out + o] * (long long)w[i * out + o];
    gi[t] = (int)sat(round_shift(acc), VALUE_MAX);
}

// w = sat(w - div_round(sat(round_shift(grad), GRAD_MAX) * lr, denom))
extern "C" __global__ void sgd_update(int* w, const long long* grad, int n, long long lr,
                                      long long denom) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n) return;
    long long gq = sat(round_shift(grad[t]), GRAD_MAX);
    w[t] = (int)sat((long long)w[t] - div_round(gq * lr, denom), VALUE_MAX);
}
"#;

/// The complete CUDA source: constants and the `2^-t` table, then the kernels.
pub fn source() -> String {
    let table: Vec<String> = EXP2_TABLE.iter().map(|v| format!("{v}LL")).collect();
    format!(
        "#define FRAC {FRAC}\n#define ONE (1LL << FRAC)\n#define VALUE_MAX {VALUE_MAX}LL\n\
         #define GRAD_MAX {GRAD_MAX}LL\n#define LOG2E {LOG2E}LL\n\
         __constant__ long long EXP2_TABLE[{}] = {{{}}};\n{BODY}",
        EXP2_TABLE.len(),
        table.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_defines_every_kernel_and_the_table() {
        let src = source();
        for k in KERNELS {
            assert!(src.contains(&format!("void {k}(")), "{k}");
        }
        assert!(src.contains("= {65536LL, "));
        assert!(src.contains("32768LL}"));
    }
}
